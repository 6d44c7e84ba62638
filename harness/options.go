package harness

import (
	"errors"
	"io"
	"time"

	"c10k/harness/results"
)

// ErrInterrupted is returned by Run when its context was cancelled (Ctrl-C):
// the run directory holds what was done, marked incomplete.
var ErrInterrupted = errors.New("harness: interrupted")

// Options configures a run. The command line (c10k bench) fills it.
type Options struct {
	Binary string // the c10k executable that runs `serve` and `load`
	OutDir string // the run directory; created
	Grid   string // scenario.Smoke, Quick or Full
	// Custom, when set, replaces the grid's scenarios (Grid still names
	// the run); tests use it for tiny grids.
	Custom     []results.ScenarioConfig
	Scenarios  string   // comma-separated subset; "" for all of the grid's
	Servers    []string // models and peers; nil: all models and the installed peers
	Repeats    int      // 0: 1, or 3 with the full grid
	ServerCPUs string   // CPU list for servers, e.g. "0"
	LoadCPUs   string   // CPU list for the load generator, e.g. "1"
	// BackendCPUs is the CPU list of the proxy scenarios' backend; "": the
	// CPUs neither servers nor load use, if any, else LoadCPUs.
	BackendCPUs string
	ScriptsDir  string // where the peers' templates are
	Version     string // c10k version, recorded
	BodyBytes   int    // response body size of our models (the peers serve 14)
	Period      time.Duration
	// LevelBudget, when set, replaces the plan's time budget of every
	// level (twice its estimate plus 20 s): a level still running after it
	// is stopped and recorded as a failure.
	LevelBudget time.Duration
	// ServerHost is where servers (and the proxy scenarios' backend) run,
	// LoadHosts where the load comes from, as hosts.Parse reads them
	// ("local", "netns:NAME", "ssh://[user@]host[:port]"); "" and nil:
	// this machine. SSHConfig is an ssh_config file for ssh -F.
	ServerHost string
	LoadHosts  []string
	SSHConfig  string
	// DryRun makes the plan (levels, skips, warnings, estimate) and returns
	// it in the Run without starting anything or writing any file.
	DryRun bool
	// Progress receives the live progress line; nil: none. Terminal says
	// whether it is a terminal (then the line is rewritten in place).
	Progress io.Writer
	Terminal bool
}

func (o *Options) repeats() int {
	switch {
	case o.Repeats > 0:
		return o.Repeats
	case o.Grid == "full":
		return 3
	}
	return 1
}
