package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"c10k/models/server"

	"golang.org/x/sys/unix"
)

// maxProcs caps -procs for c10k serve and c10k peer. A million idle
// connections at 20,000 descriptors a process take 50; the cap is there
// so that a slip of the keyboard does not start thousands of runtimes.
const maxProcs = 256

// workerStopTimeout bounds the supervisor's wait for its workers once it
// has passed a signal on: each worker gives busy connections
// serveStopTimeout and then exits anyway, so one still running past this
// is stuck and is killed. It stays under the harness's own stop grace
// (3 s), so the harness sees the supervisor exit by itself.
const workerStopTimeout = serveStopTimeout + 500*time.Millisecond

// groupSignalGrace is how long the supervisor waits for a signal of its
// own after a worker stopped cleanly. A worker exits 0 only when told to
// stop by SIGINT or SIGTERM; when the signal went to the whole process
// group (the harness, a Ctrl-C) the supervisor's copy is already pending
// and arrives within this, and the stop is an orderly one. A worker
// stopped alone is a lost worker.
const groupSignalGrace = time.Second

// worker is one process started by the supervisor.
type worker struct {
	n, of  int // worker n of of, from 1
	cmd    *exec.Cmd
	exited chan struct{} // closed once reaped; err is then set
	err    error         // cmd.Wait's: nil for exit status 0
	told   bool          // its end was reported already
}

func (w *worker) String() string { return fmt.Sprintf("worker %d/%d", w.n, w.of) }

func (w *worker) hasExited() bool {
	select {
	case <-w.exited:
		return true
	default:
		return false
	}
}

// workerEvent is a worker's first stdout line, or its exit.
type workerEvent struct {
	w      *worker
	line   string
	exited bool
}

// superviseServe is c10k serve -procs N: it reserves the port, starts N
// copies of this binary as workers on it, prints the listening line once
// every worker has printed its own, and then only waits. A signal is
// passed on to every worker; a worker that exits by itself ends them all
// with status 1. The workers inherit this process's CPU affinity and
// process group, so whoever pinned or signals the group reaches them too.
//
// Under c10k bench this process is the init of a PID namespace: the
// kernel then kills every worker when it exits, delivers to it only the
// signals it handles (SIGINT and SIGTERM here), and reparents orphans of
// the namespace to it. The workers start nothing themselves, so the only
// processes it has to reap are the workers, which it waits for.
func superviseServe(fs *flag.FlagSet, model string, cfg server.Config, stdout, stderr io.Writer) int {
	// The port is picked once, here, by a socket that is bound but never
	// listens: every worker then binds the same concrete address with
	// SO_REUSEPORT. Held until the workers listen, it keeps the port from
	// being taken meanwhile (by a connect's ephemeral port, say); then it
	// is closed, since the workers' listeners hold the port from then on.
	// On a fixed port SO_REUSEPORT has a price: another server of the same
	// user listening there with it too (a stale run's workers) would not
	// fail the start but silently share the connections.
	rfd, bound, err := server.Reserve(cfg.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "c10k serve: %v\n", err)
		return 1
	}
	reserved := true
	defer func() {
		if reserved {
			unix.Close(rfd)
		}
	}()
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "c10k serve: finding the c10k binary to start the workers: %v\n", err)
		return 1
	}

	// Caught before the first worker starts, so that a signal during the
	// start stops the workers already running instead of orphaning them
	// (Pdeathsig would kill them, but without their clean exit). Never
	// released: a second signal while stopping changes nothing.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	fmt.Fprintf(stderr, "c10k serve: model=%s pid=%d procs=%d: starting %d workers on %s, each with its own SO_REUSEPORT listener\n",
		model, hostPID(), cfg.Procs, cfg.Procs, bound)

	events := make(chan workerEvent, 2*cfg.Procs) // a line and an exit each: sends never block
	workers := make([]*worker, 0, cfg.Procs)
	for n := 1; n <= cfg.Procs; n++ {
		w, err := startWorker(exe, workerArgs(fs, bound.String(), n), n, cfg.Procs, stderr, events)
		if err != nil {
			fmt.Fprintf(stderr, "c10k serve: starting worker %d/%d: %v\n", n, cfg.Procs, err)
			stopWorkers(workers, syscall.SIGTERM, stderr)
			return 1
		}
		workers = append(workers, w)
	}

	for ready := 0; ready < len(workers); {
		select {
		case ev := <-events:
			switch {
			case ev.exited:
				fmt.Fprintf(stderr, "c10k serve: %v exited before listening (%v); stopping the others\n", ev.w, exitOf(ev.w))
				ev.w.told = true
			case !listensOn(ev.line, bound.Port):
				fmt.Fprintf(stderr, "c10k serve: %v: first line %q, want \"listening on HOST:%d\"; stopping the workers\n", ev.w, ev.line, bound.Port)
			default:
				ready++
				continue
			}
			stopWorkers(workers, syscall.SIGTERM, stderr)
			return 1
		case s := <-sig:
			fmt.Fprintf(stderr, "c10k serve: %v while the workers started: stopping them\n", s)
			return stopWorkers(workers, s, stderr)
		}
	}
	unix.Close(rfd)
	reserved = false
	fmt.Fprintf(stdout, "listening on %s\n", bound)

	for {
		select {
		case ev := <-events:
			if !ev.exited {
				continue // every first line was read before the listening line
			}
			if ev.w.err == nil {
				select {
				case s := <-sig:
					fmt.Fprintf(stderr, "c10k serve: %v: closing the %d workers\n", s, len(workers))
					return stopWorkers(workers, s, stderr)
				case <-time.After(groupSignalGrace):
				}
			}
			fmt.Fprintf(stderr, "c10k serve: %v exited by itself (%v); stopping the others\n", ev.w, exitOf(ev.w))
			ev.w.told = true
			stopWorkers(workers, syscall.SIGTERM, stderr)
			return 1
		case s := <-sig:
			fmt.Fprintf(stderr, "c10k serve: %v: closing the %d workers\n", s, len(workers))
			return stopWorkers(workers, s, stderr)
		}
	}
}

