package fleet

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestOutputSpotsTheReadyLine(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		ready  bool
	}{
		{"happy one write", []string{Ready + "\n"}, true},
		{"happy split, after other lines", []string{"warming\nc10k lo", "ad: re", "ady\nmore\n"}, true},
		{"sad not a whole line", []string{"x" + Ready + "\n"}, false},
		{"sad longer line", []string{Ready + " not\n"}, false},
		{"sad no newline yet", []string{Ready}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOutput()
			for _, w := range tt.writes {
				if n, err := o.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			select {
			case <-o.readyC:
				if !tt.ready {
					t.Fatal("ready, want not")
				}
			default:
				if tt.ready {
					t.Fatal("not ready, want ready")
				}
			}
			if got := strings.Join(tt.writes, ""); string(o.buf) != got {
				t.Fatalf("tail %q, want %q", o.buf, got)
			}
		})
	}
}

func TestTailKeepsTheEnd(t *testing.T) {
	tl := tail{max: 8}
	tl.Write([]byte("first line\nsecond\n"))
	tl.Write([]byte("end\n"))
	if got := tl.lines(5); got != "ond | end" {
		t.Fatalf("lines = %q, want the last 8 bytes as lines", got)
	}
}

func TestGateSaysReadyAndWaitsForTheClose(t *testing.T) {
	in, closeIn := io.Pipe()
	var out strings.Builder
	done := make(chan error, 1)
	go func() { done <- Gate(in, &out)(context.Background()) }()
	select {
	case err := <-done:
		t.Fatalf("the gate opened before stdin closed: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	closeIn.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if out.String() != Ready+"\n" {
		t.Fatalf("said %q, want the Ready line", out.String())
	}
}

func TestGateGivesUpWithTheContext(t *testing.T) {
	in, _ := io.Pipe()
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("terminated")
	cancel(stop)
	if err := Gate(in, io.Discard)(ctx); !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the context's cause", err)
	}
}
