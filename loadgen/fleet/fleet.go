package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"c10k/hosts"
	"c10k/hosts/agent"
	"c10k/loadgen"
)

// Tunables of a fleet run.
const (
	// StopWait is how long a process has, once asked to stop (SIGTERM),
	// to write its partial result before it is killed.
	StopWait = 10 * time.Second
	// tailBytes and tailLines bound what a failed process's message
	// quotes of its output.
	tailBytes = 4096
	tailLines = 5
	// dirPrefix names the private directory of a run; the pid after it
	// lets a later run remove the directory of one that was killed.
	dirPrefix = "c10k-load-"
)

// ErrUsage is returned when a load process exits with status 2, bad
// usage: options Split let through but the process refused (a host name
// that does not resolve). The other processes are stopped.
var ErrUsage = errors.New("fleet: a load process rejected its options")

// Config is a run split between load processes.
type Config struct {
	// Procs is the number of processes; see Split for what each runs.
	Procs int
	// Options is the whole run, as one process would run it.
	Options loadgen.Options
	// Argv is the command line of the process that runs o: it must wait
	// at Gate(stdin, stdout or stderr) once connected, write its result as
	// JSON (Result.WriteJSON) to jsonPath and its interval log
	// (Result.WriteIntervalLog) to hlogPath, and exit with c10k load's
	// statuses (0 done, 1 ended early, 2 bad usage, 3 nothing succeeded;
	// the files are written for 0, 1 and 3). c10k load passes its own
	// binary (os.Executable) and its flags.
	Argv func(o loadgen.Options, jsonPath, hlogPath string) []string
	// CPUs is shared out as event loops when Options.Loops is 0; 0 means
	// loadgen.CPUs(), the CPUs this process, and so its children, may use.
	CPUs int
	// Hosts, when set, places the processes on these hosts, process i on
	// Hosts[i%len(Hosts)], each run there under c10k agent (hosts/agent)
	// from the binary Argv names, which Run installs on each host first.
	// Their files are read back over the same channel. Nil: all here.
	Hosts []*hosts.Host
	// HostCPUs pins the processes on every host to this CPU list; "":
	// unpinned (or, on a host sharing this machine, as this process is).
	HostCPUs string
}

// proc is one load process.
type proc struct {
	n, of      int // 1-based, for messages
	opts       loadgen.Options
	host       *hosts.Host // nil: this machine, without an agent
	json, hlog string      // on its host
	cmd        *exec.Cmd
	stdin      io.WriteCloser // closed to start the load (Gate); for an agent, "go"
	out        *output
	err        error // from Start or Wait
}

