package hosts

import (
	"errors"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	o := Options{SSHConfig: "/etc/c10k/ssh_config"}
	tests := []struct {
		name, spec string
		want       Host // spec and sshConfig are checked apart
		err        string
	}{
		{name: "happy empty is local", spec: "", want: Host{kind: Local}},
		{name: "happy local", spec: "local", want: Host{kind: Local}},
		{name: "happy netns", spec: "netns:c10k-srv", want: Host{kind: NetNS, netns: "c10k-srv"}},
		{name: "happy ssh host", spec: "ssh://box", want: Host{kind: SSH, host: "box"}},
		{name: "happy ssh user host port", spec: "ssh://bench@10.0.0.2:2222", want: Host{kind: SSH, user: "bench", host: "10.0.0.2", port: 2222}},
		{name: "happy ssh trailing slash", spec: "ssh://root@box/", want: Host{kind: SSH, user: "root", host: "box"}},
		{name: "happy ssh ipv6", spec: "ssh://[fd00::2]:22", want: Host{kind: SSH, host: "fd00::2", port: 22}},
		{name: "sad empty netns name", spec: "netns:", err: "needs a namespace name"},
		{name: "sad netns name with slash", spec: "netns:a/b", err: "needs a namespace name"},
		{name: "sad netns name with space", spec: "netns:a b", err: "needs a namespace name"},
		{name: "sad ssh password", spec: "ssh://root:secret@box", err: "no passwords"},
		{name: "sad ssh port zero", spec: "ssh://box:0", err: "bad port"},
		{name: "sad ssh port too large", spec: "ssh://box:65536", err: "bad port"},
		{name: "sad ssh port not a number", spec: "ssh://box:ssh", err: "want ssh://"},
		{name: "sad ssh path", spec: "ssh://box/tmp", err: "want ssh://"},
		{name: "sad ssh query", spec: "ssh://box?port=22", err: "want ssh://"},
		{name: "sad ssh fragment", spec: "ssh://box#x", err: "want ssh://"},
		{name: "sad ssh no host", spec: "ssh://", err: "want ssh://"},
		{name: "sad ssh no host with user", spec: "ssh://root@", err: "want ssh://"},
		{name: "sad ssh host like an option", spec: "ssh://-oProxyCommand=x", err: "want ssh://"},
		{name: "sad ssh user like an option", spec: "ssh://-oProxyCommand=x@box", err: "want ssh://"},
		{name: "sad unknown scheme", spec: "rsh://box", err: "want local, netns:NAME or ssh://"},
		{name: "sad bare host name", spec: "box", err: "want local, netns:NAME or ssh://"},
		{name: "sad netns without colon", spec: "netns", err: "want local, netns:NAME or ssh://"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Parse(tc.spec, o)
			if tc.err != "" {
				if !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse(%q) = %+v, %v; want ErrSpec with %q", tc.spec, h, err, tc.err)
				}
				if !strings.Contains(err.Error(), tc.spec) {
					t.Errorf("error %q does not name the spec %q", err, tc.spec)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.spec, err)
			}
			wantSpec := tc.spec
			if tc.want.kind == Local {
				wantSpec = "local"
			}
			if h.String() != wantSpec {
				t.Errorf("String() = %q, want %q", h.String(), wantSpec)
			}
			if h.Kind() != tc.want.kind || h.IsLocal() != (tc.want.kind == Local) || h.SharesFiles() != (tc.want.kind != SSH) {
				t.Errorf("Kind %v IsLocal %v SharesFiles %v, want kind %v", h.Kind(), h.IsLocal(), h.SharesFiles(), tc.want.kind)
			}
			wantCfg := ""
			if tc.want.kind == SSH {
				wantCfg = o.SSHConfig // only an ssh host needs it
			}
			if h.sshConfig != wantCfg {
				t.Errorf("sshConfig = %q, want %q", h.sshConfig, wantCfg)
			}
			got := *h
			got.spec, got.sshConfig = "", ""
			if got != tc.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tc.spec, got, tc.want)
			}
		})
	}
}

