package report_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"c10k/harness/plot"
	"c10k/harness/plot/plottest"
	"c10k/harness/report"
	"c10k/harness/results"
)

// layout writes the fixture the way `make bench` leaves a run: the
// results in ROOT/results/fixture, figures in its plots directory when
// drawn, and the report at ROOT/REPORT.md. It returns the report's text.
func layout(t *testing.T, draw bool, keep func(results.Scenario) bool) (root, text string) {
	t.Helper()
	root = t.TempDir()
	runDir := filepath.Join(root, "results", "fixture")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := plottest.WriteFixture(runDir); err != nil {
		t.Fatal(err)
	}
	run, all := plottest.Fixture()
	var scs []results.Scenario
	for _, sc := range all {
		if keep == nil || keep(sc) {
			scs = append(scs, sc)
		}
	}
	if draw {
		spectra, level, err := plot.LoadSpectra(runDir, scs)
		if err != nil {
			t.Fatal(err)
		}
		in := plot.Input{Run: run, Scenarios: scs, Spectra: spectra, SpectrumLevel: level}
		if _, _, err := plot.WriteAll(in, filepath.Join(runDir, "plots")); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(root, "REPORT.md")
	b, err := report.Generate(run, scs, runDir, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return root, string(b)
}

var (
	imageLink  = regexp.MustCompile(`!\[[^\]]*\]\(([^)]+)\)`)
	anyLink    = regexp.MustCompile(`\]\(([^)]+)\)`)
	heading    = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
	claimTitle = regexp.MustCompile(`(?m)^### [1-5]\. `)
)

// TestReportFromFixture: every section is there, every figure is linked
// and the link resolves from the report's directory, every in-page link
// points at a heading, and the template left nothing unfilled.
func TestReportFromFixture(t *testing.T) {
	root, text := layout(t, true, nil)
	for _, section := range []string{
		"# c10k: what a connection costs", "## In short", "## What ran", "## The machine",
		"## Headline numbers", "## Figures", "## Where each server wins and where it loses",
		"## The claims, tested", "## Failures, warnings and skipped levels", "## How to reproduce",
	} {
		if !strings.Contains(text, "\n"+section+"\n") && !strings.HasPrefix(text, section+"\n") {
			t.Errorf("missing section %q", section)
		}
	}
	if n := len(claimTitle.FindAllString(text, -1)); n != 5 {
		t.Errorf("%d claim sections, want 5", n)
	}
	for _, bad := range []string{"<no value>", "%!", "NaN", "+Inf", "{{", "}}"} {
		if strings.Contains(text, bad) {
			t.Errorf("report contains %q", bad)
		}
	}

	images := imageLink.FindAllStringSubmatch(text, -1)
	if len(images) != len(plot.Specs()) {
		t.Errorf("%d images, want one per figure (%d)", len(images), len(plot.Specs()))
	}
	for _, m := range anyLink.FindAllStringSubmatch(text, -1) {
		link := m[1]
		if strings.HasPrefix(link, "#") {
			continue
		}
		if filepath.IsAbs(link) || strings.Contains(link, "://") {
			t.Errorf("link %q is not relative to the report", link)
			continue
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(link))); err != nil {
			t.Errorf("link %q does not resolve from the report: %v", link, err)
		}
	}
	anchors := map[string]bool{}
	for _, h := range heading.FindAllStringSubmatch(text, -1) {
		anchors[anchorOf(h[1])] = true
	}
	for _, m := range anyLink.FindAllStringSubmatch(text, -1) {
		if a, ok := strings.CutPrefix(m[1], "#"); ok && !anchors[a] {
			t.Errorf("in-page link #%s has no heading", a)
		}
	}
}

// anchorOf is GitHub's heading anchor, written again here so the test
// does not trust the code it checks.
func anchorOf(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// TestReportNumbersComeFromTheRun: figures of the fixture appear in the
// report, formatted for humans, with the verdicts its data implies.
func TestReportNumbersComeFromTheRun(t *testing.T) {
	_, text := layout(t, true, nil)
	for _, want := range []string{
		"| thread | model | 12 KiB |",                     // PSS per connection at 10k
		"229 KiB (at 1k)",                                 // prefork stopped below 10k
		"runtime: program exceeds 10000-thread limit",     // the failure, in full
		"6.18.0-fixture", "1,048,576", "0123456789abcdef", // the machine and commit
		"**Verdict: does not hold.**", // descriptors follow sockets
		"†",                           // saturated load generator
		"apache-event kept only 94.5% of 15k idle connections",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestReportQuotesNoEssay: no run of six words from the essay's claims
// appears in the report: the claims are restated, not quoted.
func TestReportQuotesNoEssay(t *testing.T) {
	_, text := layout(t, true, nil)
	essay, err := os.ReadFile("testdata/essay_claims.txt")
	if err != nil {
		t.Fatal(err)
	}
	ours := " " + strings.Join(words(text), " ") + " "
	ew := words(string(essay))
	for i := 0; i+6 <= len(ew); i++ {
		if s := " " + strings.Join(ew[i:i+6], " ") + " "; strings.Contains(ours, s) {
			t.Errorf("report quotes the essay: %q", strings.TrimSpace(s))
		}
	}
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '\'')
	})
}

// TestReportWithoutFigures says how to draw them instead of linking
// missing files.
func TestReportWithoutFigures(t *testing.T) {
	_, text := layout(t, false, nil)
	if imageLink.MatchString(text) {
		t.Error("report links images that were never drawn")
	}
	if !strings.Contains(text, "c10k plot -in") {
		t.Error("report does not say how to draw the figures")
	}
}

// TestReportMissingScenarios: a run with only the idle scenario says
// "not measured in this run" for everything else and invents nothing.
func TestReportMissingScenarios(t *testing.T) {
	_, text := layout(t, true, func(sc results.Scenario) bool { return sc.Scenario == "idle" })
	if n := strings.Count(text, "not measured in this run"); n < 6 {
		t.Errorf("%d mentions of \"not measured in this run\", want one per missing figure and claim", n)
	}
	for _, want := range []string{
		"**Verdict: not measured in this run.** nginx and Apache were not both measured",
		"**Verdict: not measured in this run.** The cpu scenario did not run",
		"![Figure 1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(text, "![Figure 5") {
		t.Error("report links the throughput figure of a run without the concurrency scenario")
	}
}

// TestReportEmptyRun: a run with no scenario at all still renders.
func TestReportEmptyRun(t *testing.T) {
	b, err := report.Generate(results.Run{}, nil, t.TempDir(), filepath.Join(t.TempDir(), "REPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	if text := string(b); !strings.Contains(text, "## The claims, tested") || strings.Contains(text, "<no value>") {
		t.Errorf("empty run report:\n%s", text)
	}
}
