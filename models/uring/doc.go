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
// Tried and not kept: batching the wait with the kernel's minimum wait
// (IORING_ENTER_EXT_ARG with min_wait_usec, 6.12), so that a pass waits
// for several completions. Asking for 32 within 100 us cut the system
// calls from 0.26 to 0.11 per request at c10k load -c100, but every pass
// that saw fewer completions, which at low concurrency is every pass,
// waited the full 100 us. Asking for half of what the last pass saw (up
// to 32, within 50 us) kept the latency and saved nothing measurable: 0.35
// and 0.38 system calls per request with it, 0.32 and 0.38 without, in
// alternate runs (median of 3 each, one 2-vCPU AMD EPYC guest).
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
