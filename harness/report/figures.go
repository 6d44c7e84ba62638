package report

import (
	"fmt"
	"os"
	"path/filepath"

	"c10k/harness/plot"
	"c10k/harness/results"
	"c10k/harness/units"
)

// buildFigures lists every figure of the report with its path relative to
// the report file, and whether it exists: a figure whose scenario did not
// run is "not measured in this run"; one whose scenario ran but whose file
// is missing needs `c10k plot`. The scale figure is read from the plots
// of the run the scale scenario comes from.
func buildFigures(v view, runDir, outPath string) ([]FigureRef, error) {
	base, err := filepath.Abs(filepath.Dir(outPath))
	if err != nil {
		return nil, fmt.Errorf("report: locating %s: %w", outPath, err)
	}
	var out []FigureRef
	for i, s := range plot.Specs() {
		dir := runDir
		if s.Scenario == scaleScenario && v.scale.separate {
			dir = v.scale.dir
		}
		png := plot.PNGPath(dir, s.Name)
		abs, err := filepath.Abs(png)
		if err != nil {
			return nil, fmt.Errorf("report: locating %s: %w", png, err)
		}
		rel, err := filepath.Rel(base, abs)
		if err != nil {
			rel = abs
		}
		f := FigureRef{Num: i + 1, Name: s.Name, Caption: s.Caption, Path: filepath.ToSlash(rel)}
		_, statErr := os.Stat(png)
		switch {
		case len(v.scs[s.Scenario]) == 0 && s.Scenario == scaleScenario:
			f.Missing = "not measured in this run: the scale scenario did not run (`make bench-scale`, then `c10k report -scale DIR`)."
		case len(v.scs[s.Scenario]) == 0:
			f.Missing = "not measured in this run: the " + s.Scenario + " scenario did not run."
		case s.Name == figSpectrum && results.CommonLevel(v.scs["concurrency"], 0, results.HasHgrm) == 0:
			f.Missing = "not measured in this run: no latency histograms (.hgrm files) were recorded."
		case statErr != nil:
			f.Missing = "not drawn: run `c10k plot -in " + filepath.ToSlash(dir) + "` to draw it."
		default:
			f.Present = true
		}
		if s.Name == figRate {
			f.Note = rateNote(v.scs["rate"])
		}
		out = append(out, f)
	}
	return out, nil
}

// rateNote warns where the open-loop latency includes the load generator's
// own wake-ups: a loop polls for requests due within spin_us of each other
// and sleeps on a timer between requests farther apart, so below
// loops x 1e6 / spin_us req/s every latency carries one wake-up of the
// generator on top of the server's.
func rateNote(scs []results.Scenario) string {
	var spinUs int64
	loops := 0
	for _, sc := range scs {
		for _, l := range sc.Levels {
			for _, m := range l.Repeats {
				spinUs = max(spinUs, m.Load.SpinUs)
				loops = max(loops, m.Load.Loops)
			}
		}
	}
	if len(scs) == 0 {
		return ""
	}
	if spinUs == 0 {
		return "The load generator slept on a timer between requests at every rate (no spin_us in its results): " +
			"each latency includes its own wake-up as well as the server's."
	}
	below := float64(max(loops, 1)) * 1e6 / float64(spinUs)
	return fmt.Sprintf("Below about %s req/s the load generator's loop has more than %d us between requests and sleeps on a timer "+
		"instead of polling (spin_us in the results): those latencies include its own wake-up as well as the server's, "+
		"so at those rates the curve reads higher than the server alone makes it.", units.Count(below), spinUs)
}
