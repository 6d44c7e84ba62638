package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"c10k/harness/proc"
	"c10k/harness/results"
	"c10k/hosts"
)

// ErrGone is returned (wrapped) by Session.Take once the agent or its
// child has exited.
var ErrGone = errors.New("agent: the process is gone")

// takeTimeout bounds a sample asked of a remote agent: a sample of
// thousands of processes takes a good part of a second.
const takeTimeout = 10 * time.Second

// Spec says what a Session runs on its host.
type Spec struct {
	Bin    string   // the c10k binary on the host (hosts.Host.Install)
	Argv   []string // a c10k command ("serve", ...) or a program path, and its arguments
	CPUs   string   // the host's CPUs to pin the child to
	Period time.Duration
	Port   int       // server port counted in samples
	Addr   string    // the server's IPv4 address for those counts; "": 127.0.0.1
	Epoch  time.Time // the harness's clock for sample times; it is shifted by Offset
	// Offset is the host's clock minus this machine's (Clock).
	Offset time.Duration
	Stdout io.Writer // the child's stdout lines; nil: discarded
	Stderr io.Writer // the child's and the channel's stderr; nil: discarded
}

// Session is one process run on a host under an agent, seen from the
// harness. Its methods are safe for concurrent use.
type Session struct {
	host  *hosts.Host
	p     *proc.Process // the local end: ssh, ip netns exec, or the agent itself
	stdin io.WriteCloser
	done  chan struct{} // closed when the agent's stdout is read to the end

	mu      sync.Mutex
	samples []results.Sample
	takes   chan takeAnswer
	exit    string
	pid     int
}

type takeAnswer struct {
	s   results.Sample
	err error
}

// Start runs s on host under an agent. The local end of the channel is a
// child of this process started by proc.Start, so it dies with the
// harness, and the agent then stops the remote child.
func Start(host *hosts.Host, s Spec) (*Session, error) {
	epoch := s.Epoch
	if !epoch.IsZero() {
		epoch = epoch.Add(s.Offset)
	}
	argv := host.Argv(Args(s.Bin, s.CPUs, s.Period, s.Addr, s.Port, epoch, s.Argv))
	stderr := s.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	// OS pipes handed to the child as they are: with an io.Reader or
	// io.Writer exec copies in goroutines that Wait waits for.
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("agent: %w", err)
	}
	// The agent reads /proc by its child's PID: it must see the PIDs /proc
	// shows, so it stays in this PID namespace (its child gets its own).
	p, err := proc.Start(proc.Spec{Path: argv[0], Args: argv[1:], Stdin: inR, Stdout: outW, Stderr: stderr, OwnPIDs: true})
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("host %s: %w", host, err)
	}
	ss := &Session{host: host, p: p, stdin: inW, done: make(chan struct{}), takes: make(chan takeAnswer, 1)}
	go ss.read(outR, s.Stdout)
	return ss, nil
}

// read splits the agent's stdout into the child's lines and the agent's.
func (s *Session) read(r io.ReadCloser, child io.Writer) {
	defer close(s.done)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ours := strings.CutPrefix(line, Prefix)
		if !ours {
			if child != nil {
				io.WriteString(child, line+"\n")
			}
			continue
		}
		kind, arg, _ := strings.Cut(rest, " ")
		switch kind {
		case "sample", "take":
			var smp results.Sample
			err := json.Unmarshal([]byte(arg), &smp)
			if kind == "take" {
				s.answer(takeAnswer{smp, err})
			} else if err == nil {
				s.mu.Lock()
				s.samples = append(s.samples, smp)
				s.mu.Unlock()
			}
		case "take-error":
			s.answer(takeAnswer{err: fmt.Errorf("%w: %s", ErrGone, arg)})
		case "pid":
			s.mu.Lock()
			s.pid, _ = strconv.Atoi(arg)
			s.mu.Unlock()
		case "exit":
			s.mu.Lock()
			s.exit = arg
			s.mu.Unlock()
		}
	}
	io.Copy(io.Discard, r)
}

func (s *Session) answer(a takeAnswer) {
	select {
	case s.takes <- a:
	default: // nobody asked (a Take that timed out): drop it
	}
}

// send writes one command line to the agent.
func (s *Session) send(word string) error {
	_, err := io.WriteString(s.stdin, word+"\n")
	return err
}

// Exited is closed once the local end has exited: the agent, and so its
// child, is done, or the channel broke.
func (s *Session) Exited() <-chan struct{} { return s.p.Exited() }

