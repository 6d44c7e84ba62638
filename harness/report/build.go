package report

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"c10k/harness/registry"
	"c10k/harness/results"
	"c10k/harness/units"
)

// Build computes the report's data model from a run. runDir is the results
// directory (its figures are in runDir/plots) and outPath the report file
// the figure links are made relative to. scale, when not nil, is a second
// run directory whose scale scenario replaces the main run's (see
// [ScaleRun]); without it the main run's own scale scenario, if any, is
// used.
func Build(run results.Run, scs []results.Scenario, runDir, outPath string, scale *ScaleRun) (*Data, error) {
	v := newView(run, scs).withScale(scale)
	if !v.scale.separate {
		v.scale.dir = runDir
	}
	figs, err := buildFigures(v, runDir, outPath)
	if err != nil {
		return nil, err
	}
	byName := map[string]FigureRef{}
	for _, f := range figs {
		byName[f.Name] = f
	}
	d := &Data{
		RunID:      orDefault(run.ID, filepath.Base(runDir)),
		RunDir:     relDir(runDir, outPath),
		Status:     orDefault(run.Status, "unknown"),
		Started:    fmtTime(run.Started),
		Finished:   fmtTime(run.Finished),
		WallTime:   fmtSeconds(run.WallTimeS),
		Grid:       gridName(run.Config),
		Repeats:    run.Config.Repeats,
		Error:      oneLine(run.Error),
		Scenarios:  buildScenarios(v),
		Machine:    buildMachine(run),
		Setup:      buildSetup(run),
		Notes:      run.Notes,
		Headline:   buildHeadline(v),
		Figures:    figs,
		Stories:    buildStories(v),
		Claims:     buildClaims(v, byName),
		Failures:   buildFailures(v),
		Warnings:   buildWarnings(v),
		Skipped:    buildSkipped(v),
		ServerRows: buildServerRows(v),
		SitOuts:    buildSitOuts(v.sitOuts()),
		Scale:      buildScale(v, byName[figScale]),
		PlotCmd:    "c10k plot -in " + filepath.ToSlash(runDir),
	}
	var servers []string
	for _, s := range v.servers() {
		servers = append(servers, s.Server)
	}
	d.Servers = orDefault(strings.Join(servers, ", "), "none")
	for _, f := range figs {
		d.Plotted = d.Plotted || f.Present
	}
	d.Summary = buildSummary(d)
	if v.scale.separate {
		d.ScaleRunDir = relDir(scale.Dir, outPath)
	}
	d.Reproduce = buildReproduce(v, runDir)
	return d, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return none
	}
	return t.UTC().Format("2006-01-02 15:04 MST")
}

// relDir is the results directory relative to the report's directory.
func relDir(runDir, outPath string) string {
	base, err1 := filepath.Abs(filepath.Dir(outPath))
	abs, err2 := filepath.Abs(runDir)
	if err1 != nil || err2 != nil {
		return filepath.ToSlash(runDir)
	}
	rel, err := filepath.Rel(base, abs)
	if err != nil {
		return filepath.ToSlash(abs)
	}
	return filepath.ToSlash(rel)
}

func gridName(c results.Config) string {
	switch {
	case c.Grid != "":
		return c.Grid
	case c.Full:
		return "full"
	}
	return "quick"
}

// buildSummary is the report's opening list: one line per claim verdict.
func buildSummary(d *Data) []string {
	var out []string
	for _, c := range d.Claims {
		out = append(out, fmt.Sprintf("%s: **%s**.", c.Title, c.Verdict))
	}
	return out
}

// scenarioWhat says what each scenario varies and shows.
var scenarioWhat = map[string]string{
	"idle":        "idle keep-alive connections held beside a light probe load: memory, threads and descriptors per connection",
	"concurrency": "closed-loop active connections: throughput and latency against concurrency",
	"rate":        "open-loop offered rate: latency against load, measured from each request's intended send time",
	"wait":        "simulated backend I/O per request: blocked threads against a loop that never blocks",
	"cpu":         "CPU burned per request: the single loop's one-core ceiling",
	"scale": "idle keep-alive connections toward a million, each level spread over server and load processes: " +
		"memory and descriptors per connection, and how fast they open, up to the first limit",
}

