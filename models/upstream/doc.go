// Package upstream is what the models share when they proxy: the
// backends a server sends its requests to, resolved once; the GET each
// backend receives, built once; the keep-alive pool of idle backend
// connections; and the framing check of a backend's answer, with the
// status the client gets when a backend fails (502, or 504 on timeout).
//
// How a model waits for its backends is its own business and stays in its
// package: a blocked thread calls them one after another, goroutines
// gather on a WaitGroup, the event loop counts answers still to come. What
// is here is only bookkeeping, so that the three do the same work per
// request and the benchmark compares their waiting, nothing else.
//
// The pool works like nginx's "upstream keepalive": a call takes an idle
// connection when there is one and opens a new one when there is none;
// after a complete keep-alive answer the connection goes back to the pool,
// unless the pool already keeps MaxIdle idle connections to that backend,
// in which case it is closed. A connection that failed, or whose answer
// said "Connection: close", is closed.
//
// Answers are framed with wire.ParseResponse: Content-Length bodies (what
// `c10k serve` sends) up to MaxResponse bytes. Anything else (a bad status
// line, chunked encoding, an answer that never ends) is ErrMalformed and a
// 502, never a crash.
package upstream
