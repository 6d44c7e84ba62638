package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// help is what a subcommand's -h prints around its flags.
type help struct {
	synopsis string // after "usage: "; may span lines
	about    string // what the command does, its exit status
	examples string // ends the help, as wrk's and vegeta's do
}

// newFlagSet is a subcommand's FlagSet: errors and -h go to stderr, and
// the usage is the synopsis, the description, the flags and the examples.
func newFlagSet(name string, h help, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\n%s\n\nFlags:\n", h.synopsis, h.about)
		fs.PrintDefaults()
		fmt.Fprint(stderr, h.examples)
	}
	return fs
}

// parseFlags parses args. When ok is false the command is over, with
// status 0 after -h and 2 after a bad flag (the flag package has said why).
func parseFlags(fs *flag.FlagSet, args []string) (status int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}
