package harness

import (
	"path/filepath"

	"c10k/harness/results"
	"c10k/harness/scenario"
)

// levelResult is what one level run produced: a measurement, a failure,
// or both (a level the server failed part-way through may still have
// measured something).
type levelResult struct {
	m           *results.Measurement
	failure     *results.Failure
	interrupted bool
	command     []string
	backend     *backend // the level's backend, if it had one (its command and CPUs are recorded)
}

type fileKey struct{ scenario, server string }

// store accumulates the scenario files of a run and writes them.
type store struct {
	dir     string
	servers map[string]server
	order   []fileKey
	files   map[fileKey]*results.Scenario
	planned map[fileKey]int
	done    map[fileKey]int
	written map[fileKey]bool
}

func newStore(dir string, servers []server, plan scenario.Plan) *store {
	s := &store{dir: dir, files: map[fileKey]*results.Scenario{}, planned: map[fileKey]int{},
		done: map[fileKey]int{}, written: map[fileKey]bool{}, servers: map[string]server{}}
	version := map[string]string{}
	for _, sv := range servers {
		version[sv.Name] = sv.version
		s.servers[sv.Name] = sv
	}
	for _, st := range plan.Steps {
		k := fileKey{st.Scenario.Name, st.Server.Name}
		s.planned[k]++
		if s.files[k] != nil {
			continue
		}
		s.order = append(s.order, k)
		sc := &results.Scenario{Scenario: k.scenario, Server: k.server, Kind: st.Server.Kind,
			LevelName: st.Scenario.LevelName, Config: st.Scenario, Version: version[k.server],
			CSVFile: results.CSVFile(k.scenario, k.server)}
		for _, sk := range plan.Skipped {
			if sk.Scenario == k.scenario && sk.Server == k.server {
				sc.Skipped = append(sc.Skipped, sk)
			}
		}
		s.files[k] = sc
	}
	return s
}

// record adds one level run's outcome.
// unplan takes st out of its file's plan: it was skipped when its turn
// came (the scale guard), so the file is complete without it and lists
// the skip with the planner's.
func (s *store) unplan(st scenario.Step, sk results.Skip) {
	k := fileKey{st.Scenario.Name, st.Server.Name}
	s.planned[k]--
	if sc := s.files[k]; sc != nil {
		sc.Skipped = append(sc.Skipped, sk)
	}
}

func (s *store) record(st scenario.Step, r levelResult) {
	k := fileKey{st.Scenario.Name, st.Server.Name}
	sc := s.files[k]
	if sc == nil {
		return
	}
	if !r.interrupted {
		s.done[k]++
	}
	if len(sc.Command) == 0 && len(r.command) > 0 {
		sc.Command = r.command
	}
	if len(sc.BackendCommand) == 0 && r.backend != nil && len(r.backend.args) > 0 {
		sc.BackendCommand, sc.BackendCPUs = r.backend.args, r.backend.cpus
	}
	if r.failure != nil {
		sc.Failures = append(sc.Failures, *r.failure)
	}
	if r.m == nil {
		return
	}
	var lv *results.Level
	for i := range sc.Levels {
		if sc.Levels[i].Level == st.Level {
			lv = &sc.Levels[i]
		}
	}
	if lv == nil {
		sc.Levels = append(sc.Levels, results.Level{Level: st.Level})
		lv = &sc.Levels[len(sc.Levels)-1]
	}
	lv.Repeats = append(lv.Repeats, *r.m)
	lv.Summary = results.Summarize(lv.Repeats)
}

// write writes one scenario file and its CSV; it returns the names of
// every scenario file written so far, for run.json.
func (s *store) write(scenarioName, serverName string) ([]string, error) {
	k := fileKey{scenarioName, serverName}
	sc := s.files[k]
	if sc != nil {
		sc.Complete = s.done[k] >= s.planned[k]
		if err := results.WriteJSON(filepath.Join(s.dir, results.ScenarioFile(k.scenario, k.server)), sc); err != nil {
			return s.names(), err
		}
		b, err := results.CSV(*sc)
		if err != nil {
			return s.names(), err
		}
		if err := results.WriteFile(filepath.Join(s.dir, sc.CSVFile), b); err != nil {
			return s.names(), err
		}
		s.written[k] = true
	}
	return s.names(), nil
}

// writeAll rewrites every file already started, e.g. after markIncomplete.
func (s *store) writeAll() ([]string, error) {
	for _, k := range s.order {
		if !s.written[k] {
			continue
		}
		if _, err := s.write(k.scenario, k.server); err != nil {
			return s.names(), err
		}
	}
	return s.names(), nil
}

// markIncomplete sets Complete from what was done; files never started are
// not written at all (run.json lists only the files that exist).
func (s *store) markIncomplete() {
	for _, k := range s.order {
		s.files[k].Complete = s.done[k] >= s.planned[k]
	}
}

func (s *store) names() []string {
	var out []string
	for _, k := range s.order {
		if s.written[k] {
			out = append(out, results.ScenarioFile(k.scenario, k.server))
		}
	}
	return out
}

func (s *store) failures() int {
	n := 0
	for _, sc := range s.files {
		n += len(sc.Failures)
	}
	return n
}

func (s *store) serverOf(name string) server { return s.servers[name] }
