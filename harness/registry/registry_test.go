package registry_test

import (
	"testing"

	"c10k/harness/registry"
	"c10k/harness/results"
)

// TestEntriesAreWhole: every entry can be started, has a kind, a report
// line and a style of its own.
func TestEntriesAreWhole(t *testing.T) {
	type style struct {
		c [4]uint8
		m registry.Marker
	}
	names := map[string]bool{}
	styles := map[style]string{}
	for _, e := range registry.Servers {
		t.Run(e.Name, func(t *testing.T) {
			if e.Name == "" || names[e.Name] {
				t.Fatalf("empty or duplicate name %q", e.Name)
			}
			names[e.Name] = true
			switch e.Kind {
			case results.KindModel:
				if e.New == nil || e.Peer != nil {
					t.Error("a model needs New and no Peer")
				}
			case results.KindPeer:
				if e.New != nil || e.Peer == nil || e.Peer.Binary == "" || e.Peer.Template == "" {
					t.Error("a peer needs a binary and a template, and no New")
				}
			default:
				t.Errorf("kind %q", e.Kind)
			}
			if e.About == "" {
				t.Error("no line for the report")
			}
			if e.Kind == results.KindModel && e.Runtime == "" {
				t.Error("a Go model must say how its runtime is set up")
			}
			s := style{[4]uint8{e.Color.R, e.Color.G, e.Color.B, e.Color.A}, e.Marker}
			if other, dup := styles[s]; dup {
				t.Errorf("same colour and marker as %s", other)
			}
			styles[s] = e.Name
			if e.Dashed() != (e.Kind == results.KindPeer) {
				t.Error("peers are dashed, models solid")
			}
		})
	}
}

// TestNamedServersAreInTheTable: the names the report's claims use are
// entries.
func TestNamedServersAreInTheTable(t *testing.T) {
	for _, n := range []string{registry.Thread, registry.Epoll, registry.Nginx, registry.ApacheWorker} {
		if _, ok := registry.Lookup(n); !ok {
			t.Errorf("%s is not in the registry", n)
		}
	}
}

func TestOrderAndLookup(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want int // sign
	}{
		{"happy models before peers", "epoll", "nginx", -1},
		{"happy table order", "thread", "goroutine", -1},
		{"happy same", "epoll", "epoll", 0},
		{"sad unknown after known", "lighttpd", "apache-event", 1},
		{"sad unknown by name", "a-unknown", "b-unknown", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := registry.Compare(tt.a, tt.b)
			if (got < 0) != (tt.want < 0) || (got > 0) != (tt.want > 0) {
				t.Errorf("Compare(%s, %s) = %d, want sign %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
	if _, err := registry.Model("nginx"); err == nil {
		t.Error("Model(nginx): a peer is not a model")
	}
	if e, err := registry.Model("epoll"); err != nil || e.Name != "epoll" {
		t.Errorf("Model(epoll) = %v, %v", e.Name, err)
	}
}
