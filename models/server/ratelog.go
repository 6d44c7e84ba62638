package server

import (
	"fmt"
	"log"
	"sync"
	"time"
)

// RateLog prints at most one line a second and counts the rest, so a flood
// of failing accepts or refused connections cannot flood stderr. The zero
// value is ready to use and safe for concurrent use.
type RateLog struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// Printf logs like log.Printf unless a line went out less than a second
// ago; the next line that does go out says how many were suppressed.
func (l *RateLog) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.last) < time.Second {
		l.suppressed++
		return
	}
	if l.suppressed > 0 {
		format += fmt.Sprintf(" (%d similar suppressed)", l.suppressed)
	}
	l.last, l.suppressed = time.Now(), 0
	log.Printf(format, args...)
}
