package main

import (
	"io"
	"os"

	"c10k/hosts/agent"
)

func init() {
	commands["agent"] = command{
		summary: "run one process on this host for a harness on another (started by c10k bench, not by hand)",
		run: func(args []string, stdout, _ io.Writer) int {
			return agent.Main(args, os.Stdin, stdout, os.Stderr)
		},
	}
}
