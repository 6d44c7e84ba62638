package plot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"c10k/harness/results"
)

// Spectrum is one server's latency percentile distribution at one level,
// values in microseconds.
type Spectrum struct {
	Server, Kind string
	Level        int
	File         string // the .hgrm it came from, relative to the run
	Points       []Percentile
}

// LoadSpectra reads, for every server of the concurrency scenario, the
// .hgrm file of one repeat at one level: the level every server has a file
// for, results.ConcurrencyTarget when they all do. Of several repeats it takes the
// one whose p99 is the median, so the spectrum drawn is a typical run, not
// the luckiest. Files that are missing or malformed are skipped and
// reported in the joined error; the spectra that could be read are
// returned regardless.
//
// The values are converted from the file's milliseconds to microseconds
// (see toMicros).
func LoadSpectra(dir string, scs []results.Scenario) ([]Spectrum, int, error) {
	conc := sortScenarios(byScenario(scs, "concurrency"))
	level := results.CommonLevel(conc, results.ConcurrencyTarget, results.HasHgrm)
	if level == 0 {
		return nil, 0, nil
	}
	var out []Spectrum
	var errs []error
	for _, sc := range conc {
		l, ok := results.LevelNear(sc, level, results.HasHgrm)
		if !ok || l.Level != level {
			continue
		}
		m := typicalRepeat(l.Repeats)
		pts, err := readHgrm(filepath.Join(dir, filepath.FromSlash(m.HgrmFile)))
		if err != nil {
			errs = append(errs, fmt.Errorf("plot: %s at %d: %w", sc.Server, level, err))
			continue
		}
		toMicros(pts, m.Load.Latency.P50)
		out = append(out, Spectrum{Server: sc.Server, Kind: sc.Kind, Level: level, File: m.HgrmFile, Points: pts})
	}
	return out, level, errors.Join(errs...)
}

// typicalRepeat returns the repeat with an .hgrm file whose p99 is the
// median among those that have one.
func typicalRepeat(ms []results.Measurement) results.Measurement {
	var with []results.Measurement
	for _, m := range ms {
		if m.HgrmFile != "" {
			with = append(with, m)
		}
	}
	slices.SortStableFunc(with, func(a, b results.Measurement) int {
		switch {
		case a.Load.Latency.P99 < b.Load.Latency.P99:
			return -1
		case a.Load.Latency.P99 > b.Load.Latency.P99:
			return 1
		}
		return 0
	})
	return with[(len(with)-1)/2]
}

func readHgrm(path string) ([]Percentile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading hgrm: %w", err)
	}
	defer f.Close()
	pts, err := ParseHgrm(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return pts, nil
}

// toMicros converts a distribution to microseconds. The load generator
// prints .hgrm files in milliseconds, as wrk does; a file already in
// microseconds is recognised by its median matching the p50 the load
// generator reported in microseconds, and left alone.
func toMicros(pts []Percentile, p50US float64) {
	if med := medianOf(pts); p50US > 0 && med > 0 {
		if r := p50US / med; r > 0.3 && r < 3 {
			return
		}
	}
	for i := range pts {
		pts[i].Value *= 1000
	}
}

// medianOf is the value at the first row at or above the 50th percentile.
func medianOf(pts []Percentile) float64 {
	for _, p := range pts {
		if p.Quantile >= 0.5 {
			return p.Value
		}
	}
	return 0
}
