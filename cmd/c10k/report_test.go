package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"c10k/harness/plot/plottest"
	"c10k/harness/results"
)

func TestReportCommand(t *testing.T) {
	root, dir := fixtureRun(t)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"plot", "-in", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("plot: exit %d:\n%s", code, stderr.String())
	}
	out := filepath.Join(root, "REPORT.md")
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"report", "-in", dir, "-out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("report: exit %d:\n%s", code, stderr.String())
	}
	if strings.TrimSpace(stdout.String()) != out {
		t.Errorf("stdout %q, want the report's path", stdout.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`!\[[^\]]*\]\(([^)]+)\)`).FindAllStringSubmatch(string(b), -1)
	if len(links) == 0 {
		t.Fatal("report has no figure")
	}
	for _, m := range links {
		if !strings.HasPrefix(m[1], "results/fixture/plots/") {
			t.Errorf("link %q is not relative to the report at the root", m[1])
		}
		if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
			t.Error(err)
		}
	}
}

func TestReportCommandToStdoutWithoutFigures(t *testing.T) {
	_, dir := fixtureRun(t)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"report", "-in", dir, "-out", "-"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "# c10k") {
		t.Errorf("stdout is not the report:\n%.200s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "no figures") {
		t.Errorf("stderr does not say the figures are missing:\n%s", stderr.String())
	}
}

func TestReportCommandErrors(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"happy: help", []string{"report", "-h"}, 0, "Examples:"},
		{"sad: no -in", []string{"report"}, 2, "-in DIR is required"},
		{"sad: empty -out", []string{"report", "-in", t.TempDir(), "-out", ""}, 2, "-out may not be empty"},
		{"sad: unknown flag", []string{"report", "-x"}, 2, "flag provided but not defined"},
		{"sad: missing directory", []string{"report", "-in", filepath.Join(t.TempDir(), "nope")}, 1, "no such file or directory"},
		{"sad: no run.json", []string{"report", "-in", t.TempDir()}, 1, "no run.json"},
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

func TestReportCommandUnwritableOut(t *testing.T) {
	_, dir := fixtureRun(t)
	var stdout, stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "no", "such", "dir", "REPORT.md")
	if code := run([]string{"report", "-in", dir, "-out", out}, &stdout, &stderr); code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
}

// scaleRun writes the fixture twice, the way make bench and make
// bench-scale leave it: ROOT/results/fixture without the scale scenario,
// and ROOT/results/scale with nothing else.
func scaleRun(t *testing.T) (root, dir, scale string) {
	t.Helper()
	root, dir = fixtureRun(t)
	dropScenario(t, dir, "scale")
	unplan(t, dir, "scale")
	scale = filepath.Join(root, "results", "scale")
	if err := os.MkdirAll(scale, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := plottest.WriteFixture(scale); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"idle", "concurrency", "rate", "wait", "cpu", "proxy", "gather"} {
		dropScenario(t, scale, name)
	}
	return root, dir, scale
}

func TestReportCommandWithScale(t *testing.T) {
	root, dir, scale := scaleRun(t)
	var stdout, stderr bytes.Buffer
	for _, d := range []string{dir, scale} {
		if code := run([]string{"plot", "-in", d}, &stdout, &stderr); code != 0 {
			t.Fatalf("plot %s: exit %d:\n%s", d, code, stderr.String())
		}
	}
	out := filepath.Join(root, "REPORT.md")
	if code := run([]string{"report", "-in", dir, "-scale", scale, "-out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("report: exit %d:\n%s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	found := false
	for _, m := range regexp.MustCompile(`!\[[^\]]*\]\(([^)]+)\)`).FindAllStringSubmatch(text, -1) {
		want := "results/fixture/plots/"
		if strings.Contains(m[1], "17-scale") {
			want, found = "results/scale/plots/", true
		}
		if !strings.HasPrefix(m[1], want) {
			t.Errorf("link %q, want it under %s", m[1], want)
		}
		if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
			t.Error(err)
		}
	}
	if !found {
		t.Error("report does not show figure 17 from the scale run")
	}
	if !strings.Contains(text, "Measured by a separate run, `fixture`") || !strings.Contains(text, "| epoll | model | 1M |") {
		t.Errorf("scale section not from the second run:\n%s", text)
	}
}

// unplan removes a scenario from a written run's grid, as if it was never
// asked for.
func unplan(t *testing.T, dir, scenario string) {
	t.Helper()
	var r results.Run
	if err := results.ReadJSON(filepath.Join(dir, results.RunFile), &r); err != nil {
		t.Fatal(err)
	}
	r.Config.Scenarios = slices.DeleteFunc(r.Config.Scenarios, func(c results.ScenarioConfig) bool { return c.Name == scenario })
	if err := results.WriteJSON(filepath.Join(dir, results.RunFile), r); err != nil {
		t.Fatal(err)
	}
}

func TestReportCommandScaleErrors(t *testing.T) {
	_, dir, scale := scaleRun(t)
	empty := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"report", "-in", dir, "-scale", filepath.Join(empty, "nope"), "-out", "-"}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "-scale: results directory") || !strings.Contains(stderr.String(), "no such file or directory") {
		t.Errorf("missing -scale directory: exit %d, stderr:\n%s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"report", "-in", dir, "-scale", empty, "-out", "-"}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "-scale: ") || !strings.Contains(stderr.String(), "no run.json") {
		t.Errorf("-scale without run.json: exit %d, stderr:\n%s", code, stderr.String())
	}
	stderr.Reset()
	// The quick run holds no scale scenario: named explicitly, that is an error.
	if code := run([]string{"report", "-in", dir, "-scale", dir, "-out", "-"}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "holds no scale scenario") {
		t.Errorf("-scale without a scale scenario: exit %d, stderr:\n%s", code, stderr.String())
	}
	stderr.Reset()
	// Not an error, but worth a line: the scale run's figure is not drawn.
	if code := run([]string{"report", "-in", dir, "-scale", scale, "-out", "-"}, &stdout, &stderr); code != 0 ||
		!strings.Contains(stderr.String(), "no scale figure in "+scale+"/plots") {
		t.Errorf("-scale without its figure: exit %d, stderr:\n%s", code, stderr.String())
	}
}
