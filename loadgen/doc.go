// Package loadgen is the c10k lab's HTTP/1.1 load generator, as a library:
// it knows nothing of flags (the `c10k load` command is its command line).
//
// # Models
//
// Closed loop (the default): each active connection sends its next request
// when the answer to the previous one arrives, optionally after a think
// time, with Pipeline requests in flight. This is how wrk measures, and it
// under-reports stalls: while the server is stuck, the generator stops
// asking, so the stall is one slow request per connection instead of every
// request a real user would have sent meanwhile (coordinated omission).
//
// Open loop (Rate > 0): requests are due on a fixed schedule (a Pacer,
// evenly spaced at the global Rate by default) whatever the server does.
// Each request is timed from its intended send time, like wrk2; when every
// connection is busy the due requests queue and are sent as soon as a slot
// frees, and the queueing is charged to their latency and counted as
// lateness, never skipped. The service time from the actual send is
// reported beside it (Result.Uncorrected).
//
// The idle pool holds Idle extra keep-alive connections, opened at a
// bounded rate before the load, each proven alive by one request; the
// result counts how many are still open at the end.
//
// # Engine
//
// Connections are driven by event loops from c10k/internal/eventloop, the
// poller the epoll server model uses too: one loop per CPU the process may
// run on (its affinity mask), each on its own OS thread with its share of
// the connections and of the schedule, and its own histograms, so nothing
// on the hot path is shared or locked; the loops' figures are merged at
// the end. A request is a prebuilt byte string, written with its pipeline
// neighbours in one write(2); answers are framed in place, in whatever
// HTTP/1.1 framing the server chose, by a wire.ResponseReader per
// connection, which keeps no body bytes. Latency goes into HdrHistograms (1 us to 60 s, 3
// significant digits).
//
// The open-loop schedule is kept with nanosecond precision: a loop whose
// next request is far off sleeps on a timerfd; one whose next request is
// due within Spin polls for it instead, since a sleep costs more than the
// wait (DefaultSpin). Each loop accounts the time it spends waiting, and
// Result.LoopBusy reports the busiest loop's working share of the window:
// the generator's own saturation, which its CPU time no longer shows once
// it polls.
//
// # Limits
//
// Run raises RLIMIT_NOFILE to its hard limit and, if connections still do
// not fit, caps the idle pool first and says so in Result.Message. Beyond
// half the ephemeral port range, connections are spread over 127.0.0.x
// source addresses with IP_BIND_ADDRESS_NO_PORT.
//
// # Interval logs and several processes
//
// With Options.IntervalLog each second of the window keeps full-precision
// histograms, and Result.WriteIntervalLog writes them as an HdrHistogram
// interval log (HistogramLogWriter's format), readable by HdrHistogram's
// own tools. ReadResult reads a result's JSON and log back, and Merge
// combines the results of runs made side by side against one target:
// counts summed, histograms and intervals merged. Running the processes is
// loadgen/fleet's job; this package stays one process.
//
// # Failures
//
// Nothing the server does is fatal. Failures are counted by kind (connect,
// read, write, timeout, status, parse), one count per request lost; broken
// connections are replaced. When no connection can be kept open for
// DeadAfter, the server is considered gone (or, when connects fail with
// EADDRNOTAVAIL, the local ports exhausted) and Run returns what it
// measured with Complete false and a Message.
package loadgen
