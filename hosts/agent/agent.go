// Package agent runs one process on a host for the harness and ties its
// life to the channel that started it. The harness runs
// `c10k agent [flags] -- PROGRAM ARGS...` on a host (hosts.Host.Argv: here,
// in a network namespace, or over ssh) and talks to it on the agent's
// stdin and stdout:
//
//	stdin, one word a line:
//	  go        close the child's stdin (the load generator's start gate)
//	  sample    take a sample of the child's process tree now
//	  stop [D]  stop the child: SIGTERM, SIGKILL after D (a Go duration;
//	            -grace without one)
//	  (EOF)     as stop: the harness, or the ssh connection, is gone
//	stdout:
//	  the child's stdout, line by line, and lines of the agent's own:
//	  "c10k-agent pid PID" (the child's PID as the host's /proc shows
//	  it), "c10k-agent sample JSON" (a results.Sample: every sample the
//	  sampler took, periodic or asked for), "c10k-agent take JSON" (the
//	  answer to "sample"), "c10k-agent take-error MSG",
//	  "c10k-agent exit STATUS"
//	exit status: the child's (128+N when signal N ended it)
//
// The child starts as proc.Start starts the harness's own children: pinned
// to -cpus, in a PID namespace of its own, killed if the agent dies. So
// nothing outlives the channel: an ssh client the harness kills (or that
// dies with it) closes the remote agent's stdin, and the agent stops the
// child. Samples are taken on the host itself, by the same sampler the
// harness uses locally, so a server's /proc and its sockets (sock_diag sees
// only its own network namespace) are read where they are.
package agent

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"c10k/harness/proc"
	"c10k/harness/procfs"
	"c10k/harness/results"
	"c10k/harness/sampler"
)

// Prefix starts every line the agent itself writes on its stdout.
const Prefix = "c10k-agent "

// DefaultGrace is how long a stopped child has to exit after SIGTERM: a
// load generator writes its partial result then.
const DefaultGrace = 10 * time.Second

// config is the agent's command line.
type config struct {
	cpus   string
	period time.Duration
	port   int
	addr   string
	epoch  time.Time
	grace  time.Duration
	clock  bool
	env    bool
	argv   []string
}

// Main is `c10k agent`: it parses args, runs the child and returns the
// exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("c10k agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: c10k agent [-cpus LIST] [-sample PERIOD -port P -epoch NS] [-grace D] -- PROGRAM ARGS...\n"+
			"       c10k agent -clock | -env\n\n"+
			"Runs PROGRAM (a c10k command such as serve or load, or a path) for the benchmark harness on\n"+
			"the host it was started on, and stops it when stdin says stop or closes. Not meant to be run\n"+
			"by hand: the harness starts it through `ip netns exec` or ssh (package hosts/agent says how).")
		fs.PrintDefaults()
	}
	var c config
	var epochNS int64
	fs.StringVar(&c.cpus, "cpus", "", "pin the child to this CPU `list`")
	fs.DurationVar(&c.period, "sample", 0, "sample the child's process tree every `period`, and when asked; 0: never")
	fs.IntVar(&c.port, "port", 0, "count the connections of this server `port` in each sample")
	fs.StringVar(&c.addr, "addr", "127.0.0.1", "the server's IPv4 `address` for -port's connection counts")
	fs.Int64Var(&epochNS, "epoch", 0, "sample times are seconds since this Unix time in `ns`, on this host's clock")
	fs.DurationVar(&c.grace, "grace", DefaultGrace, "time between SIGTERM and SIGKILL when stopping")
	fs.BoolVar(&c.clock, "clock", false, "answer each line of stdin with this host's Unix time in ns (clock offsets)")
	fs.BoolVar(&c.env, "env", false, "print this host's description (results.Env) as JSON and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c.argv = fs.Args()
	if a, err := netip.ParseAddr(c.addr); err != nil || !a.Is4() {
		fmt.Fprintf(stderr, "c10k agent: -addr %q: not an IPv4 address\n", c.addr)
		return 2
	}
	c.epoch = time.Unix(0, epochNS)
	switch {
	case c.clock:
		return answerClock(stdin, stdout)
	case c.env:
		return printEnv(stdout, stderr)
	case len(c.argv) == 0:
		fs.Usage()
		return 2
	}
	return run(c, stdin, stdout, stderr)
}

// answerClock writes the time for each line read until EOF.
func answerClock(stdin io.Reader, stdout io.Writer) int {
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		if _, err := fmt.Fprintln(stdout, time.Now().UnixNano()); err != nil {
			return 1
		}
	}
	return 0
}

func printEnv(stdout, stderr io.Writer) int {
	env, err := procfs.ReadEnv()
	if err != nil {
		fmt.Fprintln(stderr, "c10k agent:", err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(env); err != nil {
		return 1
	}
	return 0
}

// lines serialises whole lines onto the agent's stdout: the child's
// output and the agent's own lines come from different goroutines.
type lines struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte // the child's unfinished line
}

func (l *lines) say(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, Prefix+format+"\n", a...)
}

// Write takes the child's stdout and passes on complete lines.
func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	if i := strings.LastIndexByte(string(l.buf), '\n'); i >= 0 {
		if _, err := l.w.Write(l.buf[:i+1]); err != nil {
			return 0, err
		}
		l.buf = append(l.buf[:0], l.buf[i+1:]...)
	}
	return len(p), nil
}

func (l *lines) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.w.Write(append(l.buf, '\n'))
		l.buf = nil
	}
}

