package proc

import (
	"os"
	"testing"
)

func TestAliveTellsThisProcessFromAReusedPID(t *testing.T) {
	start, err := StartTime(os.Getpid())
	if err != nil || start == 0 {
		t.Fatalf("start time %d, %v", start, err)
	}
	tests := []struct {
		name  string
		pid   int
		start uint64
		want  bool
	}{
		{"happy this process", os.Getpid(), start, true},
		{"sad a later process with this PID", os.Getpid(), start + 1, false},
		{"sad no such PID", 1 << 30, start, false},
	}
	for _, tt := range tests {
		if got := Alive(tt.pid, tt.start); got != tt.want {
			t.Errorf("%s: Alive = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestStateAndStart(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		state byte
		start uint64
		ok    bool
	}{
		{"happy name with a paren and spaces", "42 (a) b) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10", 'S', 98765, true},
		{"sad truncated", "42 (x) S 1 42", 0, 0, false},
		{"sad no name", "42 x S", 0, 0, false},
	}
	for _, tt := range tests {
		state, start, err := stateAndStart([]byte(tt.line))
		if (err == nil) != tt.ok || state != tt.state || start != tt.start {
			t.Errorf("%s: %c %d %v", tt.name, state, start, err)
		}
	}
}
