package modeltest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"time"
)

// Slowloris sizes: enough connections that a model serving them one at a
// time, or with a small fixed pool, cannot answer the probe in time.
const (
	slowHalfRequests = 500
	slowRandomConns  = 200
	slowProbeLimit   = 2 * time.Second
	slowCompleted    = 10 // half requests finished after the probe
)

var slowlorisChecks = []check{{name: "slowloris does not starve others", run: checkSlowloris}}

// checkSlowloris holds connections that sent half a request or random bytes
// and then a prompt answer for a normal request on a fresh connection. It
// then completes a few of the half requests, which the server must have
// kept: a model may not drop a slow client to make room.
func checkSlowloris(r *running) error {
	rng := rand.New(rand.NewPCG(1, 2))
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	half := "GET /slow HTTP/1.1\r\nHost: x\r\n"
	for i := 0; i < slowHalfRequests+slowRandomConns; i++ {
		c, err := net.DialTimeout("tcp", r.addr, ioTimeout)
		if err != nil {
			return fmt.Errorf("slow connection %d: %w", i+1, err)
		}
		conns = append(conns, c)
		if err := c.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
			return err
		}
		msg := []byte(half)
		if i >= slowHalfRequests {
			msg = make([]byte, 16+rng.IntN(500))
			for j := range msg {
				msg[j] = byte(rng.Uint32())
			}
		}
		if _, err := c.Write(msg); err != nil {
			return fmt.Errorf("slow connection %d: write: %w", i+1, err)
		}
	}

	start := time.Now()
	if err := checkKeepAlive(r); err != nil {
		return fmt.Errorf("probe among %d slow connections: %w", len(conns), err)
	}
	if d := time.Since(start); d > slowProbeLimit {
		return fmt.Errorf("probe among %d slow connections took %v, want under %v", len(conns), d, slowProbeLimit)
	}

	for i := 0; i < slowCompleted; i++ {
		c := &client{conn: conns[i], tmp: make([]byte, 16<<10)}
		resp, err := c.roundTrip("\r\n")
		if err != nil {
			return fmt.Errorf("completing half request %d: %w", i+1, err)
		}
		if err := expectOK(resp, r.cfg.BodySize, true); err != nil {
			return fmt.Errorf("completing half request %d: %w", i+1, err)
		}
	}
	return nil
}
