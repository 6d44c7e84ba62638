package sampler

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"c10k/harness/procfs"
	"c10k/harness/results"
)

// DefaultPeriod is the sampling period.
const DefaultPeriod = 250 * time.Millisecond

// allThreadsMax is the thread count up to which every sample sums context
// switches over all threads; above it only every allThreadsEvery-th does.
const (
	allThreadsMax   = 2000
	allThreadsEvery = 4
)

// Config says what to sample.
type Config struct {
	Root   int           // PID of the server (the root of its tree)
	Port   int           // server port for connection counts; 0: not counted
	Addr   [4]byte       // the server's IPv4 address for those counts; zero: 127.0.0.1
	Period time.Duration // 0: DefaultPeriod
	Epoch  time.Time     // Sample.T is measured from here; zero: Start's time
}

// Sampler samples one server tree in the background. Its methods are safe
// for concurrent use.
type Sampler struct {
	cfg     Config
	loadPID atomic.Int64

	mu      sync.Mutex
	samples []results.Sample
	threads int // in the last sample, to choose the context-switch walk
	ticks   int
	err     error // first error; sampling stops after it

	stop chan struct{}
	done chan struct{}
}

// Start begins sampling every period, taking the first sample at once.
func Start(cfg Config) *Sampler {
	if cfg.Period <= 0 {
		cfg.Period = DefaultPeriod
	}
	if cfg.Epoch.IsZero() {
		cfg.Epoch = time.Now()
	}
	s := &Sampler{cfg: cfg, stop: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

// SetLoad names the load generator's PID, sampled alongside from now on;
// 0 stops sampling it.
func (s *Sampler) SetLoad(pid int) { s.loadPID.Store(int64(pid)) }

// maxDuty bounds the share of one CPU the background sampling may take:
// walking 2,000 Apache prefork children (smaps_rollup, fd directories)
// takes a good part of a period, and the harness shares the machine with
// what it measures. A sample that took d is followed by the next one no
// sooner than d/maxDuty later.
const maxDuty = 0.25

func (s *Sampler) loop() {
	defer close(s.done)
	for {
		start := time.Now()
		if _, err := s.Take(); err != nil {
			return
		}
		cost := time.Since(start)
		wait := max(s.cfg.Period, time.Duration(float64(cost)/maxDuty)) - cost
		t := time.NewTimer(wait)
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Take samples now, records the sample and returns it. After the root
// process is gone every call returns the error that said so.
func (s *Sampler) Take() (results.Sample, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return results.Sample{}, s.err
	}
	s.ticks++
	all := s.threads <= allThreadsMax || s.ticks%allThreadsEvery == 0
	smp, err := s.read(all)
	if err != nil {
		s.err = err
		return results.Sample{}, err
	}
	s.threads = smp.Proc.Threads
	s.samples = append(s.samples, smp)
	return smp, nil
}

func (s *Sampler) read(allThreads bool) (results.Sample, error) {
	smp := results.Sample{ServerConns: -1, QueuedConns: -1}
	var err error
	if allThreads {
		smp.Proc, err = procfs.SampleTreeAllThreads(s.cfg.Root)
	} else {
		smp.Proc, err = procfs.SampleTree(s.cfg.Root)
	}
	if err != nil {
		return smp, err
	}
	smp.T = time.Since(s.cfg.Epoch).Seconds()
	// The rest is best effort: a machine-wide reading that fails leaves its
	// fields zero rather than losing the server's sample.
	smp.Machine, _ = procfs.SampleMachine()
	if ct, err := ReadCPUTimes(); err == nil {
		smp.CPUBusyS, smp.StealS = ct.Busy, ct.Steal
	}
	smp.MachineTasks = procfs.MachineThreads()
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) == nil {
		smp.HarnessCPUS = tvSec(ru.Utime) + tvSec(ru.Stime)
	}
	if pid := int(s.loadPID.Load()); pid > 0 {
		// The tree: c10k load -procs does its work in child processes.
		if lp, err := procfs.SampleTree(pid); err == nil {
			smp.Load = &lp
		}
	}
	if s.cfg.Port > 0 {
		addr := s.cfg.Addr
		if addr == ([4]byte{}) {
			addr = loopback
		}
		if c, err := CountConnsAt(addr, s.cfg.Port); err == nil {
			smp.ServerConns, smp.QueuedConns = c.Accepted, c.Queued
		}
	}
	return smp, nil
}

// Stop ends background sampling and returns every sample taken, in order.
// It returns the sampling error too, nil if the server was still there.
func (s *Sampler) Stop() ([]results.Sample, error) {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples, s.err
}

// Samples returns a copy of the samples so far.
func (s *Sampler) Samples() []results.Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]results.Sample(nil), s.samples...)
}

// Gone reports whether err means the sampled server has exited.
func Gone(err error) bool { return errors.Is(err, procfs.ErrNoProcess) }

func tvSec(tv unix.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }
