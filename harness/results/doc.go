// Package results is the schema of a benchmark run on disk: the Go structs
// here are the schema, written as JSON by the harness and read back by the
// plots and the report. results/README.md explains the fields and units.
// The load generator's part of a measurement is loadgen.Result itself, as
// `c10k load -json` writes it: the contract between the two programs is
// one type.
//
// A run is a directory: run.json (a Run: environment, config, status) and
// one file per scenario and server (a Scenario), plus CSV and .hgrm files
// beside them. Every file is written atomically (temporary file, then
// rename), so a reader never sees half a file, even after Ctrl-C.
package results
