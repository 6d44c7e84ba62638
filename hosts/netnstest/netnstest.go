package netnstest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// ScriptPath is the topology script, relative to the module root.
const ScriptPath = "scripts/netns-hosts.sh"

// exitSkip is the script's status for "not possible on this machine".
const exitSkip = 3

// scriptTimeout bounds one run of the script; up takes well under a
// second, sshd waits at most 5 s for its first login.
const scriptTimeout = 30 * time.Second

// Topology is one set of test hosts built by Up.
type Topology struct {
	// Prefix names everything the topology owns: namespaces Prefix-srv,
	// Prefix-l1, Prefix-l2, bridge Prefix-br.
	Prefix string
	// Server, Load1 and Load2 are host specs, "netns:NAME".
	Server, Load1, Load2 string
	// ServerAddr, Load1Addr and Load2Addr are the hosts' IPv4 addresses;
	// BridgeAddr is the root namespace's address on the same subnet.
	ServerAddr, Load1Addr, Load2Addr, BridgeAddr string

	script string
}

// Up builds a topology with a fresh prefix and subnet and removes it when
// the test ends. It skips the test when namespaces are not permitted here.
func Up(tb testing.TB) *Topology {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skipf("netnstest: network namespaces need root (euid %d)", os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		tb.Skip("netnstest: ip (iproute2) not found")
	}
	script, err := FindScript()
	if err != nil {
		tb.Fatal(err)
	}
	// A clash (another test's prefix or subnet taken meanwhile) is refused
	// by the script before it builds anything: draw again.
	const attempts = 5
	for i := 0; ; i++ {
		prefix := randomPrefix()
		n, err := freeSubnet()
		if err != nil {
			tb.Fatal(err)
		}
		out, status, err := run(script, "up", prefix, fmt.Sprint(n))
		if status == exitSkip {
			tb.Skip(err)
		}
		if err != nil {
			if i+1 < attempts && strings.Contains(err.Error(), "already") {
				continue
			}
			tb.Fatal(err)
		}
		t, err := parseTopology(out)
		if err != nil {
			// It was built: take it down before failing.
			_, _, downErr := run(script, "down", prefix)
			tb.Fatal(errors.Join(err, downErr))
		}
		t.Prefix, t.script = prefix, script
		tb.Cleanup(func() {
			if err := t.Down(); err != nil {
				tb.Error(err)
			}
		})
		return t
	}
}

// SSHD starts sshd inside namespace ns (a spec like t.Load1, a name like
// "PREFIX-l1" or a role "srv", "l1", "l2") on its address, port 22, and
// returns the host spec to reach it ("ssh://root@ADDR") and the client
// config to pass to `ssh -F`. Down stops it. It skips the test when sshd
// is not installed.
func (t *Topology) SSHD(tb testing.TB, ns string) (host, sshConfig string) {
	tb.Helper()
	out, status, err := run(t.script, "sshd", t.Prefix, t.nsName(ns))
	if status == exitSkip {
		tb.Skip(err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	kv, err := parseKV(out)
	if err != nil {
		tb.Fatal(err)
	}
	host, sshConfig = kv["ssh"], kv["ssh_config"]
	if host == "" || sshConfig == "" {
		tb.Fatalf("netnstest: sshd output lacks ssh= or ssh_config=: %q", out)
	}
	return host, sshConfig
}

// Exec returns a command that runs argv inside namespace ns (a spec, a
// name or a role, as for SSHD) through `ip netns exec`.
func (t *Topology) Exec(ns string, argv ...string) *exec.Cmd {
	return exec.Command("ip", t.execArgs(ns, argv)...)
}

// ExecContext is Exec with a context that kills the command (the process
// `ip netns exec` becomes) when done.
func (t *Topology) ExecContext(ctx context.Context, ns string, argv ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", t.execArgs(ns, argv)...)
}

func (t *Topology) execArgs(ns string, argv []string) []string {
	return append([]string{"netns", "exec", t.nsName(ns)}, argv...)
}

// Down stops the topology's sshds and removes its namespaces, bridge and
// state. It is safe to call more than once; Up's cleanup calls it too.
func (t *Topology) Down() error {
	_, _, err := run(t.script, "down", t.Prefix)
	return err
}

// nsName turns a host spec or a role into the namespace's name.
func (t *Topology) nsName(ns string) string {
	ns = strings.TrimPrefix(ns, "netns:")
	switch ns {
	case "srv", "l1", "l2":
		return t.Prefix + "-" + ns
	}
	return ns
}

// FindScript returns the absolute path of scripts/netns-hosts.sh: it looks
// up from the working directory (a test runs in its package's directory),
// then from this source file, for the directory holding go.mod.
func FindScript() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				p := filepath.Join(dir, ScriptPath)
				if _, err := os.Stat(p); err == nil {
					return p, nil
				}
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("netnstest: %s not found above %v", ScriptPath, starts)
}

// run runs the script and returns its stdout and exit status; err carries
// its stderr.
func run(script string, args ...string) (stdout string, status int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// sshd daemonises with its own stdio; should anything still hold the
	// pipes, do not wait for it.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if err == nil {
		return out.String(), 0, nil
	}
	status = -1
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		status = exit.ExitCode()
	}
	msg := strings.TrimSpace(errb.String())
	if status == exitSkip && msg != "" {
		return out.String(), status, errors.New(msg)
	}
	return out.String(), status, fmt.Errorf("netnstest: %s %s: %w: %s", filepath.Base(script), strings.Join(args, " "), err, msg)
}

// parseKV reads the script's KEY=VALUE lines.
func parseKV(out string) (map[string]string, error) {
	kv := make(map[string]string)
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("netnstest: not KEY=VALUE: %q", line)
		}
		kv[k] = v
	}
	return kv, sc.Err()
}

// parseTopology reads `up`'s output; every key must be there.
func parseTopology(out string) (*Topology, error) {
	kv, err := parseKV(out)
	if err != nil {
		return nil, err
	}
	t := &Topology{}
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"server", &t.Server}, {"server_addr", &t.ServerAddr},
		{"load1", &t.Load1}, {"load1_addr", &t.Load1Addr},
		{"load2", &t.Load2}, {"load2_addr", &t.Load2Addr},
		{"bridge_addr", &t.BridgeAddr},
	} {
		v, ok := kv[f.key]
		if !ok || v == "" {
			return nil, fmt.Errorf("netnstest: up printed no %s: %q", f.key, out)
		}
		*f.dst = v
	}
	return t, nil
}

// randomPrefix returns "c10k" and four random lowercase letters or digits:
// 8 characters, the script's limit.
func randomPrefix() string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := []byte("c10k....")
	for i := 4; i < len(b); i++ {
		b[i] = chars[rand.IntN(len(chars))]
	}
	return string(b)
}

// freeSubnet picks a random N in 1..254 whose 198.18.N.0/24 overlaps no
// address of the root namespace's interfaces.
func freeSubnet() (int, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return 0, fmt.Errorf("netnstest: interface addresses: %w", err)
	}
	var used []netip.Prefix
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() {
			used = append(used, p.Masked())
		}
	}
	for _, n := range rand.Perm(254) {
		n++
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(n), 0}), 24)
		if !overlapsAny(p, used) {
			return n, nil
		}
	}
	return 0, errors.New("netnstest: every 198.18.N.0/24 (N 1..254) is in use")
}

func overlapsAny(p netip.Prefix, used []netip.Prefix) bool {
	for _, u := range used {
		if p.Overlaps(u) {
			return true
		}
	}
	return false
}
