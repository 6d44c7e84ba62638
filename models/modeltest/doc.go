// Package modeltest is the conformance suite every c10k server model must
// pass, so that the benchmark compares models that do the same work.
//
// Run checks the wire behaviour byte by byte with raw TCP clients:
// keep-alive, pipelining, Connection: close, HTTP/1.0, error statuses
// followed by a close, requests split over many writes, slowloris
// connections that must not starve others, and the per-request knobs of
// server.Config (Wait, Work, BodySize). Every client connection carries a
// deadline, so a broken server fails a check instead of hanging the test.
//
// The proxy checks start in-process upstreams (backend.go) and run every
// model as a reverse proxy: the keep-alive pool is reused, calls fan out
// round-robin, pipelined proxied requests keep their order, and upstreams
// that are down, silent past the timeout, sending garbage or closing
// mid-body get 502 or 504 while the other connections are served. A model
// passes OverlapsFanout to Run when its K calls run at once; without it
// the suite expects them one after another.
//
// RunFDExhaustion and ServeChild test the one path a single process cannot
// test on itself: running out of file descriptors. The model's test binary
// re-executes itself as a child with RLIMIT_NOFILE at 64, and the parent
// checks that the child neither spins a core nor drops the connections it
// holds, and that it accepts again once descriptors are freed.
//
// A model's test file needs a few lines:
//
//	func TestConformance(t *testing.T) {
//		modeltest.Run(t, func(t *testing.T, cfg server.Config) server.Server {
//			s, err := mymodel.New(cfg)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
//	func TestHelperServe(t *testing.T) {
//		modeltest.ServeChild(t, func(cfg server.Config) (server.Server, error) { return mymodel.New(cfg) })
//	}
//
//	func TestFDExhaustion(t *testing.T) { modeltest.RunFDExhaustion(t, "TestHelperServe") }
package modeltest
