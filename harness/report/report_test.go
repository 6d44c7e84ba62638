package report_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
	b, err := report.Generate(run, scs, runDir, out, nil)
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
	b, err := report.Generate(results.Run{}, nil, t.TempDir(), filepath.Join(t.TempDir(), "REPORT.md"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if text := string(b); !strings.Contains(text, "## The claims, tested") || strings.Contains(text, "<no value>") {
		t.Errorf("empty run report:\n%s", text)
	}
}

// TestReportScaleFromTheSameRun: the fixture's own scale scenario fills
// the scale section and decides claim 3 from measured levels.
func TestReportScaleFromTheSameRun(t *testing.T) {
	_, text := layout(t, true, nil)
	section := sectionOf(t, text, "## Past one process: toward a million idle connections")
	for _, want := range []string{
		"Measured in this run, `fixture`",
		"| epoll | model | 1M | 67 | 563 B | 10 KiB | 1 |",
		"| thread | model | 20k | 2 | 12 KiB |",
		"skipped 50k: needs about 50004 threads; pid_max 32768",
		"none: reached the top of the grid",
		"The scale run recorded no kernel settings.",
		"[figure 17](#figure-17-",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("scale section lacks %q:\n%s", want, section)
		}
	}
	claim := sectionOf(t, text, "### 3. An event loop's only limit is memory")
	for _, want := range []string{
		"**Verdict: holds.** The multi-process event loop held 1M idle connections",
		"Measured, not extrapolated",
		"nginx beside it held 1M at 512 B in user space",
	} {
		if !strings.Contains(claim, want) {
			t.Errorf("claim 3 lacks %q:\n%s", want, claim)
		}
	}
	if strings.Contains(claim, "Extrapolated") {
		t.Error("claim 3 says extrapolated with scale data present")
	}
}

// TestReportScaleMissing: without a scale scenario claim 3 keeps the
// idle scenario's judgement and says its figures are extrapolated.
func TestReportScaleMissing(t *testing.T) {
	_, text := layout(t, true, func(sc results.Scenario) bool { return sc.Scenario != "scale" })
	if s := sectionOf(t, text, "## Past one process: toward a million idle connections"); !strings.Contains(s, "`make bench-scale`") {
		t.Errorf("scale section does not say how to measure it:\n%s", s)
	}
	claim := sectionOf(t, text, "### 3. An event loop's only limit is memory")
	if !strings.Contains(claim, "Extrapolated: the event loop was measured up to 15k connections in one process") ||
		!strings.Contains(claim, "**Verdict: partly holds.**") {
		t.Errorf("claim 3 without scale data:\n%s", claim)
	}
}

