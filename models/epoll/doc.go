// Package epoll is the event-loop model: one loop on one OS thread serves
// every connection, with raw epoll underneath (internal/eventloop), the way
// nginx's worker and Redis serve theirs.
//
// What it shows in the benchmark: an idle connection costs a Conn struct
// and a slot in the fd table (no thread, no stack, no buffer), and a
// request that waits on backend I/O costs a timer, not a blocked thread.
// What it pays for that: all the CPU work of every connection runs on one
// core. -work burns on the loop thread on purpose, to show that ceiling.
//
// Running out of file descriptors is a designed path: accepting stops, is
// retried on a timer or when a connection closes, and the connections
// already held keep being served.
//
// With -upstream the backend sockets are Conns of the same loop, connected
// without blocking; a request is an exchange that counts the answers still
// to come and answers the client when the count reaches zero, with one
// loop timer for the timeout (proxy.go): gather inside the loop.
package epoll