func buildScenarios(v view) []ScenarioRow {
	var out []ScenarioRow
	names := scenarioNames(v)
	for _, name := range names {
		cfg := v.config(name)
		row := ScenarioRow{Name: name, What: orDefault(scenarioWhat[name], cfg.Description)}
		if name == scaleScenario && v.scale.separate {
			row.What += fmt.Sprintf(" (from run `%s`)", orDefault(v.scale.run.ID, filepath.Base(v.scale.dir)))
		}
		var levels []string
		for _, l := range cfg.Levels {
			levels = append(levels, units.Count(float64(l)))
		}
		row.Levels = orDefault(strings.Join(levels, ", "), none)
		if cfg.LevelName != "" && len(levels) > 0 {
			row.Levels += " (" + cfg.LevelName + ")"
		}
		row.Duration = none
		if cfg.DurationS > 0 {
			row.Duration = fmt.Sprintf("%s + %s warm-up", fmtSeconds(cfg.DurationS), fmtSeconds(cfg.WarmupS))
			if cfg.WarmupS <= 0 {
				row.Duration = fmtSeconds(cfg.DurationS)
			}
		}
		var extra []string
		if cfg.WaitMS > 0 {
			extra = append(extra, fmt.Sprintf("%s wait per request", fmtLatency(cfg.WaitMS*1000)))
		}
		if cfg.WorkUS > 0 {
			extra = append(extra, fmt.Sprintf("%s of CPU per request", fmtLatency(cfg.WorkUS)))
		}
		if cfg.ProbeConc > 0 {
			extra = append(extra, fmt.Sprintf("probe: %d connections", cfg.ProbeConc))
		}
		if cfg.ProbeRate > 0 {
			extra = append(extra, fmt.Sprintf("probe rate %s", fmtRate(float64(cfg.ProbeRate))))
		}
		if cfg.Connections > 0 {
			extra = append(extra, fmt.Sprintf("%d connections carry the rate", cfg.Connections))
		}
		if cfg.ConnsPerProc > 0 {
			extra = append(extra, fmt.Sprintf("at most %s connections per server and per load process", fmtInt(uint64(cfg.ConnsPerProc))))
		}
		if cfg.ConnectRate > 0 && cfg.ConnsPerProc > 0 {
			extra = append(extra, fmt.Sprintf("opened at up to %s connections/s", units.Count(float64(cfg.ConnectRate))))
		}
		if cfg.ServerCPUs != "" {
			extra = append(extra, fmt.Sprintf("server on CPUs %s, the load generator's included", cfg.ServerCPUs))
		}
		row.Extra = orDefault(strings.Join(extra, "; "), none)
		var servers []string
		for _, sc := range v.scs[name] {
			servers = append(servers, sc.Server)
		}
		row.Servers = orDefault(strings.Join(servers, ", "), "none (not run)")
		out = append(out, row)
	}
	return out
}

// scenarioNames lists the scenarios planned or present, known ones first.
func scenarioNames(v view) []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, n := range scenarioOrder {
		if len(v.scs[n]) > 0 || v.config(n).Name != "" {
			add(n)
		}
	}
	var rest []string
	for n := range v.scs {
		rest = append(rest, n)
	}
	for _, c := range v.run.Config.Scenarios {
		if !v.scale.separate || c.Name != scaleScenario {
			rest = append(rest, c.Name)
		}
	}
	if v.config(scaleScenario).Name != "" {
		rest = append(rest, scaleScenario)
	}
	sort.Strings(rest)
	for _, n := range rest {
		add(n)
	}
	return out
}

func buildMachine(run results.Run) []KV {
	e := run.Env
	kv := []KV{
		{"Kernel", orDefault(e.Kernel, none)},
		{"CPU", orDefault(e.CPUModel, none)},
		{"CPUs usable", known(uint64(max(0, e.Cores)))},
		{"Memory", knownBytes(float64(e.MemTotal))},
		{"Go", orDefault(e.GoVersion, none)},
		{"Host", orDefault(e.Hostname, none)},
		{"RLIMIT_NOFILE (soft / hard)", fmt.Sprintf("%s / %s", known(e.NoFileSoft), known(e.NoFileHard))},
		{"pid_max", known(uint64(max(0, e.PidMax)))},
		{"threads-max", known(uint64(max(0, e.ThreadsMax)))},
		{"somaxconn", known(uint64(max(0, e.Somaxconn)))},
	}
	if e.PortRangeHigh > e.PortRangeLow {
		kv = append(kv, KV{"Ephemeral ports", fmt.Sprintf("%d-%d (%s per client address and server port)", e.PortRangeLow, e.PortRangeHigh,
			fmtInt(uint64(e.PortRangeHigh-e.PortRangeLow+1)))})
	}
	if len(run.Hosts) > 0 {
		// Every row above is of the harness's machine; the hosts follow.
		kv[0].Key = "Kernel (the harness's machine)"
		kv[5].Key = "Host name (the harness's machine)"
	}
	for _, h := range run.Hosts {
		kv = append(kv, KV{"Host " + h.Spec + " (" + h.Role + ")", hostLine(h)})
	}
	return kv
}

