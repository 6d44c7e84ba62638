package hosts

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"c10k/harness/proc"
)

// masterWait bounds how long Master waits for the login.
const masterWait = 30 * time.Second

// Master opens one OpenSSH connection to h that every later command to h
// shares (ssh's ControlMaster): each then costs a round trip instead of a
// login (about a second here). It needs Options.ControlDir. The master
// is a child of this process, killed if this process dies; stop closes
// it. For other hosts, and without a ControlDir, it does nothing.
func (h *Host) Master(ctx context.Context) (stop func(), err error) {
	if h.kind != SSH || h.control == "" {
		return func() {}, nil
	}
	if h.checkMaster(ctx) == nil {
		return func() {}, nil // another process's: it closes it
	}
	a := h.sshArgs()
	dest := a[len(a)-1]
	a = append(a[:len(a)-1:len(a)-1], "-o", "ControlMaster=yes", "-o", "ControlPersist=no", "-N", dest)
	// The options above come after sshArgs' ControlMaster=no: ssh takes
	// the first value of an option, so drop that one.
	a = dropOption(a, "ControlMaster=no")
	var stderr strings.Builder
	p, err := proc.Start(proc.Spec{Path: a[0], Args: a[1:], Stderr: &stderr, OwnPIDs: true})
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", h, err)
	}
	stop = func() {
		p.Stop(2 * time.Second)
		os.Remove(h.control)
	}
	deadline := time.Now().Add(masterWait)
	for {
		if h.checkMaster(ctx) == nil {
			return stop, nil
		}
		select {
		case <-p.Exited():
			stop()
			return nil, fmt.Errorf("host %s: ssh: %s", h, strings.TrimSpace(stderr.String()))
		case <-ctx.Done():
			stop()
			return nil, fmt.Errorf("host %s: %w", h, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("host %s: no ssh connection in %v: %s", h, masterWait, strings.TrimSpace(stderr.String()))
		}
	}
}

// checkMaster asks whether a shared connection to h is up.
func (h *Host) checkMaster(ctx context.Context) error {
	if _, err := os.Stat(h.control); err != nil {
		return err
	}
	a := h.sshArgs()
	dest := a[len(a)-1]
	a = append(a[:len(a)-1:len(a)-1], "-O", "check", dest)
	if err := exec.CommandContext(ctx, a[0], a[1:]...).Run(); err != nil {
		return errors.New("no master")
	}
	return nil
}

func dropOption(a []string, opt string) []string {
	out := a[:0:0]
	for i := 0; i < len(a); i++ {
		if a[i] == "-o" && i+1 < len(a) && a[i+1] == opt {
			i++
			continue
		}
		out = append(out, a[i])
	}
	return out
}
