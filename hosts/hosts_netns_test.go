package hosts_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"c10k/hosts"
	"c10k/hosts/netnstest"
)

// installDir is where Install puts binaries on an ssh host.
const installDir = "/tmp/c10k-bin"

// TestTopology runs the hosts of one netnstest topology: namespaces, and
// an sshd in one of them. The ssh host is a namespace of this machine, so
// it shares this machine's files: what a test writes over ssh it checks
// here, and the other way round.
func TestTopology(t *testing.T) {
	topo := netnstest.Up(t)
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()

	t.Run("addr", func(t *testing.T) { testAddr(ctx, t, topo) })
	t.Run("netns command", func(t *testing.T) { testNetnsCommand(ctx, t, topo) })
	t.Run("netns shares files", func(t *testing.T) { testSharedFiles(ctx, t, topo.Load1) })

	spec, cfg := topo.SSHD(t, topo.Load2)
	ssh := mustParse(t, spec, hosts.Options{SSHConfig: cfg})
	// An ssh login takes about a second here, waiting more than working:
	// the subtests run at once, whatever -parallel says.
	runAtOnce(t, map[string]func(*testing.T){
		"ssh install":     func(t *testing.T) { testInstall(ctx, t, ssh) },
		"ssh files":       func(t *testing.T) { testSSHFiles(ctx, t, ssh) },
		"ssh read error":  func(t *testing.T) { testReadError(ctx, t, ssh) },
		"ssh unreachable": func(t *testing.T) { testUnreachable(ctx, t, topo, cfg) },
	})
}

// runAtOnce runs each test as a subtest of t, all at the same time, and
// returns when they are done.
func runAtOnce(t *testing.T, tests map[string]func(*testing.T)) {
	var wg sync.WaitGroup
	for name, f := range tests {
		wg.Go(func() { t.Run(name, f) })
	}
	wg.Wait()
}

func mustParse(t *testing.T, spec string, o hosts.Options) *hosts.Host {
	t.Helper()
	h, err := hosts.Parse(spec, o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func testAddr(ctx context.Context, t *testing.T, topo *netnstest.Topology) {
	for _, c := range []struct{ spec, want string }{
		{"local", "127.0.0.1"},
		{topo.Server, topo.ServerAddr},
		{topo.Load1, topo.Load1Addr},
		{topo.Load2, topo.Load2Addr},
		{"ssh://root@" + topo.Load2Addr, topo.Load2Addr},
	} {
		got, err := mustParse(t, c.spec, hosts.Options{}).Addr(ctx)
		if err != nil || got != c.want {
			t.Errorf("%s: Addr() = %q, %v; want %q", c.spec, got, err, c.want)
		}
	}
	// Sad: a namespace that is not there.
	missing := "netns:" + topo.Prefix + "-none"
	if got, err := mustParse(t, missing, hosts.Options{}).Addr(ctx); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Addr() of %s = %q, %v; want an error naming it", missing, got, err)
	}
}

func testNetnsCommand(ctx context.Context, t *testing.T, topo *netnstest.Topology) {
	srv := mustParse(t, topo.Server, hosts.Options{})
	out, err := srv.Command(ctx, "ip", "-4", "-o", "addr", "show").CombinedOutput()
	if err != nil {
		t.Fatalf("ip addr in %s: %v: %s", srv, err, out)
	}
	// Its own address, and none of the root namespace's (the bridge's).
	if !strings.Contains(string(out), " "+topo.ServerAddr+"/") || strings.Contains(string(out), " "+topo.BridgeAddr+"/") {
		t.Errorf("ip addr in %s:\n%s\nwant %s and not %s", srv, out, topo.ServerAddr, topo.BridgeAddr)
	}
	// The exit status comes back.
	err = srv.Command(ctx, "sh", "-c", "exit 3").Run()
	var exit interface{ ExitCode() int }
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("sh -c 'exit 3' in %s: %v, want exit status 3", srv, err)
	}
}

// testSharedFiles checks that a host that sees this machine's files copies
// nothing: Install hands back the path it was given, the rest acts here.
func testSharedFiles(ctx context.Context, t *testing.T, spec string) {
	h := mustParse(t, spec, hosts.Options{})
	if !h.SharesFiles() {
		t.Fatalf("%s does not share files", h)
	}
	exe := writeScript(t, t.TempDir(), "tool")
	if got, err := h.Install(ctx, exe); err != nil || got != exe {
		t.Errorf("Install(%s) = %q, %v; want the same path", exe, got, err)
	}
	dir, err := h.MkdirTemp(ctx, "c10k-hosts-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("here"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.Upload(ctx, dir); err != nil {
		t.Errorf("Upload(%s): %v", dir, err)
	}
	if b, err := h.ReadFile(ctx, filepath.Join(dir, "f")); err != nil || string(b) != "here" {
		t.Errorf("ReadFile = %q, %v; want %q", b, err, "here")
	}
	if err := h.RemoveAll(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still there after RemoveAll: %v", dir, err)
	}
}

