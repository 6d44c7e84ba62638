// Package hosts runs commands on the machines of a benchmark: this one
// (local), a network namespace of this one (netns:NAME, through
// `ip netns exec`), or another machine over OpenSSH
// (ssh://[user@]host[:port], key authentication from the user's ssh
// configuration, never a password prompt).
//
// A Host only knows how to reach its machine: it turns a command line into
// one that runs there (Argv), copies the c10k binary and files there, reads
// files back and removes them. Everything that runs on a host runs under
// `c10k agent` (package hosts/agent), which ties the remote processes' lives
// to the channel: when the harness dies, the channel closes and the agent
// stops what it started.
package hosts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrSpec is returned (wrapped) for a host specification that does not parse.
var ErrSpec = errors.New("hosts: bad host")

// Kind is how a host is reached.
type Kind int

// The kinds of host.
const (
	Local Kind = iota // this machine, this network namespace
	NetNS             // a network namespace of this machine: same files, own network
	SSH               // another machine, over OpenSSH
)

// Host is one machine a benchmark runs processes on. The zero value is not
// usable; make one with Parse.
type Host struct {
	spec  string
	kind  Kind
	netns string // NetNS
	// SSH
	user, host string
	port       int
	sshConfig  string // ssh -F, "" for the user's own
	control    string // the ControlPath of a shared connection (Master), "" for none
}

// Options are settings every host of a run shares.
type Options struct {
	// SSHConfig is an ssh_config file for ssh -F; "" uses the user's own
	// (~/.ssh/config), which is where a real deployment keeps its keys.
	SSHConfig string
	// ControlDir, when set, is where the shared connections of Master
	// live; commands to an ssh host go through its socket there when it
	// exists (made by this process or by the one that passed the
	// directory on), and log in afresh when it does not.
	ControlDir string
}

// Parse reads one host: "local", "netns:NAME" or "ssh://[user@]host[:port]".
func Parse(spec string, o Options) (*Host, error) {
	switch {
	case spec == "" || spec == "local":
		return &Host{spec: "local", kind: Local}, nil
	case strings.HasPrefix(spec, "netns:"):
		name := strings.TrimPrefix(spec, "netns:")
		if name == "" || strings.ContainsAny(name, "/ \t") {
			return nil, fmt.Errorf("%w %q: netns:NAME needs a namespace name (ip netns list)", ErrSpec, spec)
		}
		return &Host{spec: spec, kind: NetNS, netns: name}, nil
	case strings.HasPrefix(spec, "ssh://"):
		u, err := url.Parse(spec)
		// A user or host starting with "-" would reach ssh as an option
		// (ssh://-oProxyCommand=...), and the remote command as the host.
		if err != nil || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" ||
			strings.HasPrefix(u.Hostname(), "-") || strings.HasPrefix(u.User.Username(), "-") {
			return nil, fmt.Errorf("%w %q: want ssh://[user@]host[:port]", ErrSpec, spec)
		}
		h := &Host{spec: spec, kind: SSH, host: u.Hostname(), sshConfig: o.SSHConfig}
		h.ShareConnections(o.ControlDir)
		if u.User != nil {
			if _, has := u.User.Password(); has {
				return nil, fmt.Errorf("%w %q: no passwords in a host; ssh uses keys", ErrSpec, spec)
			}
			h.user = u.User.Username()
		}
		if p := u.Port(); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 || n > 65535 {
				return nil, fmt.Errorf("%w %q: bad port", ErrSpec, spec)
			}
			h.port = n
		}
		return h, nil
	}
	return nil, fmt.Errorf("%w %q: want local, netns:NAME or ssh://[user@]host[:port]", ErrSpec, spec)
}

// ShareConnections has h's commands share one ssh connection through a
// socket in dir, as Options.ControlDir does for the hosts Parse makes: for
// a host parsed before the directory existed. "" shares none; hosts other
// than ssh ones have no connection to share.
func (h *Host) ShareConnections(dir string) {
	if h.kind != SSH {
		return
	}
	h.control = ""
	if dir != "" {
		sum := sha256.Sum256([]byte(h.spec))
		h.control = filepath.Join(dir, "ssh-"+hex.EncodeToString(sum[:])[:12])
	}
}

