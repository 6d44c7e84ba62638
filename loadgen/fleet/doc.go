// Package fleet runs one load as several load processes side by side and
// merges what they measured: c10k load -procs N.
//
// One process may hold only RLIMIT_NOFILE descriptors (20,000 on the lab's
// machine), so past that a load needs more processes, each with a limit of
// its own, as the projects that opened a million connections used many
// client machines. Split shares the run out (connections, idle pool, rate,
// connect rate, event loops and 127.0.0.x source addresses, so that no two
// processes compete for one address's ephemeral ports); Run starts the
// processes, here c10k load itself re-executed, each writing its result as
// JSON and its latency as an HdrHistogram interval log into a private
// temporary directory that Run removes. The processes open their
// connections, say so (Gate) and start their loads together, so that
// their measured windows coincide; loadgen.Merge then adds the counts up
// and merges the histograms, the interval logs second by second.
//
// The processes inherit the caller's CPU affinity, so `taskset -c 1 c10k
// load -procs 4` runs all four on CPU 1. They get SIGKILL if the caller
// dies (Pdeathsig) and SIGTERM when its context is cancelled (c10k load
// forwards SIGINT and SIGTERM that way), then write their partial results.
// A process that fails is reported with its exit and the end of its
// output, and the merged result is marked incomplete, never silently
// short.
//
// The package loadgen itself stays one process: it knows nothing of this
// one.
package fleet
