package modeltest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"c10k/models/server"
)

// Proxy figures. fanoutWait is long enough that four overlapped calls
// (about one wait) and four sequential ones (four waits) stay apart on a
// loaded machine; the overlap bound is the best of fanoutTries requests.
// badTimeout is the -upstream-timeout of the bad-upstream checks.
const (
	fanoutK        = 4
	fanoutWait     = 100 * time.Millisecond
	fanoutOverlap  = 5 * fanoutWait / 2
	fanoutTries    = 3
	pipelineWait   = 20 * time.Millisecond
	badTimeout     = 300 * time.Millisecond
	badConcurrency = 4
)

// Capability is something a model does that the suite cannot assume of
// every model; Run takes the model's list.
type Capability int

const (
	// OverlapsFanout: the K backend calls of one request run at once, so
	// the request takes about one backend wait (goroutines, event loops).
	// Without it the suite expects them one after another (a thread).
	OverlapsFanout Capability = iota + 1
)

func (r *running) can(c Capability) bool {
	for _, have := range r.caps {
		if have == c {
			return true
		}
	}
	return false
}

var proxyChecks = []check{
	{name: "proxy answers after the upstream and reuses its connection",
		setup: upstreams(1, 0, backendOK), run: checkProxyReuse},
	{name: "proxy fans out round-robin over the upstreams",
		setup: upstreams(fanoutK, 0, backendOK, backendOK), run: checkProxyRoundRobin},
	{name: "proxy fan-out overlaps or runs in sequence as the model says",
		setup: upstreams(fanoutK, fanoutWait, backendOK), run: checkProxyOverlap},
	{name: "proxied pipeline answered in order",
		setup: upstreams(1, pipelineWait, backendOK), run: checkProxyPipeline},
	{name: "upstream down gets 502", setup: badUpstream(backendDown), run: checkBadUpstream(backendDown, 502)},
	{name: "upstream slower than the timeout gets 504", setup: badUpstream(backendSilent), run: checkBadUpstream(backendSilent, 504)},
	{name: "upstream sending garbage gets 502", setup: badUpstream(backendGarbage), run: checkBadUpstream(backendGarbage, 502)},
	{name: "upstream closing mid-body gets 502", setup: badUpstream(backendMidBody), run: checkBadUpstream(backendMidBody, 502)},
}

// upstreams starts one backend per mode, all with delay, and makes the
// server proxy to them with fanout k.
func upstreams(k int, delay time.Duration, modes ...backendMode) func(t *testing.T, cfg *server.Config) []*backend {
	return func(t *testing.T, cfg *server.Config) []*backend {
		t.Helper()
		var bs []*backend
		for _, m := range modes {
			b, err := startBackend(m, delay)
			if err != nil {
				t.Fatal(err)
			}
			// Registered before the server's cleanup, so it runs after:
			// the server closes its upstream connections first.
			t.Cleanup(b.close)
			bs = append(bs, b)
			cfg.Upstreams = append(cfg.Upstreams, b.addr)
		}
		cfg.Fanout = k
		return bs
	}
}

// badUpstream pairs a bad backend with a good one, so that round-robin
// sends half the requests to each and the check can see the good half
// answered while the bad half fails.
func badUpstream(mode backendMode) func(t *testing.T, cfg *server.Config) []*backend {
	both := upstreams(1, 0, mode, backendOK)
	return func(t *testing.T, cfg *server.Config) []*backend {
		bs := both(t, cfg)
		cfg.UpstreamTimeout = badTimeout
		return bs
	}
}

// requestsSince counts what the backends received after a mark taken
// with requests, so the readiness probe's calls are left out.
func requests(bs []*backend) []int64 {
	n := make([]int64, len(bs))
	for i, b := range bs {
		n[i] = b.requests.Load()
	}
	return n
}

// checkProxyReuse sends three requests on one connection: each is one
// backend call, and the pool keeps using the one backend connection the
// readiness probe opened.
func checkProxyReuse(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	b := r.backends[0]
	before := b.requests.Load()
	for i := range 3 {
		resp, err := c.roundTrip(get(fmt.Sprintf("/proxy/%d", i), ""))
		if err != nil {
			return err
		}
		if err := expectOK(resp, r.cfg.BodySize, true); err != nil {
			return fmt.Errorf("request %d: %w", i+1, err)
		}
	}
	if got := b.requests.Load() - before; got != 3 {
		return fmt.Errorf("upstream got %d requests for 3, want one each", got)
	}
	if got := b.accepted.Load(); got != 1 {
		return fmt.Errorf("upstream accepted %d connections for 4 sequential calls, want 1: the idle connection is not reused", got)
	}
	return nil
}

// checkProxyRoundRobin sends one request with fanout 4 over two backends:
// each gets two calls.
func checkProxyRoundRobin(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	before := requests(r.backends)
	resp, err := c.roundTrip(get("/fanout", ""))
	if err != nil {
		return err
	}
	if err := expectOK(resp, r.cfg.BodySize, true); err != nil {
		return err
	}
	after := requests(r.backends)
	for i := range after {
		if got := after[i] - before[i]; got != fanoutK/2 {
			return fmt.Errorf("upstream %d got %d calls of a %d-way fan-out over 2 upstreams, want %d",
				i+1, got, fanoutK, fanoutK/2)
		}
	}
	return nil
}

