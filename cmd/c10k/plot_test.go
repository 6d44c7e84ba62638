package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"c10k/harness/plot"
	"c10k/harness/plot/plottest"
	"c10k/harness/results"
)

// fixtureRun writes the plot fixture as ROOT/results/fixture and returns
// ROOT and the run directory.
func fixtureRun(t *testing.T) (root, dir string) {
	t.Helper()
	root = t.TempDir()
	dir = filepath.Join(root, "results", "fixture")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := plottest.WriteFixture(dir); err != nil {
		t.Fatal(err)
	}
	return root, dir
}

// dropScenario removes a scenario from a written run, as if it never ran.
func dropScenario(t *testing.T, dir, scenario string) {
	t.Helper()
	var run results.Run
	if err := results.ReadJSON(filepath.Join(dir, results.RunFile), &run); err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, f := range run.Files {
		if strings.HasPrefix(f, scenario+"-") {
			os.Remove(filepath.Join(dir, f))
			continue
		}
		keep = append(keep, f)
	}
	run.Files = keep
	b, _ := json.Marshal(run)
	if err := os.WriteFile(filepath.Join(dir, results.RunFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPlotCommand(t *testing.T) {
	_, dir := fixtureRun(t)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"plot", "-in", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	files := strings.Fields(stdout.String())
	if want := 2 * len(plot.Specs()); len(files) != want {
		t.Errorf("listed %d files, want %d:\n%s", len(files), want, stdout.String())
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
}

func TestPlotCommandSkipsMissingScenario(t *testing.T) {
	_, dir := fixtureRun(t)
	dropScenario(t, dir, "rate")
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"plot", "-in", dir, "-out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "skipped 07-rate-latency") {
		t.Errorf("stderr does not name the skipped figure:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, "07-rate-latency.png")); err == nil {
		t.Error("drew the rate figure without the rate scenario")
	}
	if _, err := os.Stat(filepath.Join(out, "05-throughput.png")); err != nil {
		t.Errorf("the other figures were not drawn: %v", err)
	}
}

func TestPlotCommandErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"happy: help", []string{"plot", "-h"}, 0, "Examples:"},
		{"sad: no -in", []string{"plot"}, 2, "-in DIR is required"},
		{"sad: unknown flag", []string{"plot", "-bogus"}, 2, "flag provided but not defined"},
		{"sad: stray argument", []string{"plot", "-in", t.TempDir(), "extra"}, 2, "nothing else"},
		{"sad: missing directory", []string{"plot", "-in", filepath.Join(t.TempDir(), "nope")}, 1, "no such file or directory"},
		{"sad: not a directory", []string{"plot", "-in", notDir}, 1, "is not a directory"},
		{"sad: no run.json", []string{"plot", "-in", t.TempDir()}, 1, "no run.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr.String())
			}
		})
	}
}

// TestPlotAndReportCallADeadRunInterrupted: a run.json left saying
// "running" by a harness that died is shown as interrupted by both.
func TestPlotAndReportCallADeadRunInterrupted(t *testing.T) {
	root, dir := fixtureRun(t)
	var r results.Run
	if err := results.ReadJSON(filepath.Join(dir, results.RunFile), &r); err != nil {
		t.Fatal(err)
	}
	r.Status, r.HarnessPID, r.HarnessStart = results.StatusRunning, 1<<30, 1
	if err := results.WriteJSON(filepath.Join(dir, results.RunFile), r); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"plot", "-in", dir}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "is interrupted") {
		t.Errorf("plot: exit %d, stderr %q; want 0 and the run called interrupted", code, stderr.String())
	}
	out := filepath.Join(root, "REPORT.md")
	stderr.Reset()
	if code := run([]string{"report", "-in", dir, "-out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "(interrupted)") || !strings.Contains(string(b), "died without finishing") {
		t.Errorf("the report does not call the run interrupted:\n%.600s", b)
	}
}
