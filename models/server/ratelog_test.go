package server

import (
	"bytes"
	"log"
	"strings"
	"testing"
)

func TestRateLogSuppressesWithinASecond(t *testing.T) {
	var buf bytes.Buffer
	orig := log.Writer()
	log.SetOutput(&buf)
	defer log.SetOutput(orig)
	var l RateLog
	for i := 0; i < 5; i++ {
		l.Printf("line %d", i)
	}
	if got := strings.Count(buf.String(), "line "); got != 1 {
		t.Fatalf("%d lines logged in a burst, want 1:\n%s", got, buf.String())
	}
	l.last = l.last.Add(-2e9) // as if the second had passed
	l.Printf("later")
	if !strings.Contains(buf.String(), "later (4 similar suppressed)") {
		t.Fatalf("suppressed count missing:\n%s", buf.String())
	}
}
