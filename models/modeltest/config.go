package modeltest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"c10k/models/server"
)

// Wait and Work figures. The wait check's bound leaves a model that
// overlaps waits fifteen times the time it needs, and fails one that
// serialises them (20 x 100 ms).
const (
	waitEach     = 100 * time.Millisecond
	waitConns    = 20
	waitMaxTotal = 1500 * time.Millisecond
	workEach     = 2 * time.Millisecond
)

var configChecks = []check{
	{name: "wait overlaps across connections", cfg: func(c *server.Config) { c.Wait = waitEach }, run: checkWait},
	{name: "work is burned per request", cfg: func(c *server.Config) { c.Work = workEach }, run: checkWork},
	{name: "body size 1000", cfg: func(c *server.Config) { c.BodySize = 1000 }, run: checkKeepAlive},
	{name: "body size 0", cfg: func(c *server.Config) { c.BodySize = 0 }, run: checkKeepAlive},
	{name: "body size 100000", cfg: func(c *server.Config) { c.BodySize = 100000 }, run: checkKeepAlive},
}

// checkWait sends one request on each of 20 connections at once. Each must
// take at least the wait, and all of them together well under 20 waits.
func checkWait(r *running) error {
	clients, closeAll, err := dialAll(r.addr, waitConns)
	defer closeAll()
	if err != nil {
		return err
	}
	errs := make([]error, waitConns)
	var wg sync.WaitGroup
	start := time.Now()
	for i, c := range clients {
		wg.Go(func() {
			t0 := time.Now()
			resp, err := c.roundTrip(get(fmt.Sprintf("/wait/%d", i), ""))
			if err == nil {
				err = expectOK(resp, r.cfg.BodySize, true)
			}
			if d := time.Since(t0); err == nil && d < r.cfg.Wait {
				err = fmt.Errorf("answered in %v, before the %v wait", d, r.cfg.Wait)
			}
			if err != nil {
				errs[i] = fmt.Errorf("connection %d: %w", i+1, err)
			}
		})
	}
	wg.Wait()
	total := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if total > waitMaxTotal {
		return fmt.Errorf("%d concurrent requests with a %v wait took %v, want under %v: waits do not overlap",
			waitConns, r.cfg.Wait, total, waitMaxTotal)
	}
	return nil
}

// checkWork requires the burn per request, not per read: three pipelined
// requests take three burns.
func checkWork(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	t0 := time.Now()
	resp, err := c.roundTrip(get("/work", ""))
	if err != nil {
		return err
	}
	if err := expectOK(resp, r.cfg.BodySize, true); err != nil {
		return err
	}
	if d := time.Since(t0); d < r.cfg.Work {
		return fmt.Errorf("one request answered in %v, before the %v of work", d, r.cfg.Work)
	}
	t0 = time.Now()
	if err := c.send(get("/w1", "") + get("/w2", "") + get("/w3", "")); err != nil {
		return err
	}
	if _, err := c.readN(3); err != nil {
		return err
	}
	if d := time.Since(t0); d < 3*r.cfg.Work {
		return fmt.Errorf("three pipelined requests answered in %v, before 3 x %v of work", d, r.cfg.Work)
	}
	return nil
}
