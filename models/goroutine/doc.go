// Package goroutine is the goroutine-per-connection model, written the way
// Go's best users write a server on the net package: net.Listen, one
// goroutine per accepted connection, plain blocking-style Read and Write.
//
// The blocking is an illusion the runtime keeps up. Underneath, every
// socket is non-blocking and registered with Go's netpoller (epoll on
// Linux, edge-triggered): a goroutine whose Read would block is parked, its
// thread runs other goroutines, and the scheduler's M:N multiplexing wakes
// it when epoll reports the socket readable. So this model is an event loop
// too, GOMAXPROCS of them, with a goroutine stack (8 KiB and up) and a read
// buffer per connection as the price of the sequential code. Comparing it
// with the thread model shows what the runtime saves over one OS thread per
// connection; comparing it with the epoll model shows what the convenience
// costs.
//
// -wait is time.Sleep in the connection's goroutine, which parks it on a
// runtime timer and blocks no thread. -work is server.Burn on whatever
// thread runs the goroutine.
//
// With -upstream a request's K backend calls run at once, K-1 on pooled
// helper goroutines and one on the connection's, gathered with a
// sync.WaitGroup (proxy.go): the goroutine way to wait on several sockets.
package goroutine
