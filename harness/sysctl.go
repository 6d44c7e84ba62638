package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"c10k/harness/results"
)

// The scale scenario holds two sockets and two descriptors per connection
// on one machine, a million of each; the kernel's defaults are sized for
// far fewer. tuneKernel raises what a run needs, records what it found and
// what it set in run.json, and the run puts it back at the end. The values
// found are also written into the scratch directory, so that a harness
// killed with SIGKILL is undone by the next run (removeStaleScratch).

// sysctlFile keeps the values found, in the scratch directory.
const sysctlFile = "sysctls.json"

// kernelNeed is one setting: its /proc/sys path, and what it should become
// given its current value ("" when it is fine as it is).
type kernelNeed struct {
	name string // dotted, as sysctl(8) names it
	want func(cur string, env results.Env) string
}

// scaleNeeds are the settings a scale run checks; the recorded ones that
// it leaves alone say why in their Note.
var scaleNeeds = []kernelNeed{
	// Every connection is two descriptors on this machine: at 1M, 2M open
	// files, beside everything else.
	{"fs.file-max", atLeast(4 << 20)},
	// TCP's memory limits, in pages: idle sockets hold little, but 2M of
	// them must not push TCP into memory pressure, where it starts
	// refusing buffers. Pressure at a quarter of RAM, the cap at a half.
	{"net.ipv4.tcp_mem", func(cur string, env results.Env) string {
		f := strings.Fields(cur)
		if len(f) != 3 || env.MemTotal == 0 {
			return ""
		}
		pages := env.MemTotal / uint64(os.Getpagesize())
		lo, _ := strconv.ParseUint(f[0], 10, 64)
		pr, _ := strconv.ParseUint(f[1], 10, 64)
		hi, _ := strconv.ParseUint(f[2], 10, 64)
		if pr >= pages/4 && hi >= pages/2 {
			return ""
		}
		return fmt.Sprintf("%d %d %d", lo, max(pr, pages/4), max(hi, pages/2))
	}},
	// Connections arrive at tens of thousands a second, spread over the
	// server's processes: deep accept and SYN queues absorb a burst while
	// a process is descheduled, where the defaults drop SYNs and leave the
	// client to retransmit a second later. Servers read somaxconn when
	// they start, after this.
	{"net.core.somaxconn", atLeast(65535)},
	{"net.ipv4.tcp_max_syn_backlog", atLeast(65535)},
	// Recorded, not changed: the load generator spreads its connections
	// over 127.0.0.x source addresses, so the ports of one address are not
	// a limit, and conntrack tracks nothing unless a firewall asks it to.
	{"net.ipv4.ip_local_port_range", keep},
	{"net.netfilter.nf_conntrack_max", keep},
}

func keep(string, results.Env) string { return "" }

// atLeast raises a single number to n.
func atLeast(n uint64) func(string, results.Env) string {
	return func(cur string, _ results.Env) string {
		v, err := strconv.ParseUint(strings.TrimSpace(cur), 10, 64)
		if err != nil || v >= n {
			return ""
		}
		return strconv.FormatUint(n, 10)
	}
}

func sysctlPath(name string) string {
	return filepath.Join("/proc/sys", strings.ReplaceAll(name, ".", "/"))
}

func readSysctl(name string) (string, error) {
	b, err := os.ReadFile(sysctlPath(name))
	if err != nil {
		return "", err
	}
	return strings.Join(strings.Fields(string(b)), " "), nil
}

// tuneKernel applies needs and returns what it found and did, for run.json;
// a setting it could not change is recorded with the error, and the run
// goes on (its levels then meet the limit, and say so).
func tuneKernel(needs []kernelNeed, env results.Env, scratch string) []results.Sysctl {
	var out []results.Sysctl
	for _, n := range needs {
		cur, err := readSysctl(n.name)
		if err != nil {
			continue // not on this kernel (no netfilter): nothing to record
		}
		s := results.Sysctl{Name: n.name, Was: cur}
		if want := n.want(cur, env); want != "" {
			if err := os.WriteFile(sysctlPath(n.name), []byte(want), 0o644); err != nil {
				s.Note = "could not raise to " + want + ": " + err.Error()
			} else {
				s.Set = want
			}
		}
		out = append(out, s)
	}
	if b, err := json.Marshal(out); err == nil && scratch != "" {
		_ = os.WriteFile(filepath.Join(scratch, sysctlFile), b, 0o644)
	}
	return out
}

// restoreKernel puts back every setting tuneKernel changed.
func restoreKernel(set []results.Sysctl) error {
	var errs []error
	for _, s := range set {
		if s.Set == "" {
			continue
		}
		if err := os.WriteFile(sysctlPath(s.Name), []byte(s.Was), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("harness: restoring %s to %q: %w", s.Name, s.Was, err))
		}
	}
	return errors.Join(errs...)
}

// restoreFromScratch undoes the settings a dead harness left changed.
func restoreFromScratch(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, sysctlFile))
	if err != nil {
		return
	}
	var set []results.Sysctl
	if json.Unmarshal(b, &set) == nil {
		_ = restoreKernel(set)
	}
}