// TestReportScaleFromASecondRun: a quick run without the scale scenario
// and a scale run beside it, the way make bench-scale leaves them. The
// scale section, claim 3, figure 17 and the skips come from the second
// run; the rest from the first.
func TestReportScaleFromASecondRun(t *testing.T) {
	root := t.TempDir()
	mainDir := filepath.Join(root, "results", "latest")
	scaleDir := filepath.Join(root, "results", "scale")
	run, all := plottest.Fixture()
	var quick, big []results.Scenario
	for _, sc := range all {
		if sc.Scenario == "scale" {
			big = append(big, stopScale(sc))
		} else {
			quick = append(quick, sc)
		}
	}
	mainRun := run
	mainRun.Config.Scenarios = slices.DeleteFunc(slices.Clone(run.Config.Scenarios), func(c results.ScenarioConfig) bool { return c.Name == "scale" })
	scaleRun := run
	scaleRun.ID = "scale-fixture"
	scaleRun.Config.Grid = "scale"
	scaleRun.Config.Scenarios = slices.DeleteFunc(slices.Clone(run.Config.Scenarios), func(c results.ScenarioConfig) bool { return c.Name != "scale" })
	scaleRun.Warnings = []string{"the load generator spread over 127.0.0.x"}
	scaleRun.Skipped = []results.Skip{
		{Scenario: "scale", Server: "epoll", Level: 1000000, Reason: "memory: about 19.5 GiB needed (20 KiB per connection, measured at the previous level) would leave 1.2 GiB of 24 GiB available, under the 20% kept free"},
		{Scenario: "scale", Server: "nginx", Level: 1000000, Reason: "connections: only 410k of 500k opened in 60 s at 500k (timeout: dial tcp: i/o timeout)"},
	}
	scaleRun.SitOuts = []results.SitOut{{Scenario: "scale", Server: "apache-event", Reason: "is not set up to run as N processes sharing a port"}}
	scaleRun.Sysctls = []results.Sysctl{
		{Name: "net.core.somaxconn", Was: "4096", Set: "65535"},
		{Name: "net.ipv4.ip_local_port_range", Was: "32768\t60999", Note: "the load generator spreads its connections over 127.0.0.x source addresses"},
	}
	scaleRun.Env.Hostname = "big-box"
	if err := os.MkdirAll(mainDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := plottest.WriteFixture(mainDir); err != nil { // the latency histograms
		t.Fatal(err)
	}
	stale, _ := filepath.Glob(filepath.Join(mainDir, "scale-*.json"))
	for _, f := range stale {
		os.Remove(f)
	}
	writeRun(t, mainDir, mainRun, quick)
	writeRun(t, scaleDir, scaleRun, big)
	for _, r := range []struct {
		run results.Run
		scs []results.Scenario
		dir string
	}{{mainRun, quick, mainDir}, {scaleRun, big, scaleDir}} {
		spectra, level, err := plot.LoadSpectra(r.dir, r.scs)
		if err != nil {
			t.Fatal(err)
		}
		in := plot.Input{Run: r.run, Scenarios: r.scs, Spectra: spectra, SpectrumLevel: level}
		if _, _, err := plot.WriteAll(in, filepath.Join(r.dir, "plots")); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(root, "REPORT.md")
	b, err := report.Generate(mainRun, quick, mainDir, out, &report.ScaleRun{Run: scaleRun, Scenarios: big, Dir: scaleDir})
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)

	images := imageLink.FindAllStringSubmatch(text, -1)
	if len(images) != len(plot.Specs()) {
		t.Errorf("%d images, want one per figure (%d)", len(images), len(plot.Specs()))
	}
	for _, m := range images {
		want := "results/latest/plots/"
		if strings.Contains(m[1], "17-scale") {
			want = "results/scale/plots/"
		}
		if !strings.HasPrefix(m[1], want) {
			t.Errorf("image %q, want it under %s", m[1], want)
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(m[1]))); err != nil {
			t.Errorf("image %q does not resolve from the report: %v", m[1], err)
		}
	}
	section := sectionOf(t, text, "## Past one process: toward a million idle connections")
	for _, want := range []string{
		"Measured by a separate run, `scale-fixture` (scale grid",
		"host big-box",
		"quick run `fixture`",
		"different machines (fixture-box and big-box)",
		"| epoll | model | 500k | 34 |",
		"skipped 1M: memory: about 19.5 GiB needed",
		"| nginx | peer | 200k |",
		"skipped 1M: connections: only 410k of 500k opened",
		"| goroutine | model | 200k |",
		"failed at 500k (crash): fatal error: runtime: cannot allocate memory",
		"| `net.core.somaxconn` | 4096 | 65535 | – |",
		"| `net.ipv4.ip_local_port_range` | 32768 60999 | left as it was | the load generator spreads",
		"| apache-event | is not set up to run as N processes sharing a port |",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("scale section lacks %q:\n%s", want, section)
		}
	}
	claim := sectionOf(t, text, "### 3. An event loop's only limit is memory")
	for _, want := range []string{
		"**Verdict: holds.** The multi-process event loop held 500k idle connections",
		"what stopped it above that was memory (skipped 1M: memory:",
		"the scale scenario of run `scale-fixture`",
		"nginx beside it held 200k",
		"stopped by connections that could not be opened in time",
	} {
		if !strings.Contains(claim, want) {
			t.Errorf("claim 3 lacks %q:\n%s", want, claim)
		}
	}
	for _, want := range []string{
		"and the scale scenario from\n[`results/scale`](results/scale)",
		"(from run `scale-fixture`)",
		"scale run: the load generator spread over 127.0.0.x",
		"| scale | epoll | 1M | memory: about 19.5 GiB",
		"| scale | goroutine | 500k | crash |",
		"bin/c10k report -in " + filepath.ToSlash(mainDir) + " -scale " + filepath.ToSlash(scaleDir),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, bad := range []string{"<no value>", "%!", "NaN", "+Inf"} {
		if strings.Contains(text, bad) {
			t.Errorf("report contains %q", bad)
		}
	}
}

// stopScale makes the fixture's scale scenario stop short the way a real
// climb does: the loop at 500k (the guard's memory skip, in run.json),
// nginx at 200k after 500k lost connections, goroutines failing at 500k.
func stopScale(sc results.Scenario) results.Scenario {
	keepTo := map[string]int{"epoll": 500000, "nginx": 500000, "goroutine": 200000}[sc.Server]
	if keepTo == 0 {
		return sc
	}
	sc.Levels = slices.DeleteFunc(slices.Clone(sc.Levels), func(l results.Level) bool { return l.Level > keepTo })
	switch sc.Server {
	case "nginx":
		last := &sc.Levels[len(sc.Levels)-1]
		last.Summary.IdleAlive.Median = 410000
	case "goroutine":
		sc.Failures = append(sc.Failures, results.Failure{Level: 500000, Kind: results.FailureCrash, Reason: "fatal error: runtime: cannot allocate memory"})
		sc.Skipped = append(sc.Skipped, results.Skip{Scenario: "scale", Server: "goroutine", Level: 1000000, Reason: "stopped after failing at 500k: fatal error: runtime: cannot allocate memory"})
	}
	return sc
}

// writeRun writes a run as a results directory.
func writeRun(t *testing.T, dir string, run results.Run, scs []results.Scenario) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run.Files = nil
	for _, sc := range scs {
		name := results.ScenarioFile(sc.Scenario, sc.Server)
		run.Files = append(run.Files, name)
		if err := results.WriteJSON(filepath.Join(dir, name), sc); err != nil {
			t.Fatal(err)
		}
	}
	if err := results.WriteJSON(filepath.Join(dir, results.RunFile), run); err != nil {
		t.Fatal(err)
	}
}

// sectionOf is the text from a heading to the next heading of the same
// or a higher level.
func sectionOf(t *testing.T, text, heading string) string {
	t.Helper()
	i := strings.Index(text, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("no section %q", heading)
	}
	rest := text[i+1+len(heading):]
	level := strings.Index(heading, " ")
	for j := 0; j < len(rest); {
		k := strings.Index(rest[j:], "\n#")
		if k < 0 {
			break
		}
		j += k + 1
		if n := len(rest[j:]) - len(strings.TrimLeft(rest[j:], "#")); n <= level {
			return heading + rest[:j]
		}
	}
	return heading + rest
}
