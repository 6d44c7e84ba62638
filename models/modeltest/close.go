package modeltest

import (
	"fmt"
	"net"
	"time"
)

var closeChecks = []check{{name: "close ends connections and stops accepting", run: checkClose}}

// checkClose closes the server under an idle keep-alive connection: the
// connection must be closed too, and the port must refuse new dials.
func checkClose(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	resp, err := c.roundTrip(get("/before-close", ""))
	if err != nil {
		return err
	}
	if err := expectOK(resp, r.cfg.BodySize, true); err != nil {
		return err
	}
	if err := r.stop(); err != nil {
		return err
	}
	if err := c.expectClosed(); err != nil {
		return fmt.Errorf("idle connection after Close: %w", err)
	}
	if nc, err := net.DialTimeout("tcp", r.addr, time.Second); err == nil {
		nc.Close()
		return fmt.Errorf("dial %s after Close succeeded, want refused", r.addr)
	}
	return nil
}