// Run runs the load processes side by side and merges their results
// (loadgen.Merge); Result.Procs holds each process's own, in order. Their
// loads start together once every one has opened its connections (Gate).
// A
// process that dies or fails leaves a result with Complete false whose
// Message gives its exit and the end of its output, and the merged result
// is then incomplete and says so. Cancelling ctx sends every process
// SIGTERM: each stops early and writes what it measured (c10k load's
// SIGINT/SIGTERM), or is killed after StopWait. Every process also gets
// SIGKILL if the calling process dies, so none outlives it.
//
// Run returns an error only when the run cannot start or a process
// rejects its options (ErrUsage); Split's errors wrap loadgen.ErrOptions.
func Run(ctx context.Context, c Config) (*loadgen.Result, error) {
	begin := time.Now() // the command's start, as near as this can tell
	cpus := c.CPUs
	if cpus <= 0 {
		cpus = loadgen.CPUs()
	}
	shares, err := Split(c.Options, c.Procs, cpus, loadgen.SourcesNeeded)
	if err != nil {
		return nil, err
	}
	removeStale()
	dir, err := os.MkdirTemp("", dirPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	defer os.RemoveAll(dir)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	on, err := placeOnHosts(ctx, c, len(shares))
	if err != nil {
		return nil, err
	}
	defer on.cleanup()
	procs := make([]*proc, len(shares))
	for i, o := range shares {
		p := &proc{n: i + 1, of: len(shares), opts: o, host: on.host(i)}
		fileDir := on.dir(i, dir)
		p.json = filepath.Join(fileDir, fmt.Sprintf("proc%d.json", i+1))
		p.hlog = filepath.Join(fileDir, fmt.Sprintf("proc%d.hlog", i+1))
		argv := c.Argv(o, p.json, p.hlog)
		if p.host != nil {
			argv = p.host.Argv(agent.Args(on.bin(i), c.HostCPUs, 0, "", 0, time.Time{}, argv[1:]))
		}
		p.cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
		p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		p.cmd.Cancel = p.cancel
		p.cmd.WaitDelay = StopWait
		if p.host != nil {
			// The agent's own grace is StopWait; let it use it.
			p.cmd.WaitDelay = StopWait + 5*time.Second
		}
		p.out = newOutput()
		p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
		if p.stdin, err = p.cmd.StdinPipe(); err != nil {
			return nil, fmt.Errorf("fleet: %w", err)
		}
		procs[i] = p
	}
	released := make(chan time.Time, 1)
	go func() {
		at := startTogether(ctx, procs)
		if c.Options.Started != nil && ctx.Err() == nil {
			c.Options.Started()
		}
		released <- at
	}()
	var wg sync.WaitGroup
	started := make(chan error, len(procs))
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.run(started)
			if code := exitCode(p.cmd); code == 2 {
				cancel() // the others would refuse the same options
			}
		}()
	}
	var startErr error
	for range procs {
		if err := <-started; err != nil && startErr == nil {
			startErr = err
			cancel()
		}
	}
	wg.Wait()
	if startErr != nil {
		return nil, fmt.Errorf("fleet: starting a load process: %w", startErr)
	}
	for _, p := range procs {
		if exitCode(p.cmd) == 2 {
			return nil, fmt.Errorf("%w: process %d of %d: %s", ErrUsage, p.n, p.of, p.out.lines(tailLines))
		}
	}
	m, err := merge(c.Options, c.Procs, procs)
	if err != nil {
		return nil, err
	}
	// Each process timed its own opening from its own start; the pool was
	// open, and the windows began, only when the last was ready. Timed
	// from this command's start, as for one process, a caller placing the
	// window at start + max(idle_open_s, released_s) + warmup_s places it
	// right, however long the hosts took to start their processes.
	select {
	case at := <-released:
		m.ReleasedS = at.Sub(begin).Seconds()
		if c.Options.Idle > 0 {
			m.IdleOpenS = max(m.IdleOpenS, m.ReleasedS)
		}
	default:
	}
	return m, nil
}

// run starts the process and waits for it. Pdeathsig fires when the
// thread that forked the child exits, not the process (golang/go#27505),
// so this goroutine keeps its thread until the child is reaped: the
// child then dies with its parent and not before.
func (p *proc) run(started chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer p.out.markReady() // gone: the others need not wait for it
	if err := p.cmd.Start(); err != nil {
		p.err = err
		started <- err
		return
	}
	started <- nil
	p.err = p.cmd.Wait()
	p.stdin.Close()
}

// startTogether starts the load of every process at once, when each has
// said it is ready or is gone (see Gate), or when ctx is done, and
// returns when that was.
func startTogether(ctx context.Context, procs []*proc) time.Time {
	for _, p := range procs {
		select {
		case <-p.out.readyC:
		case <-ctx.Done():
		}
	}
	for _, p := range procs {
		p.release()
	}
	return time.Now()
}

// release opens the process's gate: its stdin closes, or its agent is
// told to close it.
func (p *proc) release() {
	if p.host == nil {
		p.stdin.Close()
		return
	}
	io.WriteString(p.stdin, "go\n")
}

// cancel asks the process to stop early and write what it measured:
// SIGTERM here, "stop" to an agent, which passes SIGTERM on.
func (p *proc) cancel() error {
	if p.host == nil {
		return p.cmd.Process.Signal(syscall.SIGTERM)
	}
	_, err := io.WriteString(p.stdin, "stop\n")
	return err
}

