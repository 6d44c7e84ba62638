package netnstest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// helperEnv selects what the re-executed test binary does instead of
// running tests: "listen" or "dial", on the address in helperAddrEnv.
const (
	helperEnv     = "NETNSTEST_HELPER"
	helperAddrEnv = "NETNSTEST_ADDR"
	helperNEnv    = "NETNSTEST_ACCEPT"
	greeting      = "netnstest hello"
	helperTimeout = 8 * time.Second
)

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "listen":
		os.Exit(helperListen(os.Getenv(helperAddrEnv), os.Getenv(helperNEnv)))
	case "dial":
		os.Exit(helperDial(os.Getenv(helperAddrEnv)))
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// helperListen listens on HOST:0, prints "listening HOST:PORT", greets n
// connections and exits; it gives up after helperTimeout.
func helperListen(host, n string) int {
	count, err := strconv.Atoi(n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad count:", err)
		return 2
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer ln.Close()
	if err := ln.(*net.TCPListener).SetDeadline(time.Now().Add(helperTimeout)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("listening", ln.Addr())
	for range count {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		_, err = io.WriteString(c, greeting+"\n")
		c.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// helperDial connects to addr and prints the first line it reads.
func helperDial(addr string) int {
	line, err := readGreeting(addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(line)
	return 0
}

func readGreeting(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(3 * time.Second)); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// listener is a "listen" helper running inside a namespace.
type listener struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

// startListener runs the "listen" helper in ns on host, greeting n
// connections, and returns once it listens.
func startListener(ctx context.Context, t *testing.T, topo *Topology, ns, host string, n int) *listener {
	t.Helper()
	cmd := topo.ExecContext(ctx, ns, os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=listen", helperAddrEnv+"="+host, helperNEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start listener in %s: %v", ns, err)
	}
	l := &listener{cmd: cmd, done: make(chan error, 1)}
	// The context kills the helper if it never prints, which ends this read.
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		_ = cmd.Wait()
		t.Fatalf("listener in %s: read %q: %v", ns, line, err)
	}
	l.addr = addr
	go func() { l.done <- cmd.Wait() }()
	return l
}

func (l *listener) wait(t *testing.T) {
	t.Helper()
	if err := <-l.done; err != nil {
		t.Errorf("listener on %s: %v", l.addr, err)
	}
}

// dialFrom runs the "dial" helper in ns and returns what it read.
func dialFrom(ctx context.Context, topo *Topology, ns, addr string) (string, error) {
	cmd := topo.ExecContext(ctx, ns, os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=dial", helperAddrEnv+"="+addr)
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(exit.Stderr)))
		}
		return "", fmt.Errorf("dial %s from %s: %w", addr, ns, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func TestTopology(t *testing.T) {
	topo := Up(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	t.Run("shape", func(t *testing.T) { checkShape(t, topo) })

	// Two hosts talk over the bridge: l1 and the root namespace both reach
	// a listener on the server's address.
	srv := startListener(ctx, t, topo, topo.Server, topo.ServerAddr, 2)
	if got, err := dialFrom(ctx, topo, topo.Load1, srv.addr); err != nil || got != greeting {
		t.Errorf("from %s: got %q, %v; want %q", topo.Load1, got, err, greeting)
	}
	if got, err := readGreeting(srv.addr); err != nil || got != greeting {
		t.Errorf("from the root namespace: got %q, %v; want %q", got, err, greeting)
	}
	srv.wait(t)

	// The server namespace has a loopback of its own: up, and not the
	// root namespace's.
	lo := startListener(ctx, t, topo, topo.Server, "127.0.0.1", 1)
	if got, err := readGreeting(lo.addr); err == nil && got == greeting {
		t.Errorf("the root namespace reached %s, the server namespace's loopback", lo.addr)
	}
	if got, err := dialFrom(ctx, topo, topo.Server, lo.addr); err != nil || got != greeting {
		t.Errorf("loopback inside %s: got %q, %v; want %q", topo.Server, got, err, greeting)
	}
	lo.wait(t)

	// Sad path: the same prefix again is refused and breaks nothing.
	if _, status, err := run(topo.script, "up", topo.Prefix, "0"); status != 1 || !strings.Contains(fmt.Sprint(err), "already exists") {
		t.Errorf("second up %s: status %d, %v; want 1 and \"already exists\"", topo.Prefix, status, err)
	}

	host, cfg := topo.SSHD(t, topo.Load2)
	if want := "ssh://root@" + topo.Load2Addr; host != want {
		t.Errorf("sshd host = %q, want %q", host, want)
	}
	ssh := exec.CommandContext(ctx, "ssh", "-F", cfg, "root@"+topo.Load2Addr, "echo ok")
	if out, err := ssh.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("ssh -F %s root@%s echo ok: %q, %v", cfg, topo.Load2Addr, out, err)
	}
	pid := sshdPID(t, filepath.Join(filepath.Dir(cfg), "l2", "sshd.pid"))

	if err := topo.Down(); err != nil {
		t.Fatal(err)
	}
	checkGone(t, topo, cfg, pid)
	if err := topo.Down(); err != nil {
		t.Errorf("second down: %v", err)
	}
}

func checkShape(t *testing.T, topo *Topology) {
	for _, c := range []struct{ spec, want string }{
		{topo.Server, "netns:" + topo.Prefix + "-srv"},
		{topo.Load1, "netns:" + topo.Prefix + "-l1"},
		{topo.Load2, "netns:" + topo.Prefix + "-l2"},
	} {
		if c.spec != c.want {
			t.Errorf("host spec %q, want %q", c.spec, c.want)
		}
	}
	bridge, err := netip.ParseAddr(topo.BridgeAddr)
	if err != nil {
		t.Fatal(err)
	}
	subnet := netip.PrefixFrom(bridge, 24).Masked()
	if !netip.MustParsePrefix("198.18.0.0/15").Contains(bridge) || bridge.As4()[3] != 1 {
		t.Errorf("bridge address %s, want 198.18.N.1", bridge)
	}
	for _, c := range []struct {
		addr string
		last byte
	}{{topo.ServerAddr, 10}, {topo.Load1Addr, 11}, {topo.Load2Addr, 12}} {
		a, err := netip.ParseAddr(c.addr)
		if err != nil || !subnet.Contains(a) || a.As4()[3] != c.last {
			t.Errorf("host address %q, want %s.%d", c.addr, strings.TrimSuffix(subnet.Addr().String(), ".0"), c.last)
		}
	}
}

// sshdPID reads the pid file and checks that it names a live sshd.
func sshdPID(t *testing.T, pidFile string) int {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %s: %v", pidFile, err)
	}
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || filepath.Base(exe) != "sshd" {
		t.Fatalf("pid %d from %s is not sshd: %q, %v", pid, pidFile, exe, err)
	}
	return pid
}

// checkGone checks that Down left no namespace, interface, state or sshd.
func checkGone(t *testing.T, topo *Topology, cfg string, pid int) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), topo.Prefix) {
		t.Errorf("namespaces left after down:\n%s", out)
	}
	out, err = exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), topo.Prefix) {
		t.Errorf("interfaces left after down:\n%s", out)
	}
	if _, err := os.Stat(filepath.Dir(cfg)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state dir %s left after down: %v", filepath.Dir(cfg), err)
	}
	// An exited sshd may linger as a zombie until init reaps it.
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:])); len(f) > 0 && f[0] != "Z" {
			t.Errorf("sshd %d still running after down (state %s)", pid, f[0])
		}
	}
}