// listensOn reports whether line is a listening line for port. Only the
// port is compared: Go's net package writes a wildcard IPv4 host as "[::]".
func listensOn(line string, port int) bool {
	addr, ok := strings.CutPrefix(line, "listening on ")
	if !ok {
		return false
	}
	_, p, err := net.SplitHostPort(addr)
	return err == nil && p == strconv.Itoa(port)
}

// workerArgs is worker n's command line: the supervisor's own flags, the
// bound address instead of -addr, and -worker n.
func workerArgs(fs *flag.FlagSet, addr string, n int) []string {
	args := []string{"serve"}
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "addr" && f.Name != "worker" {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	return append(args, "-addr="+addr, "-worker="+strconv.Itoa(n))
}

// startWorker starts worker n of of and reports its first stdout line and
// its exit on events. Its stderr is the supervisor's.
func startWorker(exe string, args []string, n, of int, stderr io.Writer, events chan<- workerEvent) (*worker, error) {
	r, wr, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout = wr
	cmd.Stderr = stderr
	// Pdeathsig: a worker dies with the supervisor, even one killed by
	// SIGKILL. The kernel ties it to the thread that forked, not to the
	// process; the Go runtime keeps its threads for the life of the
	// process unless a goroutine exits locked to one, which none here does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	wr.Close()
	if err != nil {
		r.Close()
		return nil, err
	}
	w := &worker{n: n, of: of, cmd: cmd, exited: make(chan struct{})}
	go func() {
		defer r.Close()
		sc := bufio.NewScanner(r)
		if sc.Scan() {
			events <- workerEvent{w: w, line: sc.Text()}
		}
		io.Copy(io.Discard, r) // until the worker exits
	}()
	go func() {
		w.err = cmd.Wait()
		close(w.exited)
		events <- workerEvent{w: w, exited: true}
	}()
	return w, nil
}

// stopWorkers passes s on to every worker still running and waits for all
// of them, killing any still running after workerStopTimeout. It returns
// 0 if every worker exited with status 0, and 1, having said which did
// not (unless told already), otherwise.
func stopWorkers(workers []*worker, s os.Signal, stderr io.Writer) int {
	for _, w := range workers {
		if !w.hasExited() {
			// ErrProcessDone if it exited meanwhile: nothing to stop.
			_ = w.cmd.Process.Signal(s)
		}
	}
	deadline := time.NewTimer(workerStopTimeout)
	defer deadline.Stop()
	expired := false
	status := 0
	for _, w := range workers {
		if !expired {
			select {
			case <-w.exited:
			case <-deadline.C:
				expired = true
			}
		}
		if expired && !w.hasExited() {
			fmt.Fprintf(stderr, "c10k serve: %v still running %v after %v; killing it\n", w, workerStopTimeout, s)
			_ = w.cmd.Process.Kill()
			<-w.exited
		}
		if w.err != nil {
			status = 1
			if !w.told {
				fmt.Fprintf(stderr, "c10k serve: %v: %v\n", w, exitOf(w))
			}
		}
	}
	return status
}

// exitOf says how a reaped worker ended.
func exitOf(w *worker) string {
	var ee *exec.ExitError
	switch {
	case w.err == nil:
		return "exit status 0"
	case errors.As(w.err, &ee):
		return ee.ProcessState.String()
	}
	return w.err.Error()
}
