package uring

import "sync"

var (
	availOnce sync.Once
	availErr  error
)

// Available reports whether this process can use io_uring as the loop
// needs it: nil, or an error wrapping ErrUnavailable that says why not.
// It sets a small ring up, registers a buffer ring on it and tears both
// down, once per process; the answer is cached.
func Available() error {
	availOnce.Do(func() { availErr = probeRing() })
	return availErr
}

func probeRing() error {
	r, err := New(2, 4)
	if err != nil {
		return err
	}
	defer r.Close()
	b, err := r.NewBufRing(0, 2, 64, 1)
	if err != nil {
		return err
	}
	return b.Close()
}