// hostLine describes one host of a multi-host run: its address, its
// machine as read there, and its clock against the harness's.
func hostLine(h results.Host) string {
	parts := []string{orDefault(h.Addr, "address unknown")}
	if e := h.Env; e != nil {
		parts = append(parts, fmt.Sprintf("%s, %s, %d CPUs, %s, RLIMIT_NOFILE %s", orDefault(e.Hostname, none), orDefault(e.CPUModel, none),
			e.Cores, knownBytes(float64(e.MemTotal)), known(e.NoFileHard)))
	}
	if h.Error != "" {
		return strings.Join(append(parts, "not usable: "+oneLine(h.Error)), "; ")
	}
	parts = append(parts, fmt.Sprintf("clock %+.3f ms from the harness's (within %.3f ms)", h.ClockOffsetMS, h.ClockRTTMS/2))
	return strings.Join(parts, "; ")
}

func buildSetup(run results.Run) []KV {
	c := run.Config
	kv := []KV{
		{"c10k version", orDefault(run.Version, none)},
		{"Git commit", orDefault(run.GitCommit, none)},
		{"Server CPUs", orDefault(c.ServerCPUs, none)},
		{"Load generator CPUs", orDefault(c.LoadCPUs, none)},
		{"Where", orDefault(run.Where(), "server and load on this machine, over loopback")},
		{"Response body", knownBytes(float64(c.BodyBytes))},
		{"Repeats per level", known(uint64(max(0, c.Repeats)))},
	}
	if c.SampleMS > 0 {
		kv = append(kv, KV{"/proc sampling period", fmtLatency(float64(c.SampleMS) * 1000)})
	}
	var peers []string
	for name, ver := range run.Peers {
		peers = append(peers, name+": "+ver)
	}
	sort.Strings(peers)
	if len(peers) > 0 {
		kv = append(kv, KV{"Peers", strings.Join(peers, "; ")})
	}
	return kv
}

func buildFailures(v view) []FailureRow {
	var out []FailureRow
	for _, name := range scenarioNames(v) {
		for _, sc := range v.scs[name] {
			for _, f := range sc.Failures {
				reason := oneLine(f.Reason)
				if f.Exit != "" {
					reason += " (" + oneLine(f.Exit) + ")"
				}
				out = append(out, FailureRow{Scenario: name, Server: sc.Server, Level: shortLevel(name, f.Level),
					Kind: orDefault(f.Kind, "failed"), Reason: orDefault(reason, "no reason recorded")})
			}
		}
	}
	return out
}

// maxWarnings keeps the warnings list readable; the rest are counted.
const maxWarnings = 40

// buildWarnings gathers the runs' warnings (a separate scale run's
// marked as such) and the measurement notes of every level (noisy
// windows, a saturated load generator, idle connections closed by the
// server): one line per scenario, server and kind of note, quoting the
// first such note and counting the repeats.
func buildWarnings(v view) []string {
	out := append([]string(nil), v.run.Warnings...)
	if v.scale.separate {
		for _, w := range v.scale.run.Warnings {
			out = append(out, "scale run: "+w)
		}
	}
	scs := v.all()
	type key struct{ scenario, server, kind string }
	type seen struct {
		first  string
		n      int
		levels []string
	}
	notes := map[key]*seen{}
	var order []key
	for _, sc := range scs {
		for _, l := range sc.Levels {
			for _, m := range l.Repeats {
				for _, n := range m.Notes {
					k := key{sc.Scenario, sc.Server, digits.ReplaceAllString(n, "#")}
					s, ok := notes[k]
					if !ok {
						s = &seen{first: n}
						notes[k] = s
						order = append(order, k)
					}
					s.n++
					if lv := shortLevel(sc.Scenario, l.Level); !slices.Contains(s.levels, lv) {
						s.levels = append(s.levels, lv)
					}
				}
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].scenario != order[j].scenario {
			return order[i].scenario < order[j].scenario
		}
		return compareServers(order[i].server, order[j].server) < 0
	})
	for _, k := range order {
		s := notes[k]
		repeats := "1 repeat"
		if s.n > 1 {
			repeats = fmt.Sprintf("%d repeats", s.n)
		}
		out = append(out, fmt.Sprintf("%s / %s at %s: %s (%s)", k.scenario, k.server, strings.Join(s.levels, ", "), oneLine(s.first), repeats))
	}
	if len(out) > maxWarnings {
		n := len(out) - maxWarnings
		out = append(out[:maxWarnings], fmt.Sprintf("... and %d more in the scenario files.", n))
	}
	return out
}

