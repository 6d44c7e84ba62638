package proc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrStuck is returned (wrapped) by Stop when a process survives SIGKILL
// for longer than the stop timeout (uninterruptible sleep, say).
var ErrStuck = errors.New("proc: process did not exit after SIGKILL")

// killWait bounds how long Stop waits for SIGKILL to take effect.
const killWait = 5 * time.Second

// Spec says how to start a child.
type Spec struct {
	Path string
	Args []string // arguments after the program name
	Env  []string // nil: the harness's environment
	Dir  string
	// CPUs is a CPU list ("0", "1-3") the child and everything it starts
	// are pinned to from their first instruction; "" leaves it unpinned.
	CPUs  string
	Stdin io.Reader // nil: /dev/null
	// OwnPIDs keeps the child in this PID namespace: for a child that
	// reads /proc (mounted for this namespace) by the PIDs it sees, as c10k
	// agent does; it makes the namespaces of its own children.
	OwnPIDs bool
	Stdout  io.Writer // nil: discarded
	Stderr  io.Writer // nil: discarded
}

// Process is a started child, leader of its own process group.
type Process struct {
	cmd    *exec.Cmd
	pid    int
	exited chan struct{} // closed when the leader has exited (not yet reaped)

	stopOnce sync.Once
	state    *os.ProcessState
	stopErr  error
}

var (
	liveMu sync.Mutex
	live   = map[*Process]struct{}{}
)

// Start starts spec pinned to its CPUs in a new process group and, where
// the kernel allows it, a new PID namespace of which the child is the init.
//
// Nothing the child starts may outlive the harness, even one killed by
// SIGKILL, which no handler sees. Pdeathsig kills the child when the
// harness dies; a peer's workers (nginx's, Apache's) are the child's
// children, and the kernel kills every process of a PID namespace when its
// init dies. Where namespaces are not allowed (no CAP_SYS_ADMIN) the child
// runs without one, and Contained says so: then only Stop, through the
// process group, reaches the workers.
func Start(spec Spec) (*Process, error) {
	var cpus *unix.CPUSet
	if spec.CPUs != "" {
		set, err := ParseCPUList(spec.CPUs)
		if err != nil {
			return nil, err
		}
		cpus = &set
	}
	clone := uintptr(0)
	if Contained() && !spec.OwnPIDs {
		clone = unix.CLONE_NEWPID
	}
	cmd := command(spec, clone)
	err := onSpawner(cpus, cmd.Start)
	if err != nil && clone != 0 && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL)) {
		noNamespaces.Store(true)
		cmd = command(spec, 0)
		err = onSpawner(cpus, cmd.Start)
	}
	if err != nil {
		return nil, fmt.Errorf("proc: starting %s: %w", spec.Path, err)
	}
	p := &Process{cmd: cmd, pid: cmd.Process.Pid, exited: make(chan struct{})}
	liveMu.Lock()
	live[p] = struct{}{}
	liveMu.Unlock()
	go p.watch()
	return p, nil
}

// noNamespaces is set once creating a PID namespace has failed.
var noNamespaces atomic.Bool

// Contained reports whether children start in PID namespaces of their own
// (true until the kernel first refuses one).
func Contained() bool { return !noNamespaces.Load() }

func command(spec Spec, clone uintptr) *exec.Cmd {
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = spec.Env
	cmd.Dir = spec.Dir
	cmd.Stdin = spec.Stdin
	cmd.Stdout = spec.Stdout
	cmd.Stderr = spec.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Cloneflags: clone}
	// A grandchild that escaped the group could hold the output pipes open
	// forever; do not let Wait hang on it.
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// watch closes exited when the leader exits, leaving it a zombie so its
// PID (the group ID) is not reused until Stop reaps it.
func (p *Process) watch() {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, p.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	close(p.exited)
}

// PID is the child's PID, which is also its process group ID.
func (p *Process) PID() int { return p.pid }

// Exited is closed once the process has exited, whether by itself or
// through Stop.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Stop ends the process and its group: SIGTERM, then SIGKILL after grace
// (0: SIGKILL at once). If the process already exited it is only reaped,
// and any of its group left behind killed. It is idempotent and returns
// the leader's exit state; a non-zero exit is not an error here (use
// ExitString to describe it).
func (p *Process) Stop(grace time.Duration) (*os.ProcessState, error) {
	p.stopOnce.Do(func() {
		p.stopErr = p.stop(grace)
		liveMu.Lock()
		delete(live, p)
		liveMu.Unlock()
	})
	return p.state, p.stopErr
}

func (p *Process) stop(grace time.Duration) error {
	select {
	case <-p.exited:
	default:
		if grace > 0 {
			p.signalGroup(unix.SIGTERM)
			t := time.NewTimer(grace)
			select {
			case <-p.exited:
			case <-t.C:
			}
			t.Stop()
		}
		select {
		case <-p.exited:
		default:
			p.signalGroup(unix.SIGKILL)
			t := time.NewTimer(killWait)
			defer t.Stop()
			select {
			case <-p.exited:
			case <-t.C:
				return fmt.Errorf("proc: pid %d: %w", p.pid, ErrStuck)
			}
		}
	}
	// The leader is a zombie, so the group ID is still ours: clear out any
	// member that outlived it (a worker whose master crashed).
	p.signalGroup(unix.SIGKILL)
	err := p.cmd.Wait()
	p.state = p.cmd.ProcessState
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return fmt.Errorf("proc: waiting for pid %d: %w", p.pid, err)
	}
	return p.waitGroupGone(killWait)
}

// waitGroupGone waits until no process is left in the group, so that a
// caller that measures the machine next does not see a dying straggler.
func (p *Process) waitGroupGone(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for unix.Kill(-p.pid, 0) == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("proc: process group %d: %w", p.pid, ErrStuck)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func (p *Process) signalGroup(sig unix.Signal) {
	// ESRCH (nobody left) is the normal end; nothing else can happen to a
	// group we created and still hold.
	_ = unix.Kill(-p.pid, sig)
}

// StopAll stops every process started by Start and not yet stopped, all at
// once: it is the harness's last line of defence on Ctrl-C.
func StopAll(grace time.Duration) {
	liveMu.Lock()
	ps := make([]*Process, 0, len(live))
	for p := range live {
		ps = append(ps, p)
	}
	liveMu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = p.Stop(grace)
		}()
	}
	wg.Wait()
}

// Live returns the PIDs of processes started and not yet stopped.
func Live() []int {
	liveMu.Lock()
	defer liveMu.Unlock()
	pids := make([]int, 0, len(live))
	for p := range live {
		pids = append(pids, p.pid)
	}
	return pids
}

// ExitString describes how a process ended: "exit status 2",
// "killed by signal: killed", or "" when it has not been reaped.
func ExitString(st *os.ProcessState) string {
	if st == nil {
		return ""
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "killed by signal: " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", st.ExitCode())
}
