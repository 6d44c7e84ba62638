package thread

import "runtime"

// growProcs raises GOMAXPROCS toward threads, up to maxProcs. It never
// lowers it: a P left idle costs memory, not CPU. Only the acceptor calls
// it, so the read and the set need no lock.
func (s *Server) growProcs(threads int) {
	if n := nextProcs(runtime.GOMAXPROCS(0), threads, s.maxProcs); n > 0 {
		runtime.GOMAXPROCS(n)
	}
}

// nextProcs is the GOMAXPROCS wanted for threads threads when it is cur,
// or 0 to leave it. It at least doubles: connections arrive one by one,
// and n of them then cost log2(n) stops of the world, not n.
func nextProcs(cur, threads, bound int) int {
	if threads <= cur || cur >= bound {
		return 0
	}
	return min(bound, max(2*cur, threads))
}
