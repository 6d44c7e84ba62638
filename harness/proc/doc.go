// Package proc starts the processes the harness measures (servers, the load
// generator) and stops them without leaving anything behind.
//
// Two things here are easy to get wrong, so they live in one place:
//
// Pinning. sched_setaffinity on a PID pins one thread only; threads the
// process already has keep their mask. A child must therefore be pinned
// before it execs, so its first thread carries the mask and every thread
// and process it later creates inherits it. [Start] does this by forking
// from a dedicated, permanently locked OS thread whose own mask is set to
// the child's CPU list just before the fork: Linux copies the forking
// thread's mask into the child. The thread stays locked for the life of
// the harness because Pdeathsig is tied to the thread that forked, not to
// the process: were the thread to exit, the kernel would kill the child.
//
// Stopping. Every child leads its own process group (Setpgid), so nginx's
// workers and Apache's children, which inherit the group, are signalled
// with it: [Process.Stop] sends SIGTERM to the group, then SIGKILL after a
// grace period. The leader is observed exiting with waitid(WNOWAIT) and is
// reaped only after the group has been killed: an unreaped zombie keeps
// its PID, and with it the group ID, from being reused by an unrelated
// process while the group is still being signalled.
//
// The one case this package cannot clean up fully is the harness itself
// being killed with SIGKILL, which cannot be caught: Pdeathsig then kills
// each direct child, but a grandchild (an nginx worker, an Apache child)
// outlives its master unless it notices the master's death by itself.
// Ctrl-C and SIGTERM are caught by `c10k bench`, which stops every group.
package proc
