package thread

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
)

// Mechanism is how a connection thread blocks in the kernel without holding
// the runtime's slot to run Go code (a P) that the next waking thread needs.
// doc.go compares them; the default is the one that won.
type Mechanism int

const (
	// ProcsHandoff, the default: GOMAXPROCS grown with the connection
	// threads up to the bound (procs.go), and read(2) and accept(2) hand
	// the P off as they enter the kernel (handoff.go), and a goroutine
	// parked in the network poller keeps those hand-offs from waking a
	// thread to poll (poller.go). With spare Ps, a
	// thread that blocks parks its P on the idle list without waking
	// anyone, and a thread that wakes takes an idle P at once: the kernel
	// alone decides which thread runs, as for threads in C. Past the bound
	// the Ps still go round without waiting for sysmon.
	ProcsHandoff Mechanism = iota
	// Block: ordinary blocking system calls with the one P. A thread that
	// wakes waits until sysmon retakes the P from a thread blocked in the
	// kernel (20 us to 10 ms later). The model as it first was: the
	// baseline.
	Block
	// Procs: Block with GOMAXPROCS grown as ProcsHandoff grows it. Past
	// the bound, waking threads wait for sysmon again.
	Procs
	// Handoff: ProcsHandoff's reads with the one P. Every read that
	// blocks hands the P to a thread woken to look for work, and a thread
	// that wakes without a P needs two wake-ups: one idle thread takes the
	// P, finds the goroutine locked to another and wakes that one.
	Handoff
	// Unlocked: Handoff, but the goroutine is not locked to its thread
	// while it serves, so whichever thread holds the P runs a goroutine
	// that woke without one. Each connection blocked in read(2) still
	// blocks one thread; the goroutine locks itself as it ends, so the
	// thread it ends on exits with it.
	Unlocked
	// BareHandoff is ProcsHandoff without the goroutine parked in the
	// network poller (poller.go): the default before it was found that
	// every read handing off the last running P woke a thread to poll the
	// network, which went straight back to sleep.
	BareHandoff
)

var mechanismNames = [...]string{ProcsHandoff: "procs-handoff", Block: "block", Procs: "procs",
	Handoff: "handoff", Unlocked: "unlocked", BareHandoff: "procs-handoff-bare"}

func (m Mechanism) String() string { return mechanismNames[m] }

// MechanismEnv selects a mechanism other than the default, by name, for
// the side-by-side measurement (scripts/measure-thread.sh); the harness
// never sets it. MaxProcsEnv changes the bound on GOMAXPROCS.
const (
	MechanismEnv = "C10K_THREAD_MECH"
	MaxProcsEnv  = "C10K_THREAD_MAXPROCS"
)

// maxProcsPerCPU bounds GOMAXPROCS at this many per CPU the process may
// run on. A thread that wakes in read(2) runs at once only if it finds an
// idle P; when every P is taken it queues, and the P it waits for is
// handed over through a third thread (one woken to look for work, which
// finds the goroutine locked to another and wakes that): about three
// context switches a request instead of one, from C=100 up with 8 Ps.
// Ps that follow the threads (1,024 per CPU) bring that down to about
// one and serve C=100 at 38k req/s instead of 23k, once the connections
// are open. But each P costs about 33 KiB, and the runtime sizes the
// garbage collector by them (a quarter of the Ps as mark workers, every
// stop of the world stopping every P): at 10,000 idle connections the
// GC's pauses grew from 0.4 ms to 67 ms at worst, and in the reference
// harness, whose levels start as their connections arrive, the model
// then took so long to accept that half the connections at C=1k, and
// most at 4k and 10k, were still in the backlog in the window (2.0k req/s
// at C=10k, against 8.5k with 8 Ps). doc.go has the figures.
const maxProcsPerCPU = 8

// mechanismFromEnv reads MechanismEnv; unset means the default.
func mechanismFromEnv() (Mechanism, error) {
	v := os.Getenv(MechanismEnv)
	if v == "" {
		return ProcsHandoff, nil
	}
	for m, name := range mechanismNames {
		if v == name {
			return Mechanism(m), nil
		}
	}
	return 0, fmt.Errorf("thread: %s=%q: want one of %v", MechanismEnv, v, mechanismNames)
}

func maxProcsFromEnv() int {
	if n, err := strconv.Atoi(os.Getenv(MaxProcsEnv)); err == nil && n > 0 {
		return n
	}
	return maxProcsPerCPU * runtime.NumCPU()
}

// locked reports whether a connection's goroutine keeps its thread for the
// connection's whole life.
func (m Mechanism) locked() bool { return m != Unlocked }

// growsProcs reports whether GOMAXPROCS follows the connection threads.
func (m Mechanism) growsProcs() bool { return m == Procs || m == ProcsHandoff || m == BareHandoff }

// parksPoller reports whether a goroutine waits in the network poller for
// the server's life, so that no read's hand-off wakes a thread to poll.
func (m Mechanism) parksPoller() bool { return m.handsOff() && m != BareHandoff }

// handsOff reports whether blocking calls give the P up as they enter the kernel.
func (m Mechanism) handsOff() bool { return m != Block && m != Procs }
