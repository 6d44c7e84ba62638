package report

import "errors"

// ErrTemplate means the embedded report template failed to parse or to
// execute: a bug in the template or the data model, not in the results.
var ErrTemplate = errors.New("report: template")
