// Package plottest holds a small, fixed, synthetic results run for the
// tests of the plots, the report and their commands: every scenario, every
// server, repeats with spread, failures, skipped levels and HdrHistogram
// files, with figures shaped like the reference measurements but made up.
// Nothing outside tests should import it.
package plottest
