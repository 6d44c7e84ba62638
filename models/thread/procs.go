package thread

import "runtime"

// growProcs raises GOMAXPROCS toward threads, in doubling steps up to
// maxProcs. It never lowers it: a P left idle costs memory, not CPU.
func (s *Server) growProcs(threads int) {
	s.procsMu.Lock()
	defer s.procsMu.Unlock()
	if n := nextProcs(runtime.GOMAXPROCS(0), threads, s.maxProcs); n > 0 {
		runtime.GOMAXPROCS(n)
	}
}

// nextProcs is the GOMAXPROCS that the mechanisms that grow it want
// for threads connection threads (plus the acceptor), or 0 to leave it: doubling, so n threads
// cost log2(n) stops of the world, not n.
func nextProcs(cur, threads, bound int) int {
	if threads <= cur || cur >= bound {
		return 0
	}
	return min(bound, max(2*cur, threads))
}
