// Package eventloop is a small single-threaded event loop on epoll, shaped
// like Redis's ae: a poller that is the only code touching epoll
// (poller.go), a heap of timers whose nearest deadline is the wait timeout
// (timer.go), a loop with its handlers in a table indexed by fd (loop.go),
// and connections that hand their bytes to a protocol and take its answers
// (conn.go, asyncio's transports and protocols).
//
// It exists so that the epoll server model and the load generator share one
// loop instead of two copies. Both are protocols: the HTTP server answers
// requests, the load generator's client sends them and reads the answers.
//
// The memory rule behind it is the C10K one: an idle connection owns no
// buffer. The loop has one read buffer for all its connections; a Conn
// keeps input only while its protocol has left a partial request
// unconsumed, and output only while the socket refuses it. An idle Conn is
// its struct (128 bytes) plus a 24-byte slot in the loop's fd table.
//
// A protocol that cannot answer yet keeps its place in the stream with
// Conn.ResumeAfter (pause reading, run OnData again on the retained input
// after a delay: the server's -wait) or Pause and Resume; it ends a
// connection with Close, or with CloseAfterFlush once its last answer is
// out (errors, "Connection: close").
//
// Everything runs on the goroutine that called Run, locked to its OS
// thread; only Post and Stop may be called from elsewhere, and Post is how
// another goroutine hands the loop work.
package eventloop
