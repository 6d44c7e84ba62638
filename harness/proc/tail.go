package proc

import (
	"bytes"
	"sync"
)

// maxLineBytes bounds one remembered line, so a child writing megabytes
// without a newline cannot grow the harness's memory.
const maxLineBytes = 4096

// Tail is an io.Writer that remembers the last N lines written to it: the
// harness keeps a server's stderr this way so a crash can be recorded with
// its last words at no memory cost on a long run. Safe for concurrent use.
type Tail struct {
	mu      sync.Mutex
	n       int
	lines   []string // ring of complete lines
	next    int      // ring write position once full
	partial []byte   // current line, not yet ended by '\n'
	total   int64    // bytes written, for the record
	watches []watch
}

// watch is a line OnLine waits for.
type watch struct {
	line string
	fn   func()
}

// NewTail returns a Tail that keeps the last n lines (n >= 1).
func NewTail(n int) *Tail {
	if n < 1 {
		n = 1
	}
	return &Tail{n: n}
}

// OnLine calls fn once, from the writing goroutine, when a complete line
// equal to line is written: how the harness hears a child's protocol
// lines (c10k load's "started") on the stream it keeps for a crash. fn
// must not block the writer.
func (t *Tail) OnLine(line string, fn func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.watches = append(t.watches, watch{line, fn})
}

// Write records p; it never fails.
func (t *Tail) Write(p []byte) (int, error) {
	var fire []func()
	defer func() {
		for _, fn := range fire {
			fn()
		}
	}()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += int64(len(p))
	rest := p
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			t.appendPartial(rest)
			break
		}
		t.appendPartial(rest[:i])
		fire = t.match(fire)
		t.push(string(t.partial))
		t.partial = t.partial[:0]
		rest = rest[i+1:]
	}
	return len(p), nil
}

func (t *Tail) appendPartial(b []byte) {
	if room := maxLineBytes - len(t.partial); len(b) > room {
		b = b[:max(room, 0)]
	}
	t.partial = append(t.partial, b...)
}

// match takes the watches the current line completes off the list and
// adds their functions to fire.
func (t *Tail) match(fire []func()) []func() {
	kept := t.watches[:0]
	for _, w := range t.watches {
		if w.line == string(t.partial) {
			fire = append(fire, w.fn)
		} else {
			kept = append(kept, w)
		}
	}
	t.watches = kept
	return fire
}

func (t *Tail) push(line string) {
	if len(t.lines) < t.n {
		t.lines = append(t.lines, line)
		return
	}
	t.lines[t.next] = line
	t.next = (t.next + 1) % t.n
}

// Lines returns the remembered lines, oldest first, including an
// unterminated last line.
func (t *Tail) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.lines)+1)
	out = append(out, t.lines[t.next:]...)
	out = append(out, t.lines[:t.next]...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	if len(out) > t.n {
		out = out[len(out)-t.n:]
	}
	return out
}

// Bytes returns how many bytes were written in total.
func (t *Tail) Bytes() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}