// digits groups notes that differ only in their numbers.
var digits = regexp.MustCompile(`[0-9][0-9.,]*`)

// buildServerRows describes the run's servers from the registry; a server
// the registry no longer knows keeps its name and kind.
func buildServerRows(v view) []ServerRow {
	var out []ServerRow
	for _, s := range v.servers() {
		row := ServerRow{Name: s.Server, Kind: s.Kind, About: none, Runtime: none}
		if e, ok := registry.Lookup(s.Server); ok {
			row.About = e.About
			if e.Runtime != "" {
				row.Runtime = e.Runtime
			}
		}
		out = append(out, row)
	}
	return out
}

// buildSitOuts folds the planner's sit-outs into one row per server and
// reason, listing the scenarios.
func buildSitOuts(sos []results.SitOut) []SitOutRow {
	type key struct{ server, reason string }
	var order []key
	scenarios := map[key][]string{}
	for _, so := range sos {
		k := key{so.Server, oneLine(so.Reason)}
		if _, seen := scenarios[k]; !seen {
			order = append(order, k)
		}
		scenarios[k] = append(scenarios[k], so.Scenario)
	}
	slices.SortStableFunc(order, func(a, b key) int { return compareServers(a.server, b.server) })
	out := make([]SitOutRow, len(order))
	for i, k := range order {
		out[i] = SitOutRow{Server: k.server, Scenarios: strings.Join(scenarios[k], ", "), Reason: k.reason}
	}
	return out
}

func buildSkipped(v view) []SkipRow {
	seen := map[results.Skip]bool{}
	var out []SkipRow
	add := func(s results.Skip) {
		if seen[s] {
			return
		}
		seen[s] = true
		out = append(out, SkipRow{Scenario: s.Scenario, Server: s.Server, Level: shortLevel(s.Scenario, s.Level), Reason: oneLine(s.Reason)})
	}
	for _, s := range v.skips() {
		add(s)
	}
	return out
}

func buildReproduce(v view, runDir string) []string {
	bench := "make bench"
	if v.run.Config.Full {
		bench = "make bench-full"
	}
	dir := filepath.ToSlash(runDir)
	out := []string{
		bench + "                      # build, run every scenario, draw the figures, write REPORT.md",
		"make plots report OUT=" + dir + "   # redraw figures and report from these results, running nothing",
		"bin/c10k plot -in " + dir,
		"bin/c10k report -in " + dir + " -out REPORT.md",
	}
	if !v.scale.separate {
		return out
	}
	scale := filepath.ToSlash(v.scale.dir)
	return []string{
		out[0],
		"make bench-scale SCALE_OUT=" + scale + "   # the scale scenario: idle connections toward 1M, kernel limits raised and put back",
		"make plots report OUT=" + dir + " SCALE_OUT=" + scale + "   # redraw and rewrite from these results, running nothing",
		"bin/c10k plot -in " + dir,
		"bin/c10k plot -in " + scale,
		"bin/c10k report -in " + dir + " -scale " + scale + " -out REPORT.md",
	}
}

// known formats a figure the harness records as zero when it could not
// read it.
func known(v uint64) string {
	switch v {
	case 0:
		return none
	case math.MaxUint64:
		return "unlimited"
	}
	return fmtInt(v)
}

func knownBytes(v float64) string {
	if v <= 0 {
		return none
	}
	return fmtBytes(v)
}
