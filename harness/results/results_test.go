package results

import (
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"c10k/loadgen"
)

func TestWriteFileIsAtomicAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.json")
	for _, content := range []string{"first", "second, longer than the first"} {
		if err := WriteFile(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != content {
			t.Errorf("read %q, %v; want %q", b, err, content)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("files left: %v", ents)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x"), nil); err == nil {
		t.Error("want error writing into a missing directory")
	}
}

func TestLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	scs := []Scenario{
		{Scenario: "idle", Server: "thread", Kind: KindModel, Levels: []Level{{Level: 100, Repeats: []Measurement{{ServerConns: 104}}}}},
		{Scenario: "concurrency", Server: "nginx", Kind: KindPeer, Failures: []Failure{{Level: 10, Kind: FailureCrash, Reason: "x"}}},
	}
	run := Run{ID: "r", Status: StatusComplete}
	for _, sc := range scs {
		name := ScenarioFile(sc.Scenario, sc.Server)
		if err := WriteJSON(filepath.Join(dir, name), sc); err != nil {
			t.Fatal(err)
		}
		run.Files = append(run.Files, name)
	}
	if err := WriteJSON(filepath.Join(dir, RunFile), run); err != nil {
		t.Fatal(err)
	}
	gotRun, got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if gotRun.ID != "r" || len(got) != 2 {
		t.Fatalf("run %+v, %d scenarios", gotRun, len(got))
	}
	// Sorted by scenario name.
	if got[0].Scenario != "concurrency" || got[1].Levels[0].Repeats[0].ServerConns != 104 || got[0].Failures[0].Kind != FailureCrash {
		t.Errorf("decoded %+v", got)
	}
}

func TestLoadSad(t *testing.T) {
	if _, _, err := Load(t.TempDir()); !errors.Is(err, ErrNoRun) {
		t.Errorf("empty dir: %v, want ErrNoRun", err)
	}
	dir := t.TempDir()
	WriteJSON(filepath.Join(dir, RunFile), Run{Files: []string{"idle-x.json"}})
	os.WriteFile(filepath.Join(dir, "idle-x.json"), []byte("{not json"), 0o644)
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "idle-x.json") {
		t.Errorf("bad file: %v", err)
	}
}

func TestSummarize(t *testing.T) {
	ms := []Measurement{
		{Load: loadgen.Result{RPS: 100, Requests: 90, Errors: map[string]int64{"read": 10}}, PerConn: PerConn{PSSBytes: 500}},
		{Load: loadgen.Result{RPS: 300, Requests: 100}, PerConn: PerConn{PSSBytes: 700}, Noisy: true},
		{Load: loadgen.Result{RPS: 200, Requests: 100}, PerConn: PerConn{PSSBytes: 600}},
	}
	s := Summarize(ms)
	if s.RPS.Median != 200 || s.RPS.Min != 100 || s.RPS.Max != 300 || s.RPS.N != 3 {
		t.Errorf("RPS %+v", s.RPS)
	}
	if math.Abs(s.RPS.StdDev-81.6496580927726) > 1e-6 {
		t.Errorf("stddev %v", s.RPS.StdDev)
	}
	if s.PerConn.PSSBytes != 600 || s.Noisy != 1 || s.ErrorRate.Max != 0.1 {
		t.Errorf("summary %+v", s)
	}
	if z := StatOf(nil); z != (Stat{}) {
		t.Errorf("StatOf(nil) = %+v", z)
	}
}

func TestCSV(t *testing.T) {
	sc := Scenario{Scenario: "idle", Server: "thread",
		Levels: []Level{
			{Level: 1000, Repeats: []Measurement{{Load: loadgen.Result{RPS: 500}, PerConn: PerConn{PSSBytes: 8192}}}},
			{Level: 100, Repeats: []Measurement{{Repeat: 0}, {Repeat: 1}}},
		},
		Failures: []Failure{{Level: 10000, Repeat: 0, Reason: "crash, with a comma"}},
	}
	b, err := CSV(sc)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || len(rows[0]) != len(CSVHeader) {
		t.Fatalf("%d rows of %d columns", len(rows), len(rows[0]))
	}
	col := func(name string) int {
		for i, h := range CSVHeader {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	if rows[1][col("level")] != "100" || rows[3][col("per_conn_pss_bytes")] != "8192" {
		t.Errorf("rows not sorted by level or wrong figure: %v", rows)
	}
	if last := rows[4]; last[col("status")] != "failed" || last[col("reason")] != "crash, with a comma" {
		t.Errorf("failure row %v", last)
	}
}

func TestRemove(t *testing.T) {
	dir := t.TempDir()
	WriteJSON(filepath.Join(dir, RunFile), Run{Files: []string{"idle-thread.json"}})
	WriteJSON(filepath.Join(dir, "idle-thread.json"), Scenario{})
	WriteFile(filepath.Join(dir, "idle-thread.csv"), nil)
	os.MkdirAll(filepath.Join(dir, HgrmDir), 0o755)
	WriteFile(filepath.Join(dir, HgrmDir, "x.hgrm"), nil)
	WriteFile(filepath.Join(dir, "idle.png"), nil)
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "idle.png" {
		t.Errorf("left %v, want only the plot", ents)
	}
	if err := Remove(dir); !errors.Is(err, ErrNoRun) {
		t.Errorf("second Remove: %v, want ErrNoRun", err)
	}
}
