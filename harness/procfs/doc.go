// Package procfs samples processes and the machine from the outside, by
// reading Linux /proc, for the c10k benchmark harness.
//
// The servers under test are written in different languages and
// concurrency models (thread-per-connection, goroutine-per-connection,
// epoll loop, nginx, Apache), so none of them can be asked to report their
// own cost in a comparable way. Reading /proc instead measures all of them
// with the same ruler and without touching the server's code or adding
// work to its hot path.
//
// # Process trees
//
// nginx and Apache run as a master plus worker processes, and a server may
// fork helpers, so a single PID undercounts. [SampleTree] starts from a
// root PID (the process the harness launched) and sums over the root and
// all of its descendants. Descendants are found through
// /proc/PID/task/TID/children when the kernel provides it
// (CONFIG_PROC_CHILDREN) and the process has few threads; otherwise by one
// scan of the ppid field of every /proc/*/stat, whose cost grows with the
// number of processes on the box rather than with the number of threads in
// the server.
//
// # PSS rather than RSS
//
// RSS counts every resident page a process maps, including pages shared
// with other processes: the code of a forked nginx worker, or copy-on-write
// heap left over from a prefork master. Summing RSS over a process tree
// therefore counts shared pages once per process and overstates the cost of
// multi-process servers. PSS (proportional set size, from
// /proc/PID/smaps_rollup) charges each shared page 1/N to each of its N
// sharers, so the PSS of a tree sums to what the tree really occupies. Both
// are reported; compare servers on PSS.
//
// # Cost and accuracy
//
// A sample reads only process-level files (stat, status, smaps_rollup, and
// the size of the fd directory) and never walks the /proc/PID/task entries
// of a process with more than a few dozen threads, so sampling a thread-per-connection server with 10,000 threads
// and 10,000 sockets takes a few milliseconds. The one
// thing this gives up is context switches: the kernel reports
// voluntary_ctxt_switches in /proc/PID/status for the thread-group leader
// only, not for the whole process. [SampleTreeAllThreads] pays for a walk
// of every thread to get the full count. Either way, the counts of exited
// threads are lost, so in a server that creates and destroys threads a
// later sample can show fewer switches than an earlier one.
//
// CPU time, in contrast, is process-wide and includes exited threads,
// because /proc/PID/stat reports utime and stime summed over the thread
// group. They are in clock ticks, converted with CLK_TCK = 100: USER_HZ is
// fixed at 100 in the Linux ABI, and Go cannot ask sysconf without cgo.
// The resolution is therefore 10 ms. CPU time of exited child processes that their parent reaped moves
// into the parent's cutime and cstime, reported separately as "reaped".
//
// A process in the tree that exits while it is being read is skipped; the
// root exiting is reported as [ErrNoProcess]. PIDs can be reused, so a
// process that exits and whose PID is immediately reused by an unrelated
// process during a sample may be misattributed; at benchmark sampling
// rates this is negligible.
//
// Parsing is kept apart from file reading so every parser can be tested
// against fixed strings. What a sample returns, [results.Proc],
// [results.Machine] and [results.Env], is declared in harness/results:
// those readings are written verbatim into the results files, so they are
// the schema's, and this package only fills them in.
package procfs
