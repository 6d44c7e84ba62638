package modeltest

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"c10k/models/server"
)

var framingChecks = []check{
	{name: "keep-alive reuse", run: checkKeepAlive},
	{name: "pipelined three in one write", run: checkPipelined},
	{name: "pipelined with request bodies", run: checkPipelinedBodies},
	{name: "deep pipeline of large responses", cfg: bigBody, run: checkDeepPipeline},
	{name: "request split over many writes", run: checkSplitRequest},
	{name: "large request body in pieces", run: checkLargeBody},
	{name: "connection close honoured", run: checkConnectionClose},
	{name: "http/1.0 closes", run: checkHTTP10Closes},
	{name: "http/1.0 keep-alive stays open", run: checkHTTP10KeepAlive},
	{name: "head has no body", run: checkHead},
}

func bigBody(cfg *server.Config) { cfg.BodySize = 4096 }

func checkKeepAlive(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	for i := 0; i < 5; i++ {
		resp, err := c.roundTrip(get(fmt.Sprintf("/reuse/%d", i), ""))
		if err != nil {
			return fmt.Errorf("request %d on one connection: %w", i+1, err)
		}
		if err := expectOK(resp, r.cfg.BodySize, true); err != nil {
			return fmt.Errorf("request %d on one connection: %w", i+1, err)
		}
	}
	return nil
}

// checkPipelined sends three requests in one write, the last asking to
// close: exactly three responses must come back, only the last one closing,
// followed by the close itself. Answering out of order, answering only the
// first request of a read, or answering twice all fail one of these.
func checkPipelined(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	if err := c.send(get("/1", "") + get("/2", "") + get("/3", "Connection: close\r\n")); err != nil {
		return err
	}
	return expectSequence(c, r.cfg.BodySize, 3)
}

// expectSequence reads n responses, all keep-alive but the last, then the close.
func expectSequence(c *client, bodySize, n int) error {
	resps, err := c.readN(n)
	if err != nil {
		return err
	}
	for i, resp := range resps {
		if err := expectOK(resp, bodySize, i < n-1); err != nil {
			return fmt.Errorf("response %d of %d: %w", i+1, n, err)
		}
	}
	return c.expectClosed()
}

func checkPipelinedBodies(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	reqs := "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
		get("/b", "") +
		"POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" +
		// A body that looks like a request must not be answered as one.
		"POST /d HTTP/1.1\r\nHost: x\r\nContent-Length: 18\r\n\r\nGET / HTTP/1.1\r\n\r\n" +
		get("/e", "Connection: close\r\n")
	if err := c.send(reqs); err != nil {
		return err
	}
	return expectSequence(c, r.cfg.BodySize, 5)
}

// checkDeepPipeline asks for about 1 MiB of responses in one write, more
// than the socket buffers hold, so the server must cope with partial or
// blocking writes while the client reads.
func checkDeepPipeline(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	const n = 256
	var b strings.Builder
	for i := 0; i < n-1; i++ {
		b.WriteString(get(fmt.Sprintf("/deep/%d", i), ""))
	}
	b.WriteString(get("/deep/last", "Connection: close\r\n"))
	if err := c.send(b.String()); err != nil {
		return err
	}
	return expectSequence(c, r.cfg.BodySize, n)
}

// checkSplitRequest dribbles a request out in pieces that cut the request
// line, a header and the final CRLF, then sends a second request.
func checkSplitRequest(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	for _, piece := range []string{"GE", "T /spl", "it HTTP/1.", "1\r\nHo", "st: x\r\n", "\r", "\n"} {
		if err := c.send(piece); err != nil {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := c.read()
	if err != nil {
		return err
	}
	if err := expectOK(resp, r.cfg.BodySize, true); err != nil {
		return err
	}
	resp, err = c.roundTrip(get("/after-split", ""))
	if err != nil {
		return fmt.Errorf("request after the split one: %w", err)
	}
	return expectOK(resp, r.cfg.BodySize, true)
}

// checkLargeBody sends a 300 KiB body in three writes: a server that frames
// whole requests must grow past its usual read buffer, and one that reads
// a fixed amount must not mistake body bytes for the next request.
func checkLargeBody(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	const size = 300 << 10
	body := bytes.Repeat([]byte("GET / HTTP/1.1\r\n\r\n"), size/18+1)[:size]
	if err := c.send(fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size)); err != nil {
		return err
	}
	for i := 0; i < 3; i++ {
		if err := c.send(string(body[i*size/3 : (i+1)*size/3])); err != nil {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := c.send(get("/after-upload", "Connection: close\r\n")); err != nil {
		return err
	}
	return expectSequence(c, r.cfg.BodySize, 2)
}

func checkConnectionClose(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	resp, err := c.roundTrip(get("/close", "Connection: close\r\n"))
	if err != nil {
		return err
	}
	if err := expectOK(resp, r.cfg.BodySize, false); err != nil {
		return err
	}
	return c.expectClosed()
}

func checkHTTP10Closes(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	resp, err := c.roundTrip("GET /ten HTTP/1.0\r\n\r\n")
	if err != nil {
		return err
	}
	if err := expectOK(resp, r.cfg.BodySize, false); err != nil {
		return err
	}
	return c.expectClosed()
}

// checkHTTP10KeepAlive also requires the explicit "Connection: keep-alive"
// answer, without which an HTTP/1.0 client assumes the server will close.
func checkHTTP10KeepAlive(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	for i := 0; i < 2; i++ {
		resp, err := c.roundTrip("GET /ten-ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		if err != nil {
			return fmt.Errorf("request %d: %w", i+1, err)
		}
		if err := expectOK(resp, r.cfg.BodySize, true); err != nil {
			return fmt.Errorf("request %d: %w", i+1, err)
		}
		if !bytes.Contains(bytes.ToLower(resp.raw), []byte("\r\nconnection: keep-alive\r\n")) {
			return fmt.Errorf("request %d: response lacks Connection: keep-alive: %q", i+1, abbrev(resp.raw))
		}
	}
	return nil
}

// checkHead pipelines a HEAD and a GET: the HEAD response carries the GET's
// Content-Length but no body, so the GET's status line must follow its head.
func checkHead(r *running) error {
	c, err := dial(r.addr)
	if err != nil {
		return err
	}
	defer c.close()
	if err := c.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n" + get("/g", "Connection: close\r\n")); err != nil {
		return err
	}
	all, err := c.readAll()
	if err != nil {
		return err
	}
	end := bytes.Index(all, []byte("\r\n\r\n"))
	if end < 0 || !bytes.HasPrefix(all, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("HEAD answer %q, want a 200 head", abbrev(all))
	}
	c.buf = append(c.buf[:0], all[end+4:]...)
	resp, err := c.read()
	if err != nil {
		return fmt.Errorf("GET after HEAD (a HEAD body would show here): %w", err)
	}
	if err := expectOK(resp, r.cfg.BodySize, false); err != nil {
		return fmt.Errorf("GET after HEAD: %w", err)
	}
	if len(c.buf) > 0 {
		return fmt.Errorf("unexpected bytes after the GET: %q", abbrev(c.buf))
	}
	return nil
}
