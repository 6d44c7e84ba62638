// Package server holds what the models share besides the wire: their
// configuration (Config), the interface the command line drives them
// through (Server), the listening socket they all open the same way
// (Listen, with SO_REUSEPORT when several processes share a port, and
// Reserve, which picks that port once), the CPU burner behind -work (Burn), a grow-and-shrink read
// buffer for the blocking models (InBuf) and a rate-limited logger
// (RateLog). Nothing here knows a concurrency model: a model imports this
// package and models/wire, and nothing in models imports the harness.
package server
