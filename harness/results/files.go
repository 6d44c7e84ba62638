package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// File names inside a run directory.
const (
	RunFile = "run.json"
	HgrmDir = "hgrm"
)

// ErrNoRun is returned (wrapped) by Load for a directory without run.json.
var ErrNoRun = errors.New("results: no run.json")

// ScenarioFile is the name of a scenario's JSON file: SCENARIO-SERVER.json.
func ScenarioFile(scenario, server string) string {
	return scenario + "-" + server + ".json"
}

// CSVFile is the CSV beside a scenario's JSON file.
func CSVFile(scenario, server string) string {
	return scenario + "-" + server + ".csv"
}

// HgrmFile is the latency histogram of one repeat of one level, relative
// to the run directory: hgrm/SCENARIO-SERVER-LEVEL-rR.hgrm.
func HgrmFile(scenario, server string, level, repeat int) string {
	return filepath.Join(HgrmDir, scenario+"-"+server+"-"+strconv.Itoa(level)+"-r"+strconv.Itoa(repeat)+".hgrm")
}

// WriteFile writes data to path atomically: a temporary file in the same
// directory, synced, then renamed over path. A reader (or a run killed
// half-way) sees the old file or the new one, never a mix.
func WriteFile(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("results: writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("results: writing %s: %w", path, err)
	}
	return nil
}

// WriteJSON writes v as indented JSON to path atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("results: encoding %s: %w", path, err)
	}
	return WriteFile(path, append(b, '\n'))
}

// ReadJSON decodes the JSON file at path into v.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("results: decoding %s: %w", path, err)
	}
	return nil
}

// Load reads a run directory: run.json and every scenario file it lists
// (or, if it lists none, every SCENARIO-SERVER.json present), sorted by
// scenario then server. A scenario file that fails to decode is an error:
// files are written atomically, so a bad one means a bug or a hand edit.
func Load(dir string) (Run, []Scenario, error) {
	var run Run
	if err := ReadJSON(filepath.Join(dir, RunFile), &run); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return run, nil, fmt.Errorf("%w in %s", ErrNoRun, dir)
		}
		return run, nil, err
	}
	run.markOrphaned()
	names := run.Files
	if len(names) == 0 {
		m, err := filepath.Glob(filepath.Join(dir, "*-*.json"))
		if err != nil {
			return run, nil, fmt.Errorf("results: listing %s: %w", dir, err)
		}
		for _, p := range m {
			names = append(names, filepath.Base(p))
		}
	}
	scs := make([]Scenario, 0, len(names))
	for _, name := range names {
		if name == RunFile || strings.HasPrefix(name, ".") {
			continue
		}
		var sc Scenario
		if err := ReadJSON(filepath.Join(dir, name), &sc); err != nil {
			return run, nil, err
		}
		scs = append(scs, sc)
	}
	sort.SliceStable(scs, func(i, j int) bool {
		if scs[i].Scenario != scs[j].Scenario {
			return scs[i].Scenario < scs[j].Scenario
		}
		return scs[i].Server < scs[j].Server
	})
	return run, scs, nil
}

// Remove deletes the run in dir: run.json, its scenario files and their
// CSVs, and the hgrm and peers directories. Other files (plots, notes) are
// left alone, and so is dir itself. A directory without run.json is not a
// run: ErrNoRun.
func Remove(dir string) error {
	var run Run
	if err := ReadJSON(filepath.Join(dir, RunFile), &run); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w in %s", ErrNoRun, dir)
		}
		// An unreadable run.json still marks a run: remove what the names
		// say it holds.
	}
	var errs []error
	names, _ := filepath.Glob(filepath.Join(dir, "*-*.json"))
	names2, _ := filepath.Glob(filepath.Join(dir, "*-*.csv"))
	for _, p := range append(names, names2...) {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, sub := range []string{HgrmDir, "peers"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(filepath.Join(dir, RunFile)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("results: removing the run in %s: %w", dir, err)
	}
	return nil
}
