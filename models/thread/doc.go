// Package thread is the thread-per-connection model: every connection gets
// its own OS thread, which blocks in read(2) and write(2) on a blocking
// socket, as Apache's worker MPM and classic Java servers do.
//
// Go has no API to start a thread, so the model makes one the Go way: each
// connection's goroutine calls runtime.LockOSThread and never unlocks. A
// blocking system call on a locked goroutine blocks its thread; the
// scheduler hands the P to another thread, so each idle connection pins one
// thread in the kernel, with its kernel stack and its g0 stack. When the
// goroutine returns still locked, the runtime terminates that thread, so
// the thread lives and dies with its connection and the process's Threads:
// count in /proc/PID/status follows the connection count one for one. That
// is the cost the benchmark shows.
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
