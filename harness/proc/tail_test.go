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
