package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"c10k/harness/plot"
	"c10k/harness/results"
)

func init() {
	commands["plot"] = command{
		summary: "redraw the figures (PNG and SVG) from a results directory",
		run:     runPlot,
	}
}

const plotExamples = `
Examples:
  # redraw the figures of the last run into results/latest/plots
  c10k plot -in results/latest

  # draw into another directory, e.g. to compare with the committed figures
  c10k plot -in results/latest -out /tmp/plots
`

var plotHelp = help{
	synopsis: "c10k plot -in DIR [-out DIR]",
	about: "Draws every figure of the report from an existing results directory, without\n" +
		"running anything: NN-name.png for the report and NN-name.svg beside it.\n" +
		"A figure whose scenario is not in the run is skipped, and said so on stderr.",
	examples: plotExamples,
}

func runPlot(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("c10k plot", plotHelp, stderr)
	in := fs.String("in", "", "results `DIR` of one run (run.json and the scenario files)")
	out := fs.String("out", "", "where to write the figures (`DIR`); default: DIR/plots")
	if status, ok := parseFlags(fs, args); !ok {
		return status
	}
	if *in == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "c10k plot: -in DIR is required, and nothing else may follow the flags")
		fs.Usage()
		return 2
	}
	in2, err := loadPlotInput(*in, "c10k plot", stderr)
	if err != nil {
		fmt.Fprintf(stderr, "c10k plot: %v\n", err)
		return 1
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(*in, "plots")
	}
	written, skipped, err := plot.WriteAll(in2, dir)
	for _, p := range written {
		fmt.Fprintln(stdout, p)
	}
	for _, s := range skipped {
		fmt.Fprintf(stderr, "c10k plot: skipped %s: %v\n", s.Name, s.Err)
	}
	if err != nil {
		fmt.Fprintf(stderr, "c10k plot: %v\n", err)
		return 1
	}
	return 0
}

// loadPlotInput reads a run directory and the latency spectra beside it.
// Unreadable .hgrm files are reported on stderr and only cost figure 8.
func loadPlotInput(dir, cmd string, stderr io.Writer) (plot.Input, error) {
	if st, err := os.Stat(dir); err != nil {
		return plot.Input{}, fmt.Errorf("results directory: %w", err)
	} else if !st.IsDir() {
		return plot.Input{}, fmt.Errorf("results directory: %s is not a directory", dir)
	}
	run, scs, err := results.Load(dir)
	if err != nil {
		return plot.Input{}, err
	}
	if run.Status != results.StatusComplete {
		why := ""
		if run.Error != "" {
			why = " (" + run.Error + ")"
		}
		fmt.Fprintf(stderr, "%s: run %s is %s%s: what follows shows what it measured before that\n", cmd, run.ID, run.Status, why)
	}
	spectra, level, err := plot.LoadSpectra(dir, scs)
	if err != nil {
		fmt.Fprintf(stderr, "%s: latency spectra: %v\n", cmd, err)
	}
	return plot.Input{Run: run, Scenarios: scs, Spectra: spectra, SpectrumLevel: level}, nil
}
