// Package thread is the thread-per-connection model: every connection gets
// its own OS thread, which blocks in read(2) and write(2) on a blocking
// socket, as Apache's worker MPM and classic Java servers do.
//
// Go has no API to start a thread, so the model makes one the Go way: each
// connection's goroutine calls runtime.LockOSThread and never unlocks. A
// blocking system call on a locked goroutine blocks its thread, so each
// idle connection pins one thread in the kernel, with its kernel stack and
// its g0 stack. When the goroutine returns still locked, the runtime
// terminates that thread, so the thread lives and dies with its connection
// and the process's Threads: count in /proc/PID/status follows the
// connection count one for one. That is the cost the benchmark shows.
//
// # Keeping Go's scheduler out of the way
//
// A thread runs Go code only while it holds a P, and there are GOMAXPROCS
// of them: one, when the harness pins the server to one CPU. A thread that
// enters read(2) the ordinary way keeps its P, and a thread that wakes with
// a request must wait until sysmon takes that P back, 20 us to 10 ms later.
// The CPU then sat idle 28% of the time while 100 clients waited (issue
// 15), so the model measured Go's scheduler, not threads. A C server has
// no such slot: the kernel runs whichever thread is ready.
//
// The model now does two things (mechanism.go, the default ProcsHandoff):
//   - read(2) and accept(2) give the P up as they enter the kernel, with
//     the runtime's own runtime.entersyscallblock, as its blocking sleeps
//     do (handoff.go says what that asks of the caller). write(2) keeps
//     the ordinary call: it rarely blocks.
//   - GOMAXPROCS grows with the connection threads, in doubling steps (each
//     change stops the world), up to 8 per CPU (procs.go). With a spare P,
//     a thread that blocks parks its P on the idle list and wakes nobody;
//     with one P only, the hand-off wakes a thread to look for work on
//     every blocking read, and a thread that wakes without a P needs two
//     wake-ups (an idle thread takes the P, finds the goroutine locked to
//     another and wakes that one). Many Ps cost more than they give: on
//     one CPU every stop of the world must stop every P, each on a thread
//     the kernel runs first.
//   - A goroutine waits in the network poller for the server's life, on a
//     pipe that never receives a byte (poller.go). When a read hands off
//     the last running P, the runtime wakes a thread "to poll the network"
//     unless one already sits in epoll_wait; that thread finds nothing and
//     sleeps again, two context switches on top of the read's own. The
//     parked goroutine keeps one thread in epoll_wait instead.
//   - The acceptor accepts without giving up its P while the backlog holds
//     connections (a non-blocking listener) and sleeps in ppoll(2), P
//     handed off, only when it is empty. A blocking accept(2) with the
//     hand-off sent the acceptor to the back of the queue for a P after
//     every connection: with a few hundred connection threads busy it took
//     about 50 connections a second, and in the reference run 730 of the
//     1,000 connections at C=1k sat in the backlog for the whole level.
//
// # The candidates, measured (scripts/measure-thread.sh)
//
// The parked poller, with the acceptor fix in both rows, on a 2-vCPU AMD
// EPYC KVM guest (3 s runs, median of 3; cs: voluntary context switches
// per request; MECHS="procs-handoff procs-handoff-bare apache" RUNS=3
// DURATION=3 scripts/measure-thread.sh all):
//
//	wrk -t1               C=10                  C=100                 C=1000                C=10k
//	                      req/s  busy us   cs   req/s  busy us   cs   req/s  busy us   cs   req/s busy us   cs
//	procs-handoff         56.3k  98%  18  0.07  31.0k  99%  32  0.84  20.1k  99%  52  0.08  8.2k  99% 149  1.14
//	procs-handoff-bare    43.7k  98%  23  0.61  33.4k  99%  30  0.76  18.7k  99%  56  0.02  8.8k  99% 141  0.31
//	Apache worker         12.7k  98%  81  0.54  12.9k  98%  78  0.48  11.0k  95%  93  0.59  8.4k  81% 107  0.92
//	c10k load
//	procs-handoff         61.5k  93%  16  0.06  32.5k  94%  31  0.98  16.9k  97%  64  1.03  9.2k  90% 177  0.19
//	procs-handoff-bare    43.4k  94%  23  0.53  32.7k  94%  31  0.91  17.2k  97%  62  1.01  8.9k  98% 168  1.58
//	Apache worker         13.2k  94%  75  0.25  12.3k  93%  82  0.26  12.1k  92%  84  0.37  7.0k  32% 170  1.69
//
// p99, wrk, procs-handoff: 5.5 / 7.0 / 100 / 1640 ms (before the acceptor
// fix, 867 ms at C=1k: most connections waited in the backlog). The
// poller pays at low concurrency, where the last P goes idle on most
// reads: at C=10, 29% more requests for 25% less CPU each and a tenth of
// the context switches. At C=1 (single runs) it took the switches from 1.5
// to 0.65 and the CPU from 36 to 28 us a request. Above that the Ps stay
// busy and the two rows agree within the runs' spread. Per idle connection
// at 10,000: 20.6 KiB PSS (21,130 and 21,105 B) and 1.00 thread for both; the poller costs one
// goroutine, one pipe and the one thread asleep in epoll_wait, whatever
// the connection count. At every level up to 10k the thread model now
// switches about once a request or less: its read's block and wake-up.
//
// The earlier pass, before the poller and the acceptor fix, on another
// session's CPU (4 s runs):
//
// Server pinned to CPU 0 with GOMAXPROCS unset (as the harness runs it),
// the client on CPU 1, 4 s runs, median of 3 (one run at 10k), on a quiet
// 2-vCPU KVM guest. busy: server CPU time over wall time; us: server CPU
// per request; cs: voluntary context switches per request, all threads.
//
//	wrk -t1           C=10                    C=100                    C=1000                   C=10k (1 run)
//	                  req/s  busy  us   cs    req/s  busy  us   cs     req/s  busy  us   cs     req/s  busy  us   cs
//	procs-handoff     47.9k  95%   20  0.69   54.8k  96%   18  0.16   24.2k  98%   45  0.01   14.7k  97%   76  0.05
//	handoff (one P)   30.2k  97%   33  1.01   19.3k  97%   52  0.95   23.9k  98%   45  0.01     -
//	block (the old)   19.4k  87%   46  0.28   17.5k  86%   51  0.31   20.9k  71%   38  0.27   20.6k  73%   41  0.27
//	Apache worker     10.7k  93%   93  0.09   10.0k  93%  100  0.14    8.3k  84%  137  0.22    6.9k  79%  171  0.40
//
// p99 with wrk: procs-handoff 3.6 / 48 / 932 / 151 ms at C=10 / 100 / 1k /
// 10k, block 73 / 665 / 1350 / 572 ms, Apache worker 43 / 331 / 1150 /
// 841 ms. With c10k load as the client, procs-handoff served 47.2k, 55.4k
// and 24.2k req/s at C=10, 100 and 1k (block: 23.6k, 23.2k). An earlier
// pass under heavy contention also tried 256 Ps: at 10,000 connections the
// garbage collector's stop-the-world pauses grew to 53 ms (126 ms at
// worst), since every stop must stop every P, each on a thread the kernel
// has to run first; hence the bound of 8 per CPU (4.8 ms median there).
// Per idle connection at 10,000 (PSS delta, threads): 21.1 KiB and 1.00
// thread for procs-handoff and handoff alike, as before the change: the
// mechanism costs no memory per connection.
//
// The choice, procs-handoff with 8 Ps per CPU: the old model leaves the CPU
// idle while threads wait on sysmon (71-87% busy). The hand-off alone frees
// the CPU but adds a wake-up per request (about one context switch per
// request at C<=100) and, when a thread wakes without a P, a hand-over
// between two threads, so it spends more CPU per request. Spare Ps remove
// most of both: the kernel runs the woken thread, which finds an idle P.
// At 10k connections the block model spends less CPU per request, but it
// leaves a quarter of the CPU idle and its p99 is four times as long.
// A first pass also tried reading with MSG_DONTWAIT before handing off, to
// skip the hand-off when the next request already waits; it did not
// clearly help and is not kept.
//
// What the runtime still adds over a kernel thread: the scheduler lock
// and idle-P list on every blocking read, a spare thread or so per P, a g
// and its stack per connection, and stop-the-world pauses that grow with
// the Ps.
//
// C10K_THREAD_MECH selects another candidate (block, procs, handoff,
// unlocked, procs-handoff-bare) and C10K_THREAD_MAXPROCS the bound, for the comparison only;
// the harness sets neither.
//
// -wait is a time.Sleep on the connection's thread: the locked goroutine
// parks and its thread sleeps with it, one blocked thread per waiting
// request, like a thread blocked on a backend call. -work burns CPU on that
// thread.
//
// Threads are a resource the process can run out of in ways Go cannot
// recover from: past debug.SetMaxThreads (10,000 by default) or when the
// kernel refuses clone, the runtime aborts the whole process. The model
// raises the Go limit to what the machine allows and refuses connections
// (accepts and closes them, with a log line) before it gets near it; see
// limits.go. Those limits are the machine's (threads-max, pid_max), so
// running the model as N processes on one port (server.Config.Procs, c10k
// serve -procs) does not raise them: each process takes 1/N of what is
// left. What N processes do raise is the per-process descriptor limit,
// which on a box whose RLIMIT_NOFILE is below pid_max is the model's
// first wall.
//
// With -upstream the thread makes a request's backend calls itself, one
// after another, blocked in read(2) on each pooled backend socket in turn
// (proxy.go): a thread cannot wait on two sockets, so K calls take K
// backend waits, and overlapping them would take more threads.
package thread
