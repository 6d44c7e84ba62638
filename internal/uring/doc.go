// Package uring is a small pure-Go binding of Linux io_uring, on
// golang.org/x/sys/unix and nothing else (no cgo): what models/uring's
// loop needs and no more. It sets a ring up (io_uring_setup) with the
// newest flags the kernel grants, maps its submission and completion
// queues, prepares the few operations the loop uses (multishot accept
// and receive, send, close, poll, timeouts, connect, cancel), submits and
// waits in one io_uring_enter, and registers rings of provided buffers
// (io_uring_register PBUF_RING) for receives that take a buffer only
// when data arrives.
//
// Why our own. The maintained pure-Go libraries (godzie44/go-uring,
// pawelgaczynski/giouring, iceber/iouring-go) are not dependencies this
// module may take (x/sys is the one system package it allows), and each
// carries far more than a loop of five operations needs. liburing's
// headers and queue.c are the reference for the ABI and the memory
// ordering; ring.go states the contract.
//
// The binding needs Linux 6.0 (multishot receive). Available tells,
// once per process, whether this machine can run it, and every error
// that means it cannot (ENOSYS, EPERM, kernel.io_uring_disabled, an old
// kernel) wraps ErrUnavailable.
package uring
