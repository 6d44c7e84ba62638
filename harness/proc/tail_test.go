package proc

import (
	"reflect"
	"strings"
	"testing"
)

func TestTail(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		writes []string
		want   []string
	}{
		{name: "happy fewer than n", n: 3, writes: []string{"a\nb\n"}, want: []string{"a", "b"}},
		{name: "happy keeps last n", n: 2, writes: []string{"a\nb\nc\nd\n"}, want: []string{"c", "d"}},
		{name: "happy line split across writes", n: 2, writes: []string{"he", "llo\nwor", "ld\n"}, want: []string{"hello", "world"}},
		{name: "happy unterminated last line", n: 2, writes: []string{"a\nb\npart"}, want: []string{"b", "part"}},
		{name: "happy empty", n: 2, writes: nil, want: []string{}},
		{name: "sad n below one keeps one", n: 0, writes: []string{"a\nb\n"}, want: []string{"b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := NewTail(tc.n)
			for _, w := range tc.writes {
				tl.Write([]byte(w))
			}
			if got := tl.Lines(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTailBoundsALongLine(t *testing.T) {
	tl := NewTail(1)
	tl.Write([]byte(strings.Repeat("x", 10*maxLineBytes)))
	tl.Write([]byte("\n"))
	if got := tl.Lines(); len(got) != 1 || len(got[0]) != maxLineBytes {
		t.Errorf("long line kept as %d bytes, want %d", len(got[0]), maxLineBytes)
	}
	if tl.Bytes() != int64(10*maxLineBytes+1) {
		t.Errorf("Bytes = %d", tl.Bytes())
	}
}

func TestTailOnLine(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   int
	}{
		{name: "happy whole line", writes: []string{"x\nc10k load: started\ny\n"}, want: 1},
		{name: "happy split across writes", writes: []string{"c10k lo", "ad: started", "\n"}, want: 1},
		{name: "happy once though said twice", writes: []string{"c10k load: started\nc10k load: started\n"}, want: 1},
		{name: "sad unterminated", writes: []string{"c10k load: started"}, want: 0},
		{name: "sad longer line", writes: []string{"c10k load: started late\n"}, want: 0},
		{name: "sad prefix only", writes: []string{"c10k load: start\n"}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := NewTail(2)
			calls := 0
			tl.OnLine("c10k load: started", func() {
				calls++
				tl.Lines() // runs after the writer let go of the lock
			})
			for _, w := range tc.writes {
				tl.Write([]byte(w))
			}
			if calls != tc.want {
				t.Errorf("fn called %d times, want %d", calls, tc.want)
			}
		})
	}
}
