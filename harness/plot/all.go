package plot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"c10k/harness/results"
)

// Input is everything the figures are drawn from: the run, its scenarios,
// and the latency spectra read by LoadSpectra (empty if there were none).
type Input struct {
	Run           results.Run
	Scenarios     []results.Scenario
	Spectra       []Spectrum
	SpectrumLevel int
}

// Spec is one figure of the report: its file name, what it shows, and
// the scenario it needs.
type Spec struct {
	Name     string // file name without extension, e.g. "05-throughput"
	Caption  string // one line for the report
	Scenario string // the scenario whose results it draws
	build    func(Input) (*Figure, error)
}

// Build draws the figure. It returns an error wrapping ErrNoData when the
// scenario did not run or has nothing the figure can show.
func (s Spec) Build(in Input) (*Figure, error) {
	if s.Scenario != "spectrum" && len(byScenario(in.Scenarios, s.Scenario)) == 0 {
		return nil, fmt.Errorf("%w: scenario %q not in this run", ErrNoData, s.Scenario)
	}
	return s.build(in)
}

// Specs lists every figure, in report order.
func Specs() []Spec {
	return []Spec{
		{"01-memory", "Server memory (PSS and RSS) against idle connections held", "idle",
			func(in Input) (*Figure, error) { return Memory(byScenario(in.Scenarios, "idle")) }},
		{"02-memory-per-conn", "Memory per idle connection, user space against kernel", "idle",
			func(in Input) (*Figure, error) { return MemoryPerConn(byScenario(in.Scenarios, "idle")) }},
		{"03-threads", "Threads against idle connections held", "idle",
			func(in Input) (*Figure, error) { return Threads(byScenario(in.Scenarios, "idle")) }},
		{"04-fds", "Open file descriptors against idle connections held", "idle",
			func(in Input) (*Figure, error) { return FDs(byScenario(in.Scenarios, "idle")) }},
		{"05-throughput", "Throughput against concurrency (closed loop)", "concurrency",
			func(in Input) (*Figure, error) { return Throughput(byScenario(in.Scenarios, "concurrency")) }},
		{"06-latency", "p50, p99 and p99.9 latency against concurrency (closed loop)", "concurrency",
			func(in Input) (*Figure, error) { return Latency(byScenario(in.Scenarios, "concurrency")) }},
		{"07-rate-latency", "Latency against offered rate in open loop", "rate",
			func(in Input) (*Figure, error) { return RateLatency(byScenario(in.Scenarios, "rate")) }},
		{"08-spectrum", "Latency percentile spectrum at one concurrency level", "concurrency",
			func(in Input) (*Figure, error) { return SpectrumFigure(in.Spectra, in.SpectrumLevel) }},
		{"09-wait", "Throughput against concurrency with backend I/O per request", "wait",
			func(in Input) (*Figure, error) {
				return Wait(byScenario(in.Scenarios, "wait"), in.Run.ScenarioConfig("wait"))
			}},
		{"10-cpu", "Throughput against concurrency with CPU-bound requests", "cpu",
			func(in Input) (*Figure, error) {
				return CPU(byScenario(in.Scenarios, "cpu"), in.Run.ScenarioConfig("cpu"), in.Run.ServerCPUCountOf("cpu"))
			}},
		{"11-ctx-switches", "Context switches per request against concurrency", "concurrency",
			func(in Input) (*Figure, error) { return CtxSwitches(byScenario(in.Scenarios, "concurrency")) }},
		{"12-cpu-per-request", "Server CPU per request against concurrency: the efficiency ranking that holds when the client saturates", "concurrency",
			func(in Input) (*Figure, error) { return CPUPerRequest(byScenario(in.Scenarios, "concurrency")) }},
		// The proxy scenarios' figures are in proxy.go.
		{"13-proxy", "Throughput and p99 latency against concurrency, every server proxying to a slow backend", "proxy",
			func(in Input) (*Figure, error) {
				return Proxy(byScenario(in.Scenarios, "proxy"), in.Run.ScenarioConfig("proxy"))
			}},
		{"14-gather", "p50 and p99 latency against K backend calls per request (gather)", "gather",
			func(in Input) (*Figure, error) {
				return Gather(byScenario(in.Scenarios, "gather"), in.Run.ScenarioConfig("gather"))
			}},
		{"15-proxy-resources", "Descriptors and threads per in-flight request when proxying", "proxy",
			func(in Input) (*Figure, error) { return ProxyResources(byScenario(in.Scenarios, "proxy")) }},
		{"16-classic", "Requests/s and server memory against concurrency on a linear axis to 10k: the 2008 nginx-Apache chart redrawn", "concurrency",
			func(in Input) (*Figure, error) { return Classic(byScenario(in.Scenarios, "concurrency")) }},
		{"17-scale", "Memory per idle connection and connect rate from 10k toward 1M connections (make bench-scale)", "scale",
			func(in Input) (*Figure, error) { return Scale(byScenario(in.Scenarios, "scale")) }},
	}
}

// Skipped is a figure that was not drawn, and why.
type Skipped struct {
	Name string
	Err  error
}

// WriteAll draws every figure into dir (NAME.png and NAME.svg) and
// returns the files written and the figures skipped. A figure without
// data is skipped, not an error, and any older drawing of it in dir is
// removed; the returned error joins the failures to
// draw or write a figure that had data, after trying all the others.
func WriteAll(in Input, dir string) ([]string, []Skipped, error) {
	var written []string
	var skipped []Skipped
	var errs []error
	for _, s := range Specs() {
		f, err := s.Build(in)
		if err != nil {
			// A figure left from an earlier drawing would otherwise
			// show in the report as if this run had measured it.
			for _, ext := range []string{".png", ".svg"} {
				if rmErr := os.Remove(filepath.Join(dir, s.Name+ext)); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
					errs = append(errs, fmt.Errorf("plot: removing stale figure: %w", rmErr))
				}
			}
			skipped = append(skipped, Skipped{Name: s.Name, Err: err})
			if !errors.Is(err, ErrNoData) {
				errs = append(errs, err)
			}
			continue
		}
		if w := in.Run.Where(); w != "" {
			f.Notes = append(f.Notes, w)
		}
		paths, err := f.Save(dir)
		written = append(written, paths...)
		if err != nil {
			skipped = append(skipped, Skipped{Name: s.Name, Err: err})
			errs = append(errs, err)
		}
	}
	return written, skipped, errors.Join(errs...)
}

// PNGPath is where the report finds a figure of a run: RUN/plots/NAME.png.
func PNGPath(runDir, name string) string {
	return filepath.Join(runDir, "plots", name+".png")
}
