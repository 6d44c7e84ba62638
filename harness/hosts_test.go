package harness

import (
	"strings"
	"testing"
	"time"

	"c10k/harness/results"
	"c10k/hosts"
)

func mustHost(t *testing.T, spec string) *hosts.Host {
	t.Helper()
	h, err := hosts.Parse(spec, hosts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestCheckHostsRefusesAClockOffPastTheWindow: a host whose clock is off
// by more than a level's window fails that level, naming the host; one
// off by less does not.
func TestCheckHostsRefusesAClockOffPastTheWindow(t *testing.T) {
	sc := results.ScenarioConfig{DurationS: 1.5}
	tests := []struct {
		name         string
		server, load time.Duration
		wantHost     string // "" for no error
	}{
		{"clocks agree", 0, 0, ""},
		{"load host 1 s behind", 0, -time.Second, ""},
		{"load host 2 s ahead", 0, 2 * time.Second, "netns:l2"},
		{"server host 3 s behind", -3 * time.Second, 0, "netns:srv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := &hostSet{server: mustHost(t, "netns:srv"), offset: tc.server,
				load:    []*hosts.Host{mustHost(t, "netns:l1"), mustHost(t, "netns:l2")},
				offsets: map[string]time.Duration{"netns:l2": tc.load}}
			err := (&harness{hosts: hs}).checkHosts(sc)
			switch {
			case tc.wantHost == "" && err != nil:
				t.Errorf("checkHosts = %v, want nil", err)
			case tc.wantHost != "" && (err == nil || !strings.Contains(err.Error(), tc.wantHost)):
				t.Errorf("checkHosts = %v, want an error naming %s", err, tc.wantHost)
			}
		})
	}
}

func TestLoadArgsSendTheLoadToItsHosts(t *testing.T) {
	hs := &hostSet{server: mustHost(t, "local"), load: []*hosts.Host{mustHost(t, "netns:a"), mustHost(t, "ssh://u@b:2222")}, control: "/tmp/x"}
	got := strings.Join(hs.loadArgs(Options{LoadCPUs: "1", SSHConfig: "/etc/c"}), " ")
	want := "-hosts netns:a,ssh://u@b:2222 -host-cpus 1 -ssh-config /etc/c -ssh-control /tmp/x"
	if got != want {
		t.Errorf("loadArgs = %q, want %q", got, want)
	}
	if a := (&hostSet{server: mustHost(t, "local")}).loadArgs(Options{LoadCPUs: "1"}); a != nil {
		t.Errorf("local load: %q, want none", a)
	}
}

func TestNearestLoadPairsSamplesWithinAPeriod(t *testing.T) {
	p := func(n int) *results.Proc { return &results.Proc{Threads: n} }
	load := []results.Sample{{T: 1.0, Load: p(1)}, {T: 1.25, Load: p(2)}, {T: 1.5, Load: p(3)}}
	tests := []struct {
		t    float64
		want int // threads of the pick, 0 for none
	}{{1.26, 2}, {1.1, 1}, {1.7, 3}, {1.9, 0}, {0.5, 0}}
	for _, tc := range tests {
		got := nearestLoad(load, tc.t, 0.25)
		if (got == nil) != (tc.want == 0) || (got != nil && got.Threads != tc.want) {
			t.Errorf("nearestLoad(%v) = %+v, want the reading with %d", tc.t, got, tc.want)
		}
	}
}