func TestScriptRefusesBadArguments(t *testing.T) {
	script, err := FindScript()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	// Every case is refused before the script touches anything, so it
	// runs without root.
	for _, c := range []struct {
		name   string
		args   []string
		status int
		stderr string
	}{
		{"no subcommand", nil, 2, "usage:"},
		{"unknown subcommand", []string{"sideways"}, 2, "usage:"},
		{"up without prefix", []string{"up"}, 2, "usage:"},
		{"up with extra argument", []string{"up", "a", "1", "2"}, 2, "usage:"},
		{"prefix too long", []string{"up", "toolong99"}, 1, "longer than 8"},
		{"prefix with slash", []string{"up", "a/b"}, 1, "must be 1 to 8"},
		{"prefix starting with dash", []string{"down", "-x"}, 1, "must be 1 to 8"},
		{"subnet too large", []string{"up", "ok", "256"}, 1, "0..255"},
		{"subnet octal-looking", []string{"up", "ok", "07"}, 1, "0..255"},
		{"subnet not a number", []string{"up", "ok", "x"}, 1, "0..255"},
		{"sshd in a foreign namespace", []string{"sshd", "ok", "other-srv"}, 1, "is not one of"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, status, err := run(script, c.args...)
			if status != c.status || !strings.Contains(fmt.Sprint(err), c.stderr) {
				t.Errorf("status %d, %v; want %d and %q", status, err, c.status, c.stderr)
			}
		})
	}
}

