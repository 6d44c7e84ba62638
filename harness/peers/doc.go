// Package peers runs the real nginx and Apache httpd beside our models, as
// reference rows in the same scenarios. The registry lists them and how
// each starts; this package detects which are installed,
// renders their configurations from the templates in scripts/
// (nginx.conf.tmpl, apache.conf.tmpl) into a per-level directory, and
// returns the command line that runs each in the foreground, so the harness
// can start, pin, sample and stop a peer exactly as it does a model.
//
// Apache is offered once per multi-processing module: apache-prefork (a
// process per connection, capped at registry.PreforkMax so it cannot exhaust
// memory), apache-worker (a thread per connection) and apache-event
// (threads for active requests, idle keep-alive connections parked in a
// listener thread). Each is the same binary with a different LoadModule.
package peers
