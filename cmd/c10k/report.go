package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"

	"c10k/harness/report"
	"c10k/harness/results"
	"c10k/harness/scenario"
)

func init() {
	commands["report"] = command{
		summary: "write REPORT.md from a results directory",
		run:     runReport,
	}
}

const reportExamples = `
Examples:
  # the report of the last run, at the repository root, after its figures
  c10k plot -in results/latest
  c10k report -in results/latest -out REPORT.md

  # print it instead (figure links are then relative to the current directory)
  c10k report -in results/latest -out -

  # with the scale scenario of a separate run (c10k bench -scale), its figure drawn first
  c10k plot -in results/scale
  c10k report -in results/latest -scale results/scale -out REPORT.md
`

var reportHelp = help{
	synopsis: "c10k report -in DIR [-scale DIR] [-out FILE]",
	about: "Writes the Markdown report of a run from its results, without running anything:\n" +
		"what ran, on what machine, the figures (drawn by 'c10k plot' into DIR/plots),\n" +
		"headline numbers, and the essay's claims tested against this run's numbers.\n" +
		"-scale adds the scale scenario of a second run, made by 'c10k bench -scale': its\n" +
		"levels, skips, kernel settings and machine, and figure 17 from its plots directory;\n" +
		"it replaces any scale scenario of the -in run.",
	examples: reportExamples,
}

func runReport(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("c10k report", reportHelp, stderr)
	in := fs.String("in", "", "results `DIR` of one run (run.json and the scenario files)")
	scaleDir := fs.String("scale", "", "results `DIR` of a scale run (c10k bench -scale) whose scale scenario joins the report")
	out := fs.String("out", "REPORT.md", "report `FILE` to write (- for stdout); figure links are relative to it")
	if status, ok := parseFlags(fs, args); !ok {
		return status
	}
	if *in == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "c10k report: -in DIR is required, -out may not be empty, and nothing else may follow the flags")
		fs.Usage()
		return 2
	}
	if err := isDir(*in); err != nil {
		fmt.Fprintf(stderr, "c10k report: %v\n", err)
		return 1
	}
	run, scs, err := results.Load(*in)
	if err != nil {
		fmt.Fprintf(stderr, "c10k report: %v\n", err)
		return 1
	}
	var scale *report.ScaleRun
	if *scaleDir != "" {
		if scale, err = loadScaleRun(*scaleDir); err != nil {
			fmt.Fprintf(stderr, "c10k report: -scale: %v\n", err)
			return 1
		}
	}
	outPath := *out
	if outPath == "-" {
		outPath = "REPORT.md" // links relative to the current directory
	}
	d, err := report.Build(run, scs, *in, outPath, scale)
	if err != nil {
		fmt.Fprintf(stderr, "c10k report: %v\n", err)
		return 1
	}
	if !d.Plotted {
		fmt.Fprintf(stderr, "c10k report: no figures in %s/plots yet: run '%s' first for a report with figures\n", *in, d.PlotCmd)
	}
	if scale != nil && d.Scale.Present && !d.Scale.Figure.Present {
		fmt.Fprintf(stderr, "c10k report: no scale figure in %s/plots yet: run 'c10k plot -in %s' first\n", *scaleDir, *scaleDir)
	}
	if *out == "-" {
		if err := report.Render(stdout, d); err != nil {
			fmt.Fprintf(stderr, "c10k report: %v\n", err)
			return 1
		}
		return 0
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, d); err != nil {
		fmt.Fprintf(stderr, "c10k report: %v\n", err)
		return 1
	}
	if err := results.WriteFile(*out, buf.Bytes()); err != nil {
		fmt.Fprintf(stderr, "c10k report: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, *out)
	return 0
}

// loadScaleRun reads the run that -scale names: it must be a results
// directory whose run planned or measured the scale scenario.
func loadScaleRun(dir string) (*report.ScaleRun, error) {
	if err := isDir(dir); err != nil {
		return nil, err
	}
	run, scs, err := results.Load(dir)
	if err != nil {
		return nil, err
	}
	planned := run.ScenarioConfig(scenario.Scale).Name != ""
	measured := slices.ContainsFunc(scs, func(sc results.Scenario) bool { return sc.Scenario == scenario.Scale })
	if !planned && !measured {
		return nil, fmt.Errorf("%s holds no scale scenario: write one with 'c10k bench -scale -out %s'", dir, dir)
	}
	return &report.ScaleRun{Run: run, Scenarios: scs, Dir: dir}, nil
}

// isDir says why dir cannot be a results directory, if it cannot.
func isDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("results directory: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("results directory: %s is not a directory", dir)
	}
	return nil
}
