// Package plot draws the c10k figures from a results directory: one
// function per figure, each fed from the results structs (never from files
// read inside the drawing code), each returning a [Figure] that is saved as
// a PNG for the report and an SVG beside it.
//
// Every server keeps one colour and one marker in every figure ([StyleOf]);
// our models are drawn with solid lines and the peers (nginx, Apache)
// with dashed ones. Axes switch to a log scale when the data spans more than
// a decade or so, because connection counts, thread counts and latencies
// do. A level where a server failed is marked with a red cross and the
// reason, since a model that dies is a result, not a gap.
//
// The one input that is not in the JSON results is the latency spectrum:
// HdrHistogram percentile files (.hgrm) beside them. [ParseHgrm] reads that
// text format and [LoadSpectra] turns a run's files into [Spectrum] values
// for the [SpectrumFigure] function, so the drawing code still only sees
// parsed data.
//
// The package is named after its directory; it imports gonum's plot
// package as gonum.
package plot
