package report

import (
	"fmt"

	"c10k/harness/registry"
	"c10k/harness/results"
)

// Claim 5. One event loop uses one core.

// coreInput is what claim 5 is judged on.
type coreInput struct {
	Have       bool
	Level      int
	WorkUS     float64
	ServerCPUs int
	EpollRPS   float64
	Best       float64 // the best other model's req/s at Level
	BestName   string
}

// judgeOneCore: the loop at or below the one-core ceiling (1/work, times
// oneCoreHigh for noise) is consistent with the claim. With several
// server CPUs, another model at multiCore times the loop shows the loop
// held back by its one core: holds. With one server CPU every model shares
// one core, so the run cannot show the difference: partly.
func judgeOneCore(in coreInput) (Verdict, string) {
	if !in.Have || in.WorkUS <= 0 {
		return NotMeasured, "the cpu scenario did not run for the event loop."
	}
	ceiling := 1e6 / in.WorkUS
	frac := in.EpollRPS / ceiling
	s := fmt.Sprintf("with %s of CPU per request the event loop served %s, %s of one core's ceiling (%s)",
		fmtLatency(in.WorkUS), fmtRate(in.EpollRPS), fmtPercent(frac), fmtRate(ceiling))
	if frac > oneCoreHigh {
		return DoesNotHold, capitalize(s) + ": more than one core's worth, so the loop is not confined to one core as measured."
	}
	other := ""
	if in.BestName != "" {
		other = fmt.Sprintf("; the best other model, %s, served %s", in.BestName, fmtRate(in.Best))
	}
	switch {
	case in.ServerCPUs <= 1:
		return Partly, capitalize(s) + other + ". The server was pinned to one CPU, so every model shared the one-core ceiling: consistent with the claim, but this run cannot show a threaded server using a second core."
	case in.BestName != "" && in.Best >= multiCore*in.EpollRPS:
		return Holds, capitalize(s) + other + fmt.Sprintf(", using the other %d CPUs the loop could not.", in.ServerCPUs-1)
	}
	return Partly, capitalize(s) + other + fmt.Sprintf(": with %d server CPUs no model got far past the loop, so the single core did not cost it much here.", in.ServerCPUs)
}

func oneCoreClaim(v view) Claim {
	c := Claim{
		Title: "One event loop uses one core",
		Claim: "One loop is one thread, so it can use only one CPU core: CPU-heavy work caps it at what one core can do.",
	}
	in := coreInput{WorkUS: v.run.ScenarioConfig("cpu").WorkUS, ServerCPUs: v.run.ServerCPUCountOf("cpu")}
	if sc, ok := v.get("cpu", registry.Epoll); ok {
		if in.WorkUS <= 0 {
			in.WorkUS = sc.Config.WorkUS
		}
		if l, ok := results.MaxLevel(sc, results.HasRPS, func(l results.Level) float64 { return l.Summary.RPS.Median }); ok {
			in.Have, in.Level, in.EpollRPS = true, l.Level, l.Summary.RPS.Median
		}
	}
	for _, s := range v.servers() {
		if s.Server == registry.Epoll || s.Kind != results.KindModel {
			continue
		}
		if sc, ok := v.get("cpu", s.Server); ok {
			if l, ok := results.MaxLevel(sc, results.HasRPS, func(l results.Level) float64 { return l.Summary.RPS.Median }); ok && l.Summary.RPS.Median > in.Best {
				in.Best, in.BestName = l.Summary.RPS.Median, s.Server
			}
		}
	}
	c.Verdict, c.Because = judgeOneCore(in)
	if in.Have {
		c.Evidence = append(c.Evidence, fmt.Sprintf("In the cpu scenario the server was pinned to CPU list %q (%d CPUs), the load generator's CPU included; the figures are each model's peak over the scenario's levels.",
			v.run.ServerCPUList("cpu"), in.ServerCPUs),
			"The Go models run with GOMAXPROCS sized from the CPUs they are pinned to; the event loop locks its goroutine to one OS thread whatever GOMAXPROCS is.")
	}
	return c
}
