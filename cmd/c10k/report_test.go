package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
