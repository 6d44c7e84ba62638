package fleet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
)

// Ready is the line a load process writes on its stdout once its
// connections are open (Gate). Run starts the load of every process at
// once, when all have said it or are gone, by closing their stdin: the
// processes' measured windows then open together, and their seconds, which
// Merge adds up by index, are the same seconds.
const Ready = "c10k load: ready"

// Started is the line c10k load -say-started writes on stderr as the
// warm-up begins (loadgen.Options.Started): the idle pool is open from
// then until the measured window ends.
const Started = "c10k load: started"

// Gate is the loadgen.Options.Gate of a load process that Run started:
// it says Ready on out and waits for in to close.
func Gate(in io.Reader, out io.Writer) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if _, err := fmt.Fprintln(out, Ready); err != nil {
			return fmt.Errorf("fleet: saying ready: %w", err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := io.Copy(io.Discard, in)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("fleet: waiting for the start: %w", err)
			}
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// output is a process's stdout and stderr together: the tail kept for a
// failure's message, and the Ready line spotted. os/exec calls Write from
// one goroutine at a time, as the same writer serves both.
type output struct {
	tail
	line   []byte    // the current line, up to len(Ready)+1 bytes
	ready  sync.Once // closes readyC
	readyC chan struct{}
}

func newOutput() *output {
	return &output{tail: tail{max: tailBytes}, readyC: make(chan struct{})}
}

func (o *output) Write(p []byte) (int, error) {
	n := len(p)
	o.tail.Write(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			o.add(p)
			break
		}
		o.add(p[:i])
		if string(o.line) == Ready {
			o.markReady()
		}
		o.line = o.line[:0]
		p = p[i+1:]
	}
	return n, nil
}

// add keeps what may still be the Ready line; anything longer is not.
func (o *output) add(b []byte) {
	if room := len(Ready) + 1 - len(o.line); room > 0 {
		o.line = append(o.line, b[:min(len(b), room)]...)
	}
}

// markReady lets the start go ahead for this process: it said Ready, or it
// is gone and will never say it.
func (o *output) markReady() { o.ready.Do(func() { close(o.readyC) }) }
