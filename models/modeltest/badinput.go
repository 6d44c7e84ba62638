package modeltest

import (
	"fmt"
	"strings"
)

// badInputs are requests that can never be framed, with the status a
// server must answer before it closes.
var badInputs = []struct {
	name   string
	req    string
	status int
}{
	{name: "garbage gets 400", req: "\x00\x01\x02 garbage\r\n\r\n", status: 400},
	{name: "bad header line gets 400", req: "GET / HTTP/1.1\r\nno colon here\r\n\r\n", status: 400},
	{name: "header over 8 KiB gets 431", req: "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 9<<10) + "\r\n\r\n", status: 431},
	{name: "endless request line gets 431", req: "GET /" + strings.Repeat("a", 9<<10), status: 431},
	{name: "chunked gets 501", req: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", status: 501},
	{name: "body over 1 MiB gets 413", req: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", status: 413},
	{name: "http/2 gets 505", req: "GET / HTTP/2.0\r\n\r\n", status: 505},
	{name: "bad input after a good request", req: get("/good", "") + "BAD\r\n\r\n", status: 400},
}

func badInputChecks() []check {
	var cs []check
	for _, b := range badInputs {
		cs = append(cs, check{name: b.name, run: func(r *running) error {
			return checkBadInput(r, b.req, b.status)
		}})
	}
	return cs
}

// checkBadInput sends req, expects the error status with a close, and then
// a normal request on a new connection: one bad client must not hurt others.
func checkBadInput(r *running, req string, status int) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	if err := c.send(req); err != nil {
		return err
	}
	if strings.HasPrefix(req, "GET /good ") {
		resp, err := c.read()
		if err != nil {
			return fmt.Errorf("good request before the bad one: %w", err)
		}
		if err := expectOK(resp, r.cfg.BodySize, true); err != nil {
			return fmt.Errorf("good request before the bad one: %w", err)
		}
	}
	resp, err := c.read()
	if err != nil {
		return err
	}
	if resp.Status != status {
		return fmt.Errorf("status %d, want %d (response %q)", resp.Status, status, abbrev(resp.raw))
	}
	if resp.KeepAlive {
		return fmt.Errorf("error response without Connection: close: %q", abbrev(resp.raw))
	}
	if err := c.expectClosed(); err != nil {
		return fmt.Errorf("after the %d: %w", status, err)
	}
	return checkKeepAlive(r)
}
