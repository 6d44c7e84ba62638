package fleet

import "strings"

// tail keeps the last bytes a process wrote, for the message that says
// why it failed. os/exec calls Write from one goroutine at a time (the
// same writer serves stdout and stderr) and the tail is read once the
// process has been waited for.
type tail struct {
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// lines is the last n non-empty lines, joined with " | " to fit a
// one-line message.
func (t *tail) lines(n int) string {
	var ls []string
	for _, l := range strings.Split(string(t.buf), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			ls = append(ls, l)
		}
	}
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, " | ")
}
