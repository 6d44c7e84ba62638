package plot

import "errors"

// Sentinel errors of the plot package.
var (
	// ErrNoData means a figure has nothing to draw: its scenario did not
	// run, or every value it needs is missing. Callers skip the figure.
	ErrNoData = errors.New("plot: no data for this figure")
	// ErrBadHgrm means an .hgrm file is not HdrHistogram's percentile
	// distribution text format.
	ErrBadHgrm = errors.New("plot: malformed hgrm percentile file")
)
