package thread

import "fmt"

// StartNote is the line `c10k serve` logs at start: how many connection
// threads the model will run and what bounds them.
func (s *Server) StartNote() string {
	l := s.Limits()
	return fmt.Sprintf("thread limit %d (set by %s), at most %d connection threads", l.MaxThreads, l.BoundBy, l.MaxConns)
}
