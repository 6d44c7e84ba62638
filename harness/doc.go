// Package harness runs the benchmark: for every scenario, server and level
// of a plan it starts a fresh server process pinned to the server CPUs,
// samples its process tree and the machine from /proc, runs the load
// generator as another process pinned to the other CPUs, and writes what
// it measured, or why it could not, into a results directory (see
// harness/results for the schema).
//
// It measures only from the outside, the same way for our models and
// for nginx and Apache: processes, /proc and the kernel's socket table,
// never a server's own report (connections are counted with sock_diag). Nothing is run in-process; the server and
// the load generator are both children of the same c10k binary (or the
// peer's binary), each the leader of its own process group.
//
// # One level
//
//  1. Start the server (a fresh process for every level and repeat, so no
//     memory high-water mark carries over) and wait until it is ready: its
//     "listening on HOST:PORT" line for our models, an accepted TCP
//     connection for the peers.
//  2. Sample every 250 ms from then on. After a short settle, take the
//     baseline sample: the server with no connection.
//  3. Run `c10k load` with -json and -hgrm. It opens the idle pool (idle
//     scenario), warms up, then measures for the level's duration.
//  4. When the load generator exits, place its measured window on the
//     sampler's clock from its own report (idle_open_s, warmup_s,
//     duration_s). The point sample is the sample nearest the middle of the
//     window: every connection of the level is open then. CPU and context
//     switches are differences between the samples that bracket the window.
//  5. Stop the server (SIGTERM to its group, SIGKILL after a grace period).
//
// Per-connection costs are (point - baseline) / connections the kernel says
// the server had accepted at the point. Machine-wide deltas (KernelStack,
// PageTables, Slab, TCP memory) include the load generator's side of every
// socket and anything else that ran on the box; noisy windows are flagged.
//
// # Failures are data
//
// A server that never becomes ready, exits during a level, refuses every
// connection, or a level that overruns its time budget is recorded as a
// results.Failure with the last lines of the server's stderr, and the run
// goes on with the next level. Ctrl-C (or SIGTERM) stops the level in
// progress, keeps what it measured, writes every file, marks the run
// incomplete and leaves no child process behind.
package harness