func TestParseList(t *testing.T) {
	tests := []struct {
		name, list string
		want       []string // String() of each host
		err        string
	}{
		{name: "happy empty", list: "", want: nil},
		{name: "happy only separators", list: " , ,", want: nil},
		{name: "happy one", list: "netns:a", want: []string{"netns:a"}},
		{name: "happy mixed with spaces", list: "local, netns:a ,ssh://root@b:2", want: []string{"local", "netns:a", "ssh://root@b:2"}},
		{name: "happy trailing comma", list: "netns:a,netns:b,", want: []string{"netns:a", "netns:b"}},
		{name: "sad one bad entry", list: "netns:a,netns:,netns:b", err: `"netns:"`},
		{name: "sad unknown", list: "local,box", err: `"box"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs, err := ParseList(tc.list, Options{})
			if tc.err != "" {
				if !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), tc.err) || hs != nil {
					t.Fatalf("ParseList(%q) = %v, %v; want nil and ErrSpec naming %s", tc.list, hs, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range hs {
				got = append(got, h.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseList(%q) = %q, want %q", tc.list, got, tc.want)
			}
		})
	}
}

// awkward are arguments a shell would split, expand or reinterpret.
var awkward = []string{
	"", " ", "plain", "two words", "it's", `"double"`, `back\slash`, "$HOME", "${PATH}", "*", "?", "[a]",
	"`id`", "$(id)", "a;b", "a&b", "a|b", "<in", ">out", "#comment", "~", "~root", "tab\there", "new\nline",
	"A=1", "-n", "--", "'", "''", `'\''`, "!", "{a,b}", "100%", "é ü", "-sample=1s", "a,b:c@d+e/f.g_h",
}

// shRoundTrip runs `sh -c LINE`, where line prints each of its arguments
// NUL-terminated, and returns the arguments sh saw.
func shRoundTrip(t *testing.T, line string) []string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", line).Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", line, err)
	}
	if len(out) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

func TestShellQuoteRoundTrip(t *testing.T) {
	for _, s := range awkward {
		q := shellQuote(s)
		got := shRoundTrip(t, `printf '%s\0' `+q)
		if len(got) != 1 || got[0] != s {
			t.Errorf("shellQuote(%q) = %s; sh read back %q", s, q, got)
		}
	}
}

func TestShellQuoteLeavesPlainWordsBare(t *testing.T) {
	for _, s := range []string{"c10k", "/tmp/c10k-bin/c10k-0123abcd", "-sample", "100ms", "127.0.0.1:8080", "0,2-3", "user@host", "a+b"} {
		if q := shellQuote(s); q != s {
			t.Errorf("shellQuote(%q) = %s, want it bare", s, q)
		}
	}
	// Quoted although harmless elsewhere: as a command's first word, a
	// NAME=VALUE word is an assignment and runs nothing.
	for _, s := range []string{"A=1", ""} {
		if q := shellQuote(s); q == s {
			t.Errorf("shellQuote(%q) left it bare", s)
		}
	}
}

func FuzzShellQuote(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			t.Skip("an argument cannot hold NUL")
		}
		q := shellQuote(s)
		if got := shRoundTrip(t, `printf '%s\0' `+q); len(got) != 1 || got[0] != s {
			t.Errorf("shellQuote(%q) = %s; sh read back %q", s, q, got)
		}
	})
}

func TestArgv(t *testing.T) {
	argv := []string{"/tmp/c10k", "agent", "--", "serve", "-addr", "127.0.0.1:0"}
	tests := []struct {
		name, spec string
		o          Options
		want       []string
	}{
		{name: "local", spec: "local", want: argv},
		{name: "netns", spec: "netns:c10k-l1", want: append([]string{"ip", "netns", "exec", "c10k-l1"}, argv...)},
		{name: "ssh host", spec: "ssh://box", want: []string{"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
			"box", "--", "/tmp/c10k agent -- serve -addr 127.0.0.1:0"}},
		{name: "ssh user port config", spec: "ssh://bench@box:2222", o: Options{SSHConfig: "/x/ssh config"},
			want: []string{"ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
				"-F", "/x/ssh config", "-p", "2222", "bench@box", "--", "/tmp/c10k agent -- serve -addr 127.0.0.1:0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Parse(tc.spec, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			in := append([]string(nil), argv...)
			got := h.Argv(in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Argv =\n %q\nwant\n %q", got, tc.want)
			}
			// The result is the caller's to change: it must not share
			// argv's array.
			got[len(got)-1] = "changed"
			if !reflect.DeepEqual(in, argv) {
				t.Errorf("Argv changed its argument: %q", in)
			}
			if cmd := h.Command(t.Context(), argv...); !reflect.DeepEqual(cmd.Args, tc.want) {
				t.Errorf("Command args = %q, want %q", cmd.Args, tc.want)
			}
		})
	}
}

// TestArgvSSHRoundTrip checks the remote command line ssh hands to the
// remote user's shell: every argument arrives as it was, whatever it holds.
func TestArgvSSHRoundTrip(t *testing.T) {
	h, err := Parse("ssh://root@box", Options{})
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"printf", `%s\0`}, awkward...)
	got := h.Argv(args)
	if got[len(got)-2] != "--" {
		t.Fatalf("Argv = %q: no -- before the remote command", got)
	}
	if back := shRoundTrip(t, got[len(got)-1]); !reflect.DeepEqual(back, awkward) {
		t.Errorf("remote command %s\nsh read back %q\nwant         %q", got[len(got)-1], back, awkward)
	}
	// A program whose name looks like an assignment still runs.
	got = h.Argv([]string{"A=1"})
	if out, err := exec.Command("/bin/sh", "-c", got[len(got)-1]).CombinedOutput(); err == nil {
		t.Errorf("sh -c %s ran nothing and succeeded (%q); want it to run the program A=1 and fail", got[len(got)-1], out)
	}
}

func TestFirstInet(t *testing.T) {
	h := &Host{spec: "netns:x", kind: NetNS, netns: "x"}
	tests := []struct {
		name, out, want string
	}{
		{name: "happy one", out: "2: eth0    inet 198.18.7.10/24 brd 198.18.7.255 scope global eth0\\       valid_lft forever preferred_lft forever\n", want: "198.18.7.10"},
		{name: "happy first of two", out: "2: eth0    inet 198.18.7.10/24 scope global eth0\n3: eth1    inet 10.1.2.3/8 scope global eth1\n", want: "198.18.7.10"},
		{name: "happy first of two on one device", out: "2: eth0    inet 10.0.0.5/24 scope global eth0\n2: eth0    inet 10.0.0.6/24 scope global secondary eth0\n", want: "10.0.0.5"},
		{name: "happy no prefix length", out: "2: eth0 inet 192.0.2.1 scope global eth0\n", want: "192.0.2.1"},
		{name: "happy blank lines around", out: "\n\n2: eth0    inet 198.18.1.12/24 scope global eth0\n\n", want: "198.18.1.12"},
		{name: "sad empty", out: ""},
		{name: "sad inet6 only", out: "2: eth0    inet6 fd00::1/64 scope global\n"},
		{name: "sad inet without address", out: "2: eth0 inet\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := firstInet(tc.out, h)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "netns:x") {
					t.Fatalf("firstInet = %q, %v; want an error naming netns:x", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("firstInet = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "local", "netns:a", "netns:", "ssh://root@h:22", "ssh://u:p@h", "ssh://h/x", "ssh://[::1]", "ssh://-h", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		h, err := Parse(spec, Options{})
		if err != nil {
			if !errors.Is(err, ErrSpec) {
				t.Fatalf("Parse(%q): %v is not ErrSpec", spec, err)
			}
			return
		}
		switch h.Kind() {
		case Local:
		case NetNS:
			if h.netns == "" || strings.ContainsAny(h.netns, "/ \t") {
				t.Fatalf("Parse(%q): namespace %q", spec, h.netns)
			}
		case SSH:
			// Nothing in the destination may read as an ssh option.
			if h.host == "" || strings.HasPrefix(h.host, "-") || strings.HasPrefix(h.user, "-") || h.port < 0 || h.port > 65535 {
				t.Fatalf("Parse(%q) = %+v", spec, *h)
			}
		}
	})
}

// TestShareConnections: a host parsed without a control directory shares
// the connection of one given later, exactly as one parsed with it does.
func TestShareConnections(t *testing.T) {
	controlPath := func(h *Host) string {
		for _, a := range h.Argv([]string{"true"}) {
			if p, ok := strings.CutPrefix(a, "ControlPath="); ok {
				return p
			}
		}
		return ""
	}
	tests := []struct {
		name, spec, dir string
		wantShared      bool
	}{
		{"ssh host, a directory", "ssh://bench@10.0.0.2:2222", "/tmp/ctl", true},
		{"ssh host, none", "ssh://bench@10.0.0.2", "", false},
		{"local host: nothing to share", "local", "/tmp/ctl", false},
		{"netns host: nothing to share", "netns:c10k-a", "/tmp/ctl", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			late, err := Parse(tt.spec, Options{})
			if err != nil {
				t.Fatal(err)
			}
			late.ShareConnections(tt.dir)
			early, err := Parse(tt.spec, Options{ControlDir: tt.dir})
			if err != nil {
				t.Fatal(err)
			}
			got, want := controlPath(late), controlPath(early)
			if got != want {
				t.Errorf("control path %q after ShareConnections, %q when parsed with the directory", got, want)
			}
			if shared := got != ""; shared != tt.wantShared || (shared && !strings.HasPrefix(got, tt.dir+"/")) {
				t.Errorf("control path %q: want shared=%v, in %s", got, tt.wantShared, tt.dir)
			}
			late.ShareConnections("")
			if p := controlPath(late); p != "" {
				t.Errorf("control path %q after ShareConnections(\"\"): want none", p)
			}
		})
	}
}