// exitCode is the process's exit status, -1 if it was killed by a signal
// or never ran.
func exitCode(cmd *exec.Cmd) int {
	if cmd.ProcessState == nil {
		return -1
	}
	return cmd.ProcessState.ExitCode()
}

// result reads what the process wrote, or says why there is nothing to
// read: a result comes from a process that exited 0, 1 or 3.
func (p *proc) result() (*loadgen.Result, error) {
	switch code := exitCode(p.cmd); {
	case p.cmd.ProcessState == nil:
		return nil, p.err
	case code != 0 && code != 1 && code != 3:
		return nil, errors.New(p.cmd.ProcessState.String())
	}
	js, err := p.readFile(p.json)
	if err != nil {
		return nil, fmt.Errorf("%s, but its result: %w", p.cmd.ProcessState, err)
	}
	hl, err := p.readFile(p.hlog)
	if err != nil {
		return nil, fmt.Errorf("%s, but its interval log: %w", p.cmd.ProcessState, err)
	}
	r, err := loadgen.ReadResult(bytes.NewReader(js), bytes.NewReader(hl))
	if err != nil {
		return nil, fmt.Errorf("%s, but %w", p.cmd.ProcessState, err)
	}
	if p.host != nil {
		r.Host = p.host.String()
	}
	return r, nil
}

// readFile reads one of the files the process wrote, on its host.
func (p *proc) readFile(path string) ([]byte, error) {
	if p.host == nil {
		return os.ReadFile(path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hostTimeout)
	defer cancel()
	return p.host.ReadFile(ctx, path)
}

// merge reads every process's result and merges those it could read; a
// process that failed keeps its place in Procs with a result that says why.
func merge(o loadgen.Options, asked int, procs []*proc) (*loadgen.Result, error) {
	var parts, all []*loadgen.Result
	var notes []string
	for _, p := range procs {
		r, err := p.result()
		if err != nil {
			msg := fmt.Sprintf("load process %d of %d (-c %d -idle %d) failed: %v", p.n, p.of, p.opts.Connections, p.opts.Idle, err)
			if p.host != nil {
				msg = fmt.Sprintf("load process %d of %d on host %s (-c %d -idle %d) failed: %v", p.n, p.of, p.host, p.opts.Connections, p.opts.Idle, err)
			}
			if t := p.out.lines(tailLines); t != "" {
				msg += "; its last output: " + t
			}
			notes = append(notes, msg)
			all = append(all, &loadgen.Result{URL: o.URL, Host: hostName(p.host), Errors: map[string]int64{}, FirstErrors: map[string]string{},
				IdleErrors: map[string]int64{}, IdleFirstErrors: map[string]string{}, IdleRequested: p.opts.Idle, Message: msg})
			continue
		}
		parts = append(parts, r)
		all = append(all, r)
	}
	m, err := loadgen.Merge(parts)
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	m.URL, m.OpenLoop = o.URL, o.OpenLoop()
	m.IdleRequested = o.Idle

	m.Procs = all
	if len(notes) > 0 {
		m.Complete = false
		notes = append(notes, fmt.Sprintf("results are partial: %d of %d load processes measured", len(parts), len(procs)))
	}
	if len(procs) < asked {
		notes = append(notes, fmt.Sprintf("-c %d -idle %d leaves work for %d of the %d processes asked; %d ran", o.Connections, o.Idle, len(procs), asked, len(procs)))
	}
	if m.Message != "" {
		notes = append([]string{m.Message}, notes...)
	}
	m.Message = strings.Join(notes, "; ")
	return m, nil
}

// removeStale removes the private directories of earlier runs whose
// process is gone: a run killed with SIGKILL cannot remove its own.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*-*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(filepath.Base(d), dirPrefix), "-", 2)[0])
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
			os.RemoveAll(d)
		}
	}
}
