// Package uring is the io_uring model: what came after epoll. One loop on
// one OS thread serves every connection, as in the epoll model, but it
// does not ask the kernel what is ready and then read and write: it keeps
// requests in the kernel and collects what they did.
//
// Per connection there is one multishot receive, armed once, that posts a
// completion whenever data arrives, in a buffer the kernel takes from a
// ring of provided buffers (IORING_REGISTER_PBUF_RING) and the loop gives
// back as soon as it has answered. So an idle connection holds no buffer,
// as in the epoll loop: only a request split across two receives, or
// input that arrives while the connection waits, is copied into memory of
// the connection's, borrowed from a pool. The listener has one multishot
// accept. Every answer a pass produces for a connection goes out in one
// send, and all of a pass's sends, re-arms and closes are submitted by
// the same io_uring_enter that waits for the next completions: one system
// call per loop pass however many connections it served, where epoll
// spends a read, a write and a share of an epoll_wait per request.
//
// The ring is a single-issuer ring with deferred task running
// (IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN, Linux 6.1) where the
// kernel has them, with fallbacks (internal/uring): completion work runs
// when the loop enters, not by interrupting it. There is no SQPOLL
// thread: on a two-core machine it would take the other core.
//
// The wait is batched when many connections are active (batch.go): a
// pass asks the kernel (IORING_ENTER_EXT_ARG, min_wait_usec, 6.12) for
// one completion per 8 connections that sent something in the last
// millisecond, on top of its sends' completions, and takes fewer after
// 50 us. Below 16 active connections it waits for one, as an event loop
// does: there the clients wait for us, and waiting for more only delays
// them (asking for one and a half times the last pass's receives instead,
// at c10k load -c10: 55k req/s against 77k, p50 170 us against 115). The
// batched wait is bounded, so it is made raw, keeping the P.
//
// Server on CPU 0, c10k load on CPU 1, one 2-vCPU AMD EPYC guest, 5 s,
// two runs each, system calls of every server thread by perf stat:
//
//	clients  batched  syscalls/req  us CPU/req  p50        requests/pass
//	1        no       2.28-2.35     28.3-31.4   40-43 us   0.5
//	10       no       0.40-0.46     14.5-13.8   140 us     2.4-2.9
//	100      no       0.31-0.35     16.6-14.3   1.47-1.64 ms  3.4-3.9
//	100      yes      0.11-0.12     11.4-9.6    1.0-1.1 ms 8.6-9.8
//	1000     no       0.37          18.2-18.4   19.3-19.7 ms  3.4
//	1000     yes      0.16-0.22     16.2-16.4   18.7-19.1 ms  4.8-6.6
//
// (C=1 and 10 run the same code either way: too few active connections.
// The rows are from the development build of this code, with its
// constants in environment variables; the figures below from this one.)
// scripts/measure-models.sh syscalls, median of 3: uring 0.115 system
// calls per request, epoll 2.19, nginx 2.09; CPU per request 10.95 us
// against nginx's 16.26 (0.67x); with wrk -t1 -c100, median of 5, 12.37
// us against 15.75 (0.79x).
//
// Tried before and not kept: a batch sized by count alone (32 within
// 100 us) cut system calls to 0.11 but made every pass at low concurrency
// wait the full 100 us; half of the last pass's completions within 50 us
// saved nothing, because the sends' own completions, posted as they are
// submitted, already made up the count.
//
// -wait is a ring timeout per waiting request, the kernel's timer wheel
// instead of the loop's heap; -work burns on the loop thread, to show the
// one-core ceiling. Out of file descriptors, the kernel ends the multishot
// accept with EMFILE; accepting stays off until a connection closes or a
// 25 ms ring timeout fires, so the loop never spins on it.
//
// With -upstream the backend connections are conns of the same ring:
// connect, send and a multishot receive are ring requests; a request is
// an exchange that counts the answers still to come, with one ring
// timeout for its deadline (proxy.go): gather inside the ring.
//
// Where io_uring is unavailable (no kernel support, a kernel older than
// 6.0, kernel.io_uring_disabled, a seccomp filter), New fails with an
// error wrapping ErrUnavailable that says why, and Available reports the
// same without building a server.
package uring