// checkProxyOverlap times requests that make four calls to a backend that
// waits 100 ms. Every one takes at least one wait; a model that overlaps
// the calls answers the best of three within 2.5 waits, one that does not
// takes at least four waits every time.
func checkProxyOverlap(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	best := time.Duration(1<<63 - 1)
	for i := range fanoutTries {
		t0 := time.Now()
		resp, err := c.roundTrip(get(fmt.Sprintf("/gather/%d", i), ""))
		d := time.Since(t0)
		if err != nil {
			return err
		}
		if err := expectOK(resp, r.cfg.BodySize, true); err != nil {
			return err
		}
		if d < fanoutWait {
			return fmt.Errorf("answered in %v, before the upstream's %v wait", d, fanoutWait)
		}
		if !r.can(OverlapsFanout) && d < fanoutK*fanoutWait {
			return fmt.Errorf("%d sequential calls of %v answered in %v: a model without OverlapsFanout should take %v",
				fanoutK, fanoutWait, d, fanoutK*fanoutWait)
		}
		best = min(best, d)
	}
	if r.can(OverlapsFanout) && best > fanoutOverlap {
		return fmt.Errorf("%d calls of %v took %v at best, want under %v: the calls do not overlap",
			fanoutK, fanoutWait, best, fanoutOverlap)
	}
	return nil
}

// checkProxyPipeline pipelines three proxied requests whose answers differ
// in their Connection header: they come back in order, and the last one
// closes the connection.
func checkProxyPipeline(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	t0 := time.Now()
	err = c.send(get("/1", "") +
		"GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" +
		get("/3", "Connection: close\r\n"))
	if err != nil {
		return err
	}
	resps, err := c.readN(3)
	if err != nil {
		return err
	}
	if d := time.Since(t0); d < 3*pipelineWait {
		return fmt.Errorf("three pipelined proxied requests answered in %v, before three %v upstream waits", d, pipelineWait)
	}
	for i, want := range []bool{true, true, false} {
		if err := expectOK(resps[i], r.cfg.BodySize, want); err != nil {
			return fmt.Errorf("response %d: %w", i+1, err)
		}
	}
	if strings.Contains(string(resps[0].raw), "Connection:") || !strings.Contains(string(resps[1].raw), "Connection: keep-alive") {
		return fmt.Errorf("responses out of order: first %q, second %q", abbrev(resps[0].raw), abbrev(resps[1].raw))
	}
	return c.expectClosed()
}

// checkBadUpstream sends two rounds of concurrent requests, one per
// connection, to a server proxying to a bad backend and a good one. Half
// the answers must be the bad backend's status and half 200, the 200s
// sooner than the timeout (the bad backend holds nobody else up), and each
// connection must stay usable after a 502 or 504.
func checkBadUpstream(mode backendMode, want int) func(r *running) error {
	return func(r *running) error {
		clients, closeAll, err := dialAll(r.addr, badConcurrency)
		defer closeAll()
		if err != nil {
			return err
		}
		var mu sync.Mutex
		statuses := map[int]int{}
		var errs []error
		for round := range 2 {
			var wg sync.WaitGroup
			for i, c := range clients {
				wg.Go(func() {
					t0 := time.Now()
					resp, err := c.roundTrip(get(fmt.Sprintf("/bad/%d/%d", round, i), ""))
					d := time.Since(t0)
					switch {
					case err != nil:
					case resp.Status == 200:
						err = expectOK(resp, r.cfg.BodySize, true)
						if err == nil && d >= badTimeout {
							err = fmt.Errorf("200 after %v: the bad upstream held up a request to the good one", d)
						}
					case resp.Status != want:
						err = fmt.Errorf("status %d, want %d or 200 (response %q)", resp.Status, want, abbrev(resp.raw))
					case !resp.KeepAlive:
						err = fmt.Errorf("a %d closes the client connection: it should stay usable", want)
					case want == 504 && d < badTimeout:
						err = fmt.Errorf("504 after %v, before the %v timeout", d, badTimeout)
					}
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, fmt.Errorf("round %d connection %d: %w", round+1, i+1, err))
						return
					}
					statuses[resp.Status]++
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				return err
			}
		}
		if statuses[want] != badConcurrency || statuses[200] != badConcurrency {
			return fmt.Errorf("statuses %v over %d requests, want %d x %d and %d x 200 (round-robin over a bad and a good upstream)",
				statuses, 2*badConcurrency, badConcurrency, want, badConcurrency)
		}
		return nil
	}
}

// proxyConfig starts an allocation-free backend and returns a config that
// proxies to it with fanout k.
func proxyConfig(tb testing.TB, k int) server.Config {
	b, err := startBackend(backendOK, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.close)
	cfg := DefaultConfig()
	cfg.Upstreams = []string{b.addr}
	cfg.Fanout = k
	return cfg
}

// NoAllocPerProxiedRequest is NoAllocPerRequest for a server proxying to
// an in-process backend (which allocates nothing per request itself), with
// fanout 1 and 4: the pooled backend calls, and the gather, must not
// allocate either.
func NoAllocPerProxiedRequest(t *testing.T, newServer func(server.Config) (server.Server, error)) {
	for _, k := range []int{1, fanoutK} {
		t.Run(fmt.Sprintf("fanout=%d", k), func(t *testing.T) {
			noAllocs(t, newServer, proxyConfig(t, k))
		})
	}
}

// BenchProxyRoundTrip is BenchRoundTrip through a proxying server, with
// fanout 1 and 4; its allocs/op is the figure that matters.
func BenchProxyRoundTrip(b *testing.B, newServer func(server.Config) (server.Server, error)) {
	for _, k := range []int{1, fanoutK} {
		b.Run(fmt.Sprintf("fanout=%d", k), func(b *testing.B) {
			benchRoundTrip(b, newServer, proxyConfig(b, k))
		})
	}
}
