// Package registry is the one table of the servers under test: our models
// and the peers (nginx and Apache httpd) that run beside them.
//
// An entry says everything the rest of the program needs to know about a
// server: its name and kind, how it is started (a constructor for a model,
// a binary and a configuration template for a peer), what it can do (wait,
// work, proxy, fan out), whether it can run on this machine at all (a
// model on io_uring needs the kernel to allow it), what it costs the
// machine per connection for the planner, its place, colour and marker in
// the figures, and the line that describes it in the report. `c10k
// serve`, the planner, the plots and the report read this table; nothing
// else lists server names.
//
// Adding a model is one entry here, its package under models/, and its
// conformance test file there (models/NAME/NAME_test.go calling
// modeltest.Run). The bench, the figures and the report pick it up.
package registry
