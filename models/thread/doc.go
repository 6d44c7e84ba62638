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
//
// # The candidates, measured (scripts/measure-thread.sh)
//
// Server pinned to CPU 0 with GOMAXPROCS unset (as the harness runs it),
// wrk -t1 on CPU 1, 4 s runs, median of 3. Measured while other people
// compiled on the same 2-core box (load average 5-28): req/s and busy
// share swing by 2x between runs; CPU and context switches per request
// are the steadier figures. Rerun the script on a quiet machine for the
// report. cs: voluntary context switches of the server per request.
//
//	mechanism                      C=10                   C=100                  C=1000
//	                               req/s  busy us/req cs  req/s  busy us/req cs  req/s  busy us/req cs
//	block (the old model)          14.5k  57%  40   0.34  17.9k  56%  36   0.31   6.0k  53%  98   0.68
//	procs, up to 256 Ps            20.4k  57%  30   0.17  41.1k  70%  18   0.06  19.2k  90%  55   0.03
//	handoff, one P                 21.7k  88%  44   1.02  22.7k  73%  35   1.00   2.7k  36% 165   1.35
//	unlocked (handoff, goroutine   14.0k  45%  34   0.35  29.7k  88%  30   0.04   4.9k  48% 109   0.17
//	  not locked while it serves)
//	procs-handoff, up to 256 Ps    39.8k  86%  23   0.48  34.7k  85%  27   0.03  16.0k  87%  53   0.02
//	Apache worker                   9.4k  82%  95   0.12  10.3k  94%  97   0.12   4.2k  81% 264   0.61
//
// At 10,000 connections (one run each) and 10,000 idle ones:
//
//	mechanism            C=10k wrk: req/s us/req  per idle conn: PSS  threads  GC stop-the-world, median / max
//	block                0 (the 10k never all opened: accept waits on sysmon too)
//	procs, 256 Ps         7.9k  226                  -                 545 ms max, the 10k never all opened
//	handoff, one P       12.3k   88               21.1 KiB  1.00       0.05 / 0.12 ms
//	procs-handoff, 256   4.3k  692                24.7 KiB  1.02       53 / 126 ms
//	Apache worker         3.4k  239
//
// So: with one P the hand-off alone frees the CPU (busy 88% at C=10) but
// pays a thread wake-up per request and more CPU per request than the old
// model; many Ps alone remove the wake-ups but bring sysmon back past the
// bound and make every GC stop hundreds of Ps (53 ms pauses at 10k);
// together, with a small bound, a blocking read frees its P without waking
// anyone and GC stays a one-CPU affair. A first pass also tried reading
// with MSG_DONTWAIT before handing off, to skip the hand-off when the next
// request is already waiting; it did not clearly help and is not kept.
//
// What the runtime still adds over a kernel thread: the hand-off's
// scheduler lock and P list on every blocking read, a spare thread or two
// per P, and the cost of a g and its stack per connection.
//
// C10K_THREAD_MECH selects another candidate (block, procs, handoff,
// unlocked) and C10K_THREAD_MAXPROCS the bound, for the comparison only.
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
// limits.go.
package thread
