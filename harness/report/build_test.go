package report

import (
	"testing"

	"c10k/harness/results"
)

func TestBuildSitOuts(t *testing.T) {
	tests := []struct {
		name string
		in   []results.SitOut
		want []SitOutRow
	}{
		{"happy none", nil, []SitOutRow{}},
		{"happy one server two scenarios, one reason", []results.SitOut{
			{Scenario: "wait", Server: "nginx", Reason: "fixed"},
			{Scenario: "cpu", Server: "nginx", Reason: "fixed"},
		}, []SitOutRow{{Server: "nginx", Scenarios: "wait, cpu", Reason: "fixed"}}},
		{"happy rows in legend order, split by reason", []results.SitOut{
			{Scenario: "wait", Server: "apache-event", Reason: "fixed"},
			{Scenario: "gather", Server: "nginx", Reason: "no fan-out"},
			{Scenario: "wait", Server: "nginx", Reason: "fixed"},
		}, []SitOutRow{
			{Server: "nginx", Scenarios: "gather", Reason: "no fan-out"},
			{Server: "nginx", Scenarios: "wait", Reason: "fixed"},
			{Server: "apache-event", Scenarios: "wait", Reason: "fixed"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := buildSitOuts(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("row %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestBuildServerRowsFromRegistry(t *testing.T) {
	v := newView(results.Run{}, []results.Scenario{
		{Scenario: "idle", Server: "nginx", Kind: results.KindPeer},
		{Scenario: "idle", Server: "epoll", Kind: results.KindModel},
		{Scenario: "idle", Server: "gone", Kind: results.KindModel},
	})
	rows := buildServerRows(v)
	if len(rows) != 3 || rows[0].Name != "epoll" || rows[1].Name != "nginx" || rows[2].Name != "gone" {
		t.Fatalf("rows %+v: want epoll, nginx, then the unknown server", rows)
	}
	if rows[0].About == none || rows[2].About != none {
		t.Errorf("rows %+v: known servers are described, unknown ones are not", rows)
	}
}
