// Package scenario defines the benchmark grids (which scenarios, at which
// levels, for how long) and turns a grid, a list of servers and the
// machine's limits into a plan: every level run in order, with the levels
// that cannot run skipped and the reason recorded, and a wall-time
// estimate for the progress line.
//
// The scenarios are those of DESIGN.md: idle (N idle keep-alive
// connections beside a small open-loop probe), concurrency (closed loop at
// C connections), rate (open loop at a fixed offered rate), wait (closed
// loop, 10 ms of simulated backend I/O per request) and cpu (closed loop,
// 100 us of CPU per request).
package scenario
