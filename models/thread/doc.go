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
// wrk -t1 or c10k load on CPU 1, 4 s runs, median of 3 (one run at 10k).
// Measured while other people compiled on the same 2-core box (load
// average 5 to 39): req/s and busy share swing 2x between runs and
// between passes; CPU and context switches per request are steadier.
// Rerun the script on a quiet machine for the report. us: server CPU per
// request; cs: the server's voluntary context switches per request.
//
// First pass, wrk, every candidate (the Ps bound then 256):
//
//	mechanism                     C=10                  C=100                 C=1000
//	                              req/s busy  us   cs   req/s busy  us   cs   req/s busy  us   cs
//	block (the old model)         14.5k 57%   40  0.34  17.9k 56%   36  0.31   6.0k 53%   98  0.68
//	procs (256 Ps)                20.4k 57%   30  0.17  41.1k 70%   18  0.06  19.2k 90%   55  0.03
//	handoff (one P)               21.7k 88%   44  1.02  22.7k 73%   35  1.00   2.7k 36%  165  1.35
//	unlocked (handoff, goroutine  14.0k 45%   34  0.35  29.7k 88%   30  0.04   4.9k 48%  109  0.17
//	  not locked while serving)
//	procs-handoff (256 Ps)        39.8k 86%   23  0.48  34.7k 85%   27  0.03  16.0k 87%   53  0.02
//	Apache worker                  9.4k 82%   95  0.12  10.3k 94%   97  0.12   4.2k 81%  264  0.61
//
// At 10,000 connections, the 256 Ps undid it: procs-handoff 4.3k req/s at
// 692 us a request (handoff 12.3k at 88 us), and the GC's stop-the-world
// pauses, while the 10,000 connections opened, took 53 ms (median; 126 ms
// at worst) against 0.05 ms with one P: every stop must stop every P, each
// on a thread the kernel has to run first. Procs alone (545 ms at worst)
// and block (accept(2) waits on sysmon too) never got all 10,000 open
// within the script's minute.
//
// Final pass, the default with 8 Ps per CPU against the two it combines:
//
//	mechanism       client  C=10             C=100            C=1000           C=10k (1 run)
//	                        req/s busy us cs req/s busy us cs req/s busy us cs req/s busy us  cs
//	procs-handoff   wrk      5.8k 34% 61 .97  3.5k 15% 57 .73 21.2k 98% 53 .02 13.0k 96%  88 .16
//	handoff         wrk     14.2k 72% 55 1.05 4.2k 24% 68 1.2 21.4k 98% 51 .01 15.8k 97%  74 .08
//	block           wrk     11.6k 59% 57 .40  4.6k 21% 52 .44 22.9k 72% 35 .21   -
//	procs-handoff   load     8.7k 33% 63 .88 22.9k 56% 31 .53 18.2k 82% 58 .20 11.5k 96% 176 .12
//	handoff         load     7.5k 37% 76 1.19 13.7k 59% 52 1.1 21.2k 87% 51 .04 14.0k 96% 153 .09
//	block           load     7.5k 25% 69 .51 24.6k 63% 31 .23 26.2k 68% 33 .19   -
//
// p99 at C=1000, wrk: procs-handoff 895 ms, handoff 878 ms, block 1590 ms.
// Per idle connection at 10,000 (PSS delta, threads): procs-handoff 21.1
// KiB and 1.00 thread, handoff 21.1 KiB and 1.00 (the old model: 21.1 KiB
// by RSS in ANCHORS.md), so the mechanism costs no memory per connection;
// GC stop-the-world while they opened: procs-handoff 4.8 ms
// median, 7.7 ms at worst, handoff 0.05 and 0.12 ms.
//
// The choice, procs-handoff with 8 Ps per CPU: the old model leaves the CPU
// idle while threads wait on sysmon (block: 53-72% busy at C=1000, where
// the others reach 82-98%). The hand-off alone frees it but adds a
// wake-up per request (about one more context switch than block at C<=100)
// and, when a thread wakes without a P, a hand-over between two threads.
// Spare Ps remove most of both (cs per request 0.5-0.97 against 1.05-1.35
// at C<=100; less CPU per request in 5 of 6 pairs there, about the same at
// 1000, 15% more at 10k), and a small bound keeps the 10k cost near the
// hand-off's. The price is GC pauses of a few ms at 10k,
// measured under contention; C10K_THREAD_MAXPROCS=1 turns the default into
// plain handoff, for the quiet-machine rerun to confirm the choice. A
// first pass also tried reading with MSG_DONTWAIT before handing off, to
// skip the hand-off when the next request already waits; it did not
// clearly help and is not kept.
//
// What the runtime still adds over a kernel thread: the scheduler lock
// and idle-P list on every blocking read, a spare thread or so per P, a g
// and its stack per connection, and stop-the-world pauses that grow with
// the Ps.
//
// C10K_THREAD_MECH selects another candidate (block, procs, handoff,
// unlocked) and C10K_THREAD_MAXPROCS the bound, for the comparison only;
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
// limits.go.
//
// With -upstream the thread makes a request's backend calls itself, one
// after another, blocked in read(2) on each pooled backend socket in turn
// (proxy.go): a thread cannot wait on two sockets, so K calls take K
// backend waits, and overlapping them would take more threads.
package thread