func TestParseTopology(t *testing.T) {
	full := "server=netns:p-srv\nserver_addr=198.18.3.10\nload1=netns:p-l1\nload1_addr=198.18.3.11\n" +
		"load2=netns:p-l2\nload2_addr=198.18.3.12\nbridge_addr=198.18.3.1\n"
	for _, c := range []struct {
		name, out string
		want      *Topology
		err       string
	}{
		{"happy", full, &Topology{Server: "netns:p-srv", ServerAddr: "198.18.3.10", Load1: "netns:p-l1",
			Load1Addr: "198.18.3.11", Load2: "netns:p-l2", Load2Addr: "198.18.3.12", BridgeAddr: "198.18.3.1"}, ""},
		{"happy with blank lines", "\n" + full + "\n\n", &Topology{Server: "netns:p-srv", ServerAddr: "198.18.3.10",
			Load1: "netns:p-l1", Load1Addr: "198.18.3.11", Load2: "netns:p-l2", Load2Addr: "198.18.3.12",
			BridgeAddr: "198.18.3.1"}, ""},
		{"missing key", strings.Replace(full, "load2_addr=198.18.3.12\n", "", 1), nil, "no load2_addr"},
		{"empty value", strings.Replace(full, "bridge_addr=198.18.3.1", "bridge_addr=", 1), nil, "no bridge_addr"},
		{"not key=value", full + "garbage\n", nil, "not KEY=VALUE"},
		{"empty", "", nil, "no server"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseTopology(c.out)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != *c.want {
				t.Errorf("got %+v, want %+v", *got, *c.want)
			}
		})
	}
}

func TestNsName(t *testing.T) {
	topo := &Topology{Prefix: "c10kabcd"}
	for _, c := range []struct{ in, want string }{
		{"netns:c10kabcd-srv", "c10kabcd-srv"},
		{"c10kabcd-l1", "c10kabcd-l1"},
		{"l2", "c10kabcd-l2"},
		{"srv", "c10kabcd-srv"},
	} {
		if got := topo.nsName(c.in); got != c.want {
			t.Errorf("nsName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRandomPrefix(t *testing.T) {
	for range 100 {
		p := randomPrefix()
		if len(p) != 8 || !strings.HasPrefix(p, "c10k") || strings.Trim(p[4:], "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			t.Fatalf("randomPrefix() = %q", p)
		}
	}
}

func TestOverlapsAny(t *testing.T) {
	used := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.18.4.0/23")}
	for _, c := range []struct {
		n    int
		want bool
	}{{3, false}, {4, true}, {5, true}, {6, false}} {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, byte(c.n), 0}), 24)
		if got := overlapsAny(p, used); got != c.want {
			t.Errorf("overlapsAny(%s) = %v, want %v", p, got, c.want)
		}
	}
}
