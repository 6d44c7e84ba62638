// Package wire is the HTTP/1.1 subset every c10k server speaks, and that the
// load generator reads back.
//
// Every model does exactly the same work per request: Parse frames one
// request out of the bytes a connection has received, and a Responder
// appends the canned answer to an output buffer. Keeping this in one package
// is what makes the models comparable: the differences in the plots come
// from how each model schedules connections, not from what it does with them.
//
// The subset: a request line, headers, Content-Length bodies (read and
// discarded), keep-alive by default for HTTP/1.1, "Connection: close",
// HTTP/1.0 closing unless it asks for keep-alive, and pipelining (the caller
// calls Parse again on what is left). Bad input maps to a status that the
// caller sends before closing: malformed requests get 400, a head over
// MaxHeaderBytes gets 431, a request body over MaxBodyBytes gets 413, a
// Transfer-Encoding (chunked or otherwise) gets 501 and an HTTP major version
// other than 1 gets 505.
//
// The client side reads answers back. ParseResponse frames a whole
// Content-Length answer in a buffer (what the models' proxies and tests
// need); ResponseReader frames any HTTP/1.1 answer from bytes arriving in
// pieces, as the load generator must: Content-Length, chunked with
// extensions and trailers, close-delimited, interim 1xx answers skipped,
// and HEAD, 204 and 304 without a body. Its errors say which part was
// wrong ("bad chunk size line"), and every one wraps ErrMalformedResponse.
//
// Nothing here allocates per request: Parse only slices the caller's buffer
// and the responses are prebuilt, apart from a Date header that is refreshed
// at most once a second, as nginx does.
package wire