// run starts the child and serves the channel until the child exits.
func run(c config, stdin io.Reader, stdout, stderr io.Writer) int {
	path, args := c.argv[0], c.argv[1:]
	if !strings.Contains(path, "/") {
		// A c10k command: this very binary runs it.
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintln(stderr, "c10k agent: finding this binary:", err)
			return 1
		}
		path, args = exe, c.argv
	}
	out := &lines{w: stdout}
	// An OS pipe, not an io.Pipe: exec would copy from an io.Pipe in a
	// goroutine that Wait waits for, and a gate never opened would hang it.
	gateR, gateW, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(stderr, "c10k agent:", err)
		return 1
	}
	p, err := proc.Start(proc.Spec{Path: path, Args: args, CPUs: c.cpus, Stdin: gateR, Stdout: out, Stderr: stderr})
	gateR.Close()
	if err != nil {
		gateW.Close()
		fmt.Fprintln(stderr, "c10k agent:", err)
		return 1
	}
	pid, err := procPID(p.PID())
	if err != nil {
		fmt.Fprintln(stderr, "c10k agent: samples may miss the child:", err)
		pid = p.PID()
	}
	out.say("pid %d", pid)
	var smp *sampler.Sampler
	if c.period > 0 {
		addr, _ := netip.ParseAddr(c.addr)
		smp = sampler.Start(sampler.Config{Root: pid, Port: c.port, Addr: addr.As4(), Period: c.period, Epoch: c.epoch})
	}
	// Periodic samples: the sampler keeps them; they are passed on as
	// they come, so the harness holds them even if the channel breaks.
	stopStream := make(chan struct{})
	streamDone := make(chan struct{})
	go func() {
		defer close(streamDone)
		if smp == nil {
			return
		}
		sent := 0
		pass := func() {
			all := smp.Samples()
			for ; sent < len(all); sent++ {
				say(out, "sample", all[sent])
			}
		}
		t := time.NewTicker(c.period)
		defer t.Stop()
		for {
			select {
			case <-stopStream:
				pass()
				return
			case <-t.C:
				pass()
			}
		}
	}()
	// stopAsked carries the grace the stop asked for.
	stopAsked := make(chan time.Duration, 1)
	go func() {
		grace := c.grace
		defer func() { stopAsked <- grace }()
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			word, arg, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
			switch word {
			case "go":
				gateW.Close()
			case "sample":
				if smp == nil {
					out.say("take-error not sampling")
					continue
				}
				s, err := smp.Take()
				if err != nil {
					out.say("take-error %s", oneLine(err.Error()))
					continue
				}
				say(out, "take", s)
			case "stop":
				if d, err := time.ParseDuration(arg); err == nil && d >= 0 {
					grace = d
				}
				return
			}
		}
	}()
	grace := c.grace
	select {
	case <-p.Exited():
	case grace = <-stopAsked:
	}
	st, err := p.Stop(grace)
	gateW.Close()
	if smp != nil {
		smp.Stop()
	}
	close(stopStream)
	<-streamDone
	out.flush()
	code := exitCode(st)
	if err != nil {
		fmt.Fprintln(stderr, "c10k agent:", err)
	}
	out.say("exit %s", proc.ExitString(st))
	return code
}

// say writes one sample line.
func say(out *lines, kind string, s results.Sample) {
	b, err := json.Marshal(s)
	if err != nil {
		out.say("take-error %s", oneLine(err.Error()))
		return
	}
	out.say("%s %s", kind, b)
}

// exitCode is the status the agent exits with for the child's: its own,
// or 128+N for a signal, as a shell reports it.
func exitCode(st *os.ProcessState) int {
	if st == nil {
		return 1
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

// procPID turns pid, the child's PID as this process sees it, into its
// PID in the /proc this process reads. The two differ when the agent runs
// in a PID namespace of its own under the host's /proc (the harness starts
// it in its own, proc.Spec.OwnPIDs; a container might not): the sampler
// reads /proc, and the harness looks for the PID there.
func procPID(pid int) (int, error) {
	self, err := nsPIDs("self")
	if err != nil {
		return 0, err
	}
	level := len(self) - 1 // this process's namespace, counted from /proc's
	if level == 0 {
		return pid, nil
	}
	// NStgid lists a process's PIDs from /proc's namespace down; the
	// child's entry at our level is the PID we know it by.
	files, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, kid := range strings.Fields(string(b)) {
			if ns, err := nsPIDs(kid); err == nil && len(ns) > level && ns[level] == strconv.Itoa(pid) {
				return strconv.Atoi(kid)
			}
		}
	}
	return 0, fmt.Errorf("child %d not found in /proc/self/task/*/children", pid)
}

// nsPIDs reads the NStgid line of /proc/PROC/status.
func nsPIDs(proc string) ([]string, error) {
	b, err := os.ReadFile("/proc/" + proc + "/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "NStgid:"); ok {
			return strings.Fields(rest), nil
		}
	}
	return nil, fmt.Errorf("/proc/%s/status has no NStgid (Linux 4.1 or later has it)", proc)
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// Args is the agent's command line for running argv on a host with
// binary at bin: pinned to cpus, sampled every period (0: never) and
// counting the connections to addr:port when port > 0 ("": 127.0.0.1), sample times taken
// from epoch (on the host's clock).
func Args(bin, cpus string, period time.Duration, addr string, port int, epoch time.Time, argv []string) []string {
	a := []string{bin, "agent"}
	if cpus != "" {
		a = append(a, "-cpus", cpus)
	}
	if period > 0 {
		a = append(a, "-sample", period.String())
	}
	if port > 0 {
		a = append(a, "-port", strconv.Itoa(port))
		if addr != "" {
			a = append(a, "-addr", addr)
		}
	}
	if !epoch.IsZero() {
		a = append(a, "-epoch", strconv.FormatInt(epoch.UnixNano(), 10))
	}
	return append(append(a, "--"), argv...)
}