// PID is the child's PID on its host, as the host's /proc (and ps) shows
// it, 0 before the agent said it.
func (s *Session) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pid
}

// LocalPID is the PID of the local end of the channel.
func (s *Session) LocalPID() int { return s.p.PID() }

// Release opens the child's start gate (closes its stdin).
func (s *Session) Release() error { return s.send("go") }

// Take asks the agent for a sample now and returns it.
func (s *Session) Take() (results.Sample, error) {
	select {
	case <-s.takes: // a stale answer
	default:
	}
	if err := s.send("sample"); err != nil {
		return results.Sample{}, fmt.Errorf("%w: host %s: %v", ErrGone, s.host, err)
	}
	t := time.NewTimer(takeTimeout)
	defer t.Stop()
	select {
	case a := <-s.takes:
		if a.err == nil {
			s.mu.Lock()
			s.samples = append(s.samples, a.s)
			s.mu.Unlock()
		}
		return a.s, a.err
	case <-s.done:
		return results.Sample{}, fmt.Errorf("%w: host %s", ErrGone, s.host)
	case <-t.C:
		return results.Sample{}, fmt.Errorf("agent: host %s gave no sample in %v", s.host, takeTimeout)
	}
}

// Samples returns the samples so far, in time order: those the agent sent
// and those taken.
func (s *Session) Samples() []results.Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]results.Sample(nil), s.samples...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].T < out[j].T })
	// A taken sample is also sent with the periodic ones: keep one.
	dedup := out[:0]
	for i, smp := range out {
		if i > 0 && smp.T == out[i-1].T {
			continue
		}
		dedup = append(dedup, smp)
	}
	return dedup
}

// Stop asks the agent to stop the child (SIGTERM, then SIGKILL after
// grace), waits for it (grace and a margin), and kills the local end if it
// is still there. It returns how the local end exited, which for an agent
// is how the child did.
func (s *Session) Stop(grace time.Duration) (*os.ProcessState, error) {
	s.send("stop " + grace.String())
	t := time.NewTimer(grace + 5*time.Second)
	defer t.Stop()
	select {
	case <-s.p.Exited():
	case <-t.C:
	}
	s.stdin.Close()
	st, err := s.p.Stop(2 * time.Second)
	select {
	case <-s.done:
	case <-time.After(2 * time.Second): // a grandchild holds the pipe: give up on the rest
	}
	return st, err
}

// Exit is how the child ended, as the agent said it ("" if it did not).
func (s *Session) Exit() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exit
}

// Clock measures host's clock against this machine's, as NTP does: the
// agent answers a few pings with its time, and the ping with the shortest
// round trip gives the offset (host minus here), good to half that round
// trip, which is returned too.
func Clock(ctx context.Context, host *hosts.Host, bin string) (offset, rtt time.Duration, err error) {
	cmd := host.Command(ctx, bin, "agent", "-clock")
	in, err := cmd.StdinPipe()
	if err != nil {
		return 0, 0, err
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("host %s: %w", host, err)
	}
	defer cmd.Wait()
	defer in.Close()
	out := bufio.NewScanner(outp)
	rtt = time.Duration(1<<63 - 1)
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		if _, err := io.WriteString(in, "t\n"); err != nil {
			break
		}
		if !out.Scan() {
			break
		}
		t1 := time.Now()
		ns, perr := strconv.ParseInt(strings.TrimSpace(out.Text()), 10, 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("host %s: clock: bad answer %q", host, out.Text())
		}
		if d := t1.Sub(t0); d < rtt {
			rtt = d
			offset = time.Unix(0, ns).Sub(t0.Add(d / 2))
		}
	}
	if rtt == time.Duration(1<<63-1) {
		in.Close()
		cmd.Wait()
		return 0, 0, fmt.Errorf("host %s: no answer to the clock check: %s", host, strings.TrimSpace(errb.String()))
	}
	return offset, rtt, nil
}

// Env reads host's description (kernel, CPUs, memory, limits).
func Env(ctx context.Context, host *hosts.Host, bin string) (results.Env, error) {
	var env results.Env
	out, err := host.Command(ctx, bin, "agent", "-env").Output()
	if err != nil {
		return env, fmt.Errorf("host %s: reading its description: %w", host, err)
	}
	if err := json.Unmarshal(out, &env); err != nil {
		return env, fmt.Errorf("host %s: its description: %w", host, err)
	}
	return env, nil
}
