package fleet

import (
	"context"
	"fmt"
	"os"
	"time"

	"c10k/hosts"
)

// hostTimeout bounds each step Run takes on a host outside a load
// process: installing the binary, making and removing its directory,
// reading a result back.
const hostTimeout = 2 * time.Minute

// placement is where Config.Hosts put the processes: per host, the
// binary and a directory for the files, made once.
type placement struct {
	hosts []*hosts.Host
	bins  []string // per host: the binary there
	dirs  []string // per host: its files' directory, "" to use the local one
}

// placeOnHosts installs the load binary on every host and makes each a
// directory for the processes' files; with no hosts it places nothing.
// An error names the host that failed.
func placeOnHosts(ctx context.Context, c Config, procs int) (*placement, error) {
	pl := &placement{}
	if len(c.Hosts) == 0 {
		return pl, nil
	}
	exe := c.Argv(c.Options, "", "")[0]
	for i, h := range c.Hosts {
		if i >= procs {
			break
		}
		hctx, cancel := context.WithTimeout(ctx, hostTimeout)
		bin, err := h.Install(hctx, exe)
		dir := ""
		if err == nil && !h.SharesFiles() {
			dir, err = h.MkdirTemp(hctx, dirPrefix+"remote-")
		}
		cancel()
		if err != nil {
			pl.cleanup()
			return nil, fmt.Errorf("fleet: host %s: %w", h, err)
		}
		pl.hosts = append(pl.hosts, h)
		pl.bins = append(pl.bins, bin)
		pl.dirs = append(pl.dirs, dir)
	}
	return pl, nil
}

// host is the host of process i, nil for this machine without an agent.
func (pl *placement) host(i int) *hosts.Host {
	if len(pl.hosts) == 0 {
		return nil
	}
	return pl.hosts[i%len(pl.hosts)]
}

func (pl *placement) bin(i int) string { return pl.bins[i%len(pl.bins)] }

// dir is where process i writes its files: its host's directory, or
// local for a host that shares this machine's files.
func (pl *placement) dir(i int, local string) string {
	if len(pl.hosts) == 0 || pl.dirs[i%len(pl.dirs)] == "" {
		return local
	}
	return pl.dirs[i%len(pl.dirs)]
}

// cleanup removes the hosts' directories.
func (pl *placement) cleanup() {
	for i, d := range pl.dirs {
		if d == "" {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), hostTimeout)
		if err := pl.hosts[i].RemoveAll(ctx, d); err != nil {
			fmt.Fprintf(os.Stderr, "c10k load: %v\n", err)
		}
		cancel()
	}
}

// hostName names h in a result, "" for this machine.
func hostName(h *hosts.Host) string {
	if h == nil {
		return ""
	}
	return h.String()
}
