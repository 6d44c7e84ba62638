// Package report writes REPORT.md from a results directory: what ran, on
// what machine, the figures, a table of headline numbers per server, where
// each server wins and loses, and the claims of the source essay tested
// one by one against this run's numbers. The scale scenario (idle
// connections toward a million, c10k bench -scale) may come from a second
// run directory ([ScaleRun]); the report then says which run and machine
// each part comes from.
//
// The report's data model ([Data]) is computed in Go from the results
// structs; the text around it is a text/template embedded in the binary.
// Every number in the report comes from the run. Each claim's verdict
// (holds, partly, does not hold, not measured in this run) is decided by
// a small function with its thresholds named as constants, so a reader can
// check why, and tests can pin the logic with made-up inputs.
package report