// writeScript writes an executable shell script into dir that prints its
// arguments, with content unique to this run so that no earlier run's
// install of it exists.
func writeScript(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	body := fmt.Sprintf("#!/bin/sh\n# %s %d\nprintf 'arg:%%s\\n' \"$@\"\n", t.Name(), time.Now().UnixNano())
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func testInstall(ctx context.Context, t *testing.T, h *hosts.Host) {
	if _, err := os.Stat(installDir); errors.Is(err, fs.ErrNotExist) {
		// Ours to remove once empty; if it was there, it is someone else's.
		t.Cleanup(func() { os.Remove(installDir) })
	}
	// A space in the name: the path is quoted on the remote side too.
	local := writeScript(t, t.TempDir(), "a tool")
	remote, err := h.Install(ctx, local)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(remote) })
	if !regexp.MustCompile(`^/tmp/c10k-bin/a tool-[0-9a-f]{16}$`).MatchString(remote) {
		t.Errorf("Install put it at %q, want /tmp/c10k-bin/a tool-HASH", remote)
	}
	st1, err := os.Stat(remote)
	if err != nil {
		t.Fatalf("installed file: %v", err)
	}
	if st1.Mode().Perm() != 0o755 {
		t.Errorf("installed with mode %v, want 0755", st1.Mode())
	}
	want, _ := os.ReadFile(local)
	if got, _ := os.ReadFile(remote); string(got) != string(want) {
		t.Errorf("installed content %q, want %q", got, want)
	}
	out, err := h.Command(ctx, remote, "x y", "it's").CombinedOutput()
	if err != nil || string(out) != "arg:x y\narg:it's\n" {
		t.Errorf("running %s over ssh: %q, %v", remote, out, err)
	}

	// Installed already: nothing is copied, the file stays the same one.
	again, err := h.Install(ctx, local)
	if err != nil || again != remote {
		t.Fatalf("second Install = %q, %v; want %q", again, err, remote)
	}
	st2, err := os.Stat(remote)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(st1, st2) || !st1.ModTime().Equal(st2.ModTime()) {
		t.Errorf("second Install replaced %s", remote)
	}
	if left, _ := filepath.Glob(remote + ".tmp*"); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}

	// Sad: nothing to install.
	if _, err := h.Install(ctx, filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Install of a missing file succeeded")
	}
}

func testSSHFiles(ctx context.Context, t *testing.T, h *hosts.Host) {
	dir, err := h.MkdirTemp(ctx, "c10k-hosts-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if !strings.HasPrefix(filepath.Base(dir), "c10k-hosts-test-") || !filepath.IsAbs(dir) {
		t.Errorf("MkdirTemp = %q, want an absolute path named c10k-hosts-test-*", dir)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("MkdirTemp made no directory %s: %v", dir, err)
	}

	// Upload a tree (a name with a space, a subdirectory) into it.
	files := map[string]string{"peer.conf": "listen 8080;\n", "sub dir/it's.txt": "nested\n"}
	for name, body := range files {
		p := filepath.Join(dir, "up", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	up := filepath.Join(dir, "up")
	if err := h.Upload(ctx, up); err != nil {
		t.Fatalf("Upload(%s): %v", up, err)
	}
	// One file read back over ssh (a login each): the awkward name.
	name := "sub dir/it's.txt"
	if got, err := h.ReadFile(ctx, filepath.Join(up, name)); err != nil || string(got) != files[name] {
		t.Errorf("ReadFile(%s) over ssh = %q, %v; want %q", name, got, err, files[name])
	}
	if err := h.Upload(ctx, filepath.Join(dir, "missing")); err == nil {
		t.Error("Upload of a missing directory succeeded")
	}

	if err := h.RemoveAll(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still there after RemoveAll over ssh: %v", dir, err)
	}
}

// testReadError checks that a failed command says which host and why.
func testReadError(ctx context.Context, t *testing.T, h *hosts.Host) {
	missing := filepath.Join(t.TempDir(), "missing")
	if got, err := h.ReadFile(ctx, missing); err == nil || !strings.Contains(err.Error(), h.String()) || !strings.Contains(err.Error(), "No such file") {
		t.Errorf("ReadFile(%s) = %q, %v; want an error naming %s and the cause", missing, got, err, h)
	}
}

// testUnreachable checks that a host nobody answers for fails soon, with
// an error that says which host.
func testUnreachable(ctx context.Context, t *testing.T, topo *netnstest.Topology, cfg string) {
	// .99 is in the topology's subnet but no namespace has it.
	addr := topo.BridgeAddr[:strings.LastIndexByte(topo.BridgeAddr, '.')] + ".99"
	h := mustParse(t, "ssh://root@"+addr, hosts.Options{SSHConfig: cfg})
	start := time.Now()
	_, err := h.ReadFile(ctx, "/etc/hostname")
	if err == nil || !strings.Contains(err.Error(), h.String()) {
		t.Fatalf("ReadFile on %s: %v; want an error naming the host", h, err)
	}
	if ctx.Err() != nil {
		t.Errorf("ReadFile on %s ran into the test's deadline after %v: %v", h, time.Since(start), err)
	}
	t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
}
