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
}

// NewTail returns a Tail that keeps the last n lines (n >= 1).
func NewTail(n int) *Tail {
	if n < 1 {
		n = 1
	}
	return &Tail{n: n}
}

// Write records p; it never fails.
func (t *Tail) Write(p []byte) (int, error) {
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
