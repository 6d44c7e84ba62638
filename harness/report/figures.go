package report

import (
	"fmt"
	"os"
	"path/filepath"

	"c10k/harness/plot"
)

// buildFigures lists every figure of the report with its path relative to
// the report file, and whether it exists: a figure whose scenario did not
// run is "not measured in this run"; one whose scenario ran but whose file
// is missing needs `c10k plot`.
func buildFigures(v view, runDir, outPath string) ([]FigureRef, error) {
	base, err := filepath.Abs(filepath.Dir(outPath))
	if err != nil {
		return nil, fmt.Errorf("report: locating %s: %w", outPath, err)
	}
	var out []FigureRef
	for i, s := range plot.Specs() {
		png := plot.PNGPath(runDir, s.Name)
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
		case len(v.scs[s.Scenario]) == 0:
			f.Missing = "not measured in this run: the " + s.Scenario + " scenario did not run."
		case s.Name == figSpectrum && plot.CommonLevel(v.scs["concurrency"], 0, plot.HasHgrm) == 0:
			f.Missing = "not measured in this run: no latency histograms (.hgrm files) were recorded."
		case statErr != nil:
			f.Missing = "not drawn: run `c10k plot -in " + filepath.ToSlash(runDir) + "` to draw it."
		default:
			f.Present = true
		}
		out = append(out, f)
	}
	return out, nil
}
