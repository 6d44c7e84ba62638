package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"c10k/harness/report"
	"c10k/harness/results"
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
`

var reportHelp = help{
	synopsis: "c10k report -in DIR [-out FILE]",
	about: "Writes the Markdown report of a run from its results, without running anything:\n" +
		"what ran, on what machine, the figures (drawn by 'c10k plot' into DIR/plots),\n" +
		"headline numbers, and the essay's claims tested against this run's numbers.",
	examples: reportExamples,
}

func runReport(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("c10k report", reportHelp, stderr)
	in := fs.String("in", "", "results `DIR` of one run (run.json and the scenario files)")
	out := fs.String("out", "REPORT.md", "report `FILE` to write (- for stdout); figure links are relative to it")
	if status, ok := parseFlags(fs, args); !ok {
		return status
	}
	if *in == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "c10k report: -in DIR is required, -out may not be empty, and nothing else may follow the flags")
		fs.Usage()
		return 2
	}
	if st, err := os.Stat(*in); err != nil {
		fmt.Fprintf(stderr, "c10k report: results directory: %v\n", err)
		return 1
	} else if !st.IsDir() {
		fmt.Fprintf(stderr, "c10k report: results directory: %s is not a directory\n", *in)
		return 1
	}
	run, scs, err := results.Load(*in)
	if err != nil {
		fmt.Fprintf(stderr, "c10k report: %v\n", err)
		return 1
	}
	outPath := *out
	if outPath == "-" {
		outPath = "REPORT.md" // links relative to the current directory
	}
	d, err := report.Build(run, scs, *in, outPath)
	if err != nil {
		fmt.Fprintf(stderr, "c10k report: %v\n", err)
		return 1
	}
	if !d.Plotted {
		fmt.Fprintf(stderr, "c10k report: no figures in %s/plots yet: run '%s' first for a report with figures\n", *in, d.PlotCmd)
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
