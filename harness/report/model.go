package report

// Data is everything the report template shows, already formatted: the
// template only lays it out, so every number is computed (and tested) in
// Go.
type Data struct {
	RunID      string
	RunDir     string // the results directory, relative to the report
	Status     string
	Started    string
	Finished   string
	WallTime   string
	Grid       string // quick, full, smoke
	Repeats    int
	Servers    string
	ServerRows []ServerRow // what each server of the run is, from the registry
	SitOuts    []SitOutRow // servers left out of whole scenarios, and why
	Error      string      // why the run stopped early, if it did
	Summary    []string
	Scenarios  []ScenarioRow
	Machine    []KV
	Setup      []KV
	Notes      []string // how to read this run (the harness's method notes)
	Headline   Headline
	Figures    []FigureRef
	Stories    []Story
	Claims     []Claim
	Failures   []FailureRow
	Warnings   []string
	Skipped    []SkipRow
	Reproduce  []string
	Plotted    bool // at least one figure exists on disk
	PlotCmd    string

	// Scale is the section on the scale scenario; ScaleRunDir the second
	// results directory it comes from, relative to the report ("" when
	// it is the main run's).
	Scale       ScaleSection
	ScaleRunDir string
}

// KV is one row of a two-column table.
type KV struct{ Key, Value string }

// ScenarioRow is one scenario as it ran.
type ScenarioRow struct {
	Name     string
	What     string // what varies, and what it shows
	Levels   string
	Duration string // per level: measured + warm-up
	Extra    string // wait, work, probe
	Servers  string
}

// Headline is the table of headline numbers, one row per server, and the
// levels its columns are quoted at.
type Headline struct {
	Levels string // which level each column is quoted at, one sentence
	Rows   []HeadlineRow
	Notes  []string
}

// HeadlineRow is one server's headline numbers, formatted; "–" where the
// run did not measure it.
type HeadlineRow struct {
	Server         string
	Kind           string
	PSSPerConn     string
	KernelPerConn  string // kernel stacks + page tables
	SocketPerConn  string // socket slab, both ends
	ThreadsPerConn string
	CPUPerReq      string // server CPU per request at the p99 column's level
	FDsPerConn     string
	PeakRPS        string
	P99            string
	WaitRPS        string
	CPURPS         string
	Failures       string
}

// FigureRef is one figure: where it is, relative to the report, or why
// it is not there.
type FigureRef struct {
	Num     int
	Name    string
	Caption string
	Path    string // relative to the report, slash-separated
	Present bool
	Missing string // why not, when not Present
	Note    string // how to read it, when the run calls for a warning
}

// Story is where one server wins and where it loses, in this run.
type Story struct {
	Server string
	Kind   string
	Wins   []string
	Loses  []string
	// Unranked: figures measured but not ranked for a reason that is not
	// the server's fault (the load generator saturated first).
	Unranked []string
}

// Verdict is what the data says about a claim.
type Verdict string

// Verdicts.
const (
	Holds       Verdict = "holds"
	Partly      Verdict = "partly holds"
	DoesNotHold Verdict = "does not hold"
	NotMeasured Verdict = "not measured in this run"
)

// Claim is one claim of the source essay, in our words, with the verdict
// of this run and the evidence behind it.
type Claim struct {
	Num      int
	Title    string
	Claim    string // the claim restated in our words
	Verdict  Verdict
	Because  string   // one sentence: why this verdict, with numbers
	Evidence []string // the numbers behind it
	Figures  []FigureRef
}

// FailureRow is one recorded failure.
type FailureRow struct {
	Scenario string
	Server   string
	Level    string
	Kind     string
	Reason   string
}

// SkipRow is one planned level that did not run.
type SkipRow struct {
	Scenario string
	Server   string
	Level    string
	Reason   string
}

// ServerRow is one server of the run: its name, kind and what it is.
type ServerRow struct {
	Name, Kind, About string
	Runtime           string // how a Go model's runtime was set up, and why
}

// SitOutRow is one server left out of one or more scenarios it cannot
// run, for one reason.
type SitOutRow struct {
	Server    string
	Scenarios string
	Reason    string
}

// ScaleSection is the scale scenario: idle connections toward a million,
// each level spread over server and load processes.
type ScaleSection struct {
	Present bool
	Missing string // why there is nothing to show, when not Present
	// Source says which run and machine the section comes from, and how
	// that relates to the rest of the report.
	Source  string
	Rows    []ScaleRow
	Notes   []string
	Sysctls []SysctlRow
	SitOuts []SitOutRow
	Figure  FigureRef // figure 17; Present when drawn
}

// ScaleRow is how far one server climbed, formatted.
type ScaleRow struct {
	Server        string
	Kind          string
	Held          string // the largest idle count it held
	Procs         string // server processes at that count
	UserPerConn   string // PSS
	KernelPerConn string // kernel stacks, page tables and slab, both socket ends
	FDsPerConn    string
	OpenTime      string // how long opening them took
	ConnectRate   string
	Limit         string // what stopped it above Held
}

// SysctlRow is one kernel setting a run checked.
type SysctlRow struct {
	Name, Was, Set, Note string
}