// ParseList reads a comma-separated list of hosts; "" is none.
func ParseList(list string, o Options) ([]*Host, error) {
	var out []*Host
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		h, err := Parse(s, o)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// String is the host as it was given ("local" for the local host).
func (h *Host) String() string { return h.spec }

// Kind says how the host is reached.
func (h *Host) Kind() Kind { return h.kind }

// IsLocal reports whether h is this machine in this network namespace.
func (h *Host) IsLocal() bool { return h.kind == Local }

// SharesFiles reports whether h sees this machine's files: a path written
// here is the same path there.
func (h *Host) SharesFiles() bool { return h.kind != SSH }

// Argv is the local command line that runs argv on h.
func (h *Host) Argv(argv []string) []string {
	switch h.kind {
	case NetNS:
		return append([]string{"ip", "netns", "exec", h.netns}, argv...)
	case SSH:
		quoted := make([]string, len(argv))
		for i, a := range argv {
			quoted[i] = shellQuote(a)
		}
		return append(h.sshArgs(), "--", strings.Join(quoted, " "))
	}
	return append([]string(nil), argv...)
}

// sshArgs is ssh and its options up to the destination. BatchMode makes
// a host that wants a password fail at once rather than wait on a prompt
// nobody sees.
func (h *Host) sshArgs() []string {
	a := []string{"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"}
	if h.sshConfig != "" {
		a = append(a, "-F", h.sshConfig)
	}
	if h.control != "" {
		a = append(a, "-o", "ControlMaster=no", "-o", "ControlPath="+h.control)
	}
	if h.port != 0 {
		a = append(a, "-p", strconv.Itoa(h.port))
	}
	dest := h.host
	if h.user != "" {
		dest = h.user + "@" + dest
	}
	return append(a, dest)
}

// Command is an exec.Cmd that runs argv on h, cancelled with ctx.
func (h *Host) Command(ctx context.Context, argv ...string) *exec.Cmd {
	a := h.Argv(argv)
	return exec.CommandContext(ctx, a[0], a[1:]...)
}

// run runs argv on h with stdin and returns its stdout; an error carries
// the host's name and the end of stderr.
func (h *Host) run(ctx context.Context, stdin io.Reader, argv ...string) ([]byte, error) {
	cmd := h.Command(ctx, argv...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if len(msg) > 300 {
			msg = msg[len(msg)-300:]
		}
		if msg != "" {
			return nil, fmt.Errorf("host %s: %s: %w: %s", h, argv[0], err, msg)
		}
		return nil, fmt.Errorf("host %s: %s: %w", h, argv[0], err)
	}
	return out.Bytes(), nil
}

// installDir is where Install keeps binaries on a remote host; their names
// carry a hash of the content, so a copy is made once and never replaced
// under a process that runs it.
const installDir = "/tmp/c10k-bin"

// Install makes the executable at local runnable on h and returns its path
// there: the same path on a host that shares this machine's files, else a
// copy under /tmp/c10k-bin named by its content, made only if missing.
func (h *Host) Install(ctx context.Context, local string) (string, error) {
	if h.SharesFiles() {
		return local, nil
	}
	f, err := os.Open(local)
	if err != nil {
		return "", fmt.Errorf("hosts: %w", err)
	}
	defer f.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return "", fmt.Errorf("hosts: hashing %s: %w", local, err)
	}
	remote := installDir + "/" + filepath.Base(local) + "-" + hex.EncodeToString(sum.Sum(nil))[:16]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("hosts: %w", err)
	}
	tmp := remote + ".tmp" + strconv.Itoa(os.Getpid())
	script := fmt.Sprintf("test -x %[1]s && exit 0; mkdir -p %[2]s && cat > %[3]s && chmod 755 %[3]s && mv -f %[3]s %[1]s",
		shellQuote(remote), installDir, shellQuote(tmp))
	if _, err := h.run(ctx, f, "sh", "-c", script); err != nil {
		return "", fmt.Errorf("installing c10k: %w", err)
	}
	return remote, nil
}

// Upload copies the directory dir to the same path on h (a peer's
// configuration, which names its own directory).
func (h *Host) Upload(ctx context.Context, dir string) error {
	if h.SharesFiles() {
		return nil
	}
	var tarball bytes.Buffer
	tar := exec.CommandContext(ctx, "tar", "-C", dir, "-cf", "-", ".")
	tar.Stdout = &tarball
	if err := tar.Run(); err != nil {
		return fmt.Errorf("hosts: packing %s: %w", dir, err)
	}
	_, err := h.run(ctx, &tarball, "sh", "-c", "mkdir -p "+shellQuote(dir)+" && tar -C "+shellQuote(dir)+" -xf -")
	return err
}

// ReadFile reads a file on h.
func (h *Host) ReadFile(ctx context.Context, path string) ([]byte, error) {
	if h.SharesFiles() {
		return os.ReadFile(path)
	}
	return h.run(ctx, nil, "cat", path)
}

// MkdirTemp makes a new directory on h, named from pattern as os.MkdirTemp
// does, in the host's temporary directory.
func (h *Host) MkdirTemp(ctx context.Context, pattern string) (string, error) {
	if h.SharesFiles() {
		return os.MkdirTemp("", pattern)
	}
	out, err := h.run(ctx, nil, "mktemp", "-d", "-t", pattern+"XXXXXXXX")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// RemoveAll removes path on h and everything under it.
func (h *Host) RemoveAll(ctx context.Context, path string) error {
	if h.SharesFiles() {
		return os.RemoveAll(path)
	}
	_, err := h.run(ctx, nil, "rm", "-rf", "--", path)
	return err
}

// Addr is the IPv4 address the other hosts reach h at: 127.0.0.1 for the
// local host, the namespace's first global address for a namespace, the
// host name resolved here for an ssh host.
func (h *Host) Addr(ctx context.Context) (string, error) {
	switch h.kind {
	case NetNS:
		out, err := exec.CommandContext(ctx, "ip", "-n", h.netns, "-4", "-o", "addr", "show", "scope", "global").Output()
		if err != nil {
			return "", fmt.Errorf("host %s: reading its addresses: %w", h, err)
		}
		return firstInet(string(out), h)
	case SSH:
		ips, err := net.DefaultResolver.LookupIP(ctx, "ip4", h.host)
		if err != nil || len(ips) == 0 {
			return "", fmt.Errorf("host %s: resolving %s: %v", h, h.host, err)
		}
		return ips[0].String(), nil
	}
	return "127.0.0.1", nil
}

// firstInet picks the first address from `ip -o addr` lines:
// "2: eth0    inet 198.18.0.10/24 brd ... scope global eth0".
func firstInet(out string, h *Host) (string, error) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "inet" {
				addr, _, _ := strings.Cut(f[i+1], "/")
				return addr, nil
			}
		}
	}
	return "", fmt.Errorf("host %s: the namespace has no global IPv4 address", h)
}

// shellQuote quotes s for a POSIX shell, as ssh hands the remote command
// to the user's shell. "=" is not left bare: a NAME=VALUE first word is an
// assignment, and the command would run nothing.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:,@+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
