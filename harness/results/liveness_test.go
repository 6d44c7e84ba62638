package results_test

import (
	"os"
	"path/filepath"
	"testing"

	"c10k/harness/proc"
	"c10k/harness/results"
)

func TestLoadCallsADeadHarnessRunInterrupted(t *testing.T) {
	self, err := proc.StartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		run  results.Run
		want string
	}{
		{"happy running, harness alive", results.Run{Status: results.StatusRunning, HarnessPID: os.Getpid(), HarnessStart: self}, results.StatusRunning},
		{"sad running, harness pid reused by another process", results.Run{Status: results.StatusRunning, HarnessPID: os.Getpid(), HarnessStart: self + 1}, results.StatusInterrupted},
		{"sad running, harness gone", results.Run{Status: results.StatusRunning, HarnessPID: 1 << 30, HarnessStart: 1}, results.StatusInterrupted},
		{"happy complete, harness gone", results.Run{Status: results.StatusComplete, HarnessPID: 1 << 30, HarnessStart: 1}, results.StatusComplete},
		{"happy old run without a pid", results.Run{Status: results.StatusRunning}, results.StatusRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := results.WriteJSON(filepath.Join(dir, results.RunFile), tt.run); err != nil {
				t.Fatal(err)
			}
			got, _, err := results.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want {
				t.Errorf("status %q, want %q", got.Status, tt.want)
			}
			if tt.want == results.StatusInterrupted && got.Error == "" {
				t.Error("an interrupted run says nothing about why")
			}
		})
	}
}
