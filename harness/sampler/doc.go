// Package sampler reads a server's process tree and the machine from /proc
// every period (250 ms by default) while a level runs, and on demand.
//
// The per-process and machine-wide readings come from harness/procfs. This
// package adds three readings the harness needs to judge a level, each from
// the kernel rather than from the server or the load generator:
//
//   - connections held: ESTABLISHED TCP sockets on the server's address
//     (127.0.0.1:port), asked of the kernel through sock_diag (netlink;
//     /proc/net/tcp where that is missing), split into accepted (a file is
//     attached: the server called accept) and queued (still in the accept
//     backlog). Per-connection costs divide by the accepted count, and a
//     server that drops idle connections shows up here whatever the load
//     generator believes.
//   - machine busy and steal CPU time, from /proc/stat, so that CPU used by
//     anything other than the server and the load generator (the noise on a
//     shared box) is measured, not guessed.
//   - the load generator's own CPU, to tell a server-bound level from a
//     client-bound one.
//
// Background sampling never takes more than a quarter of a CPU: a sample
// that took d (walking 2,000 Apache prefork children takes a good part of a
// period) is followed by the next no sooner than 4d later.
//
// Context switches are summed over every thread only while the tree has
// few threads (allThreadsMax); a thread-per-connection server with
// thousands of threads gets the per-thread walk once a second instead of on
// every tick, because reading 10,000 status files four times a second would
// cost the harness a good part of a CPU and disturb what it measures.
package sampler
