package harness

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"c10k/harness/scenario"
)

// progress prints the live line: scenario, server, level, elapsed, ETA. On
// a terminal it is one line rewritten every second; otherwise one line per
// level, so a log stays readable.
type progress struct {
	w        io.Writer
	terminal bool
	plan     scenario.Plan
	start    time.Time

	mu        sync.Mutex
	line      string
	levelAt   time.Time
	estDone   float64 // estimated seconds of the steps finished
	stop      chan struct{}
	tickerRun bool
}

func newProgress(w io.Writer, terminal bool, plan scenario.Plan) *progress {
	return &progress{w: w, terminal: terminal, plan: plan, start: time.Now(), stop: make(chan struct{})}
}

// eta scales the plan's remaining estimate by how the estimate has fared
// so far.
func (p *progress) eta(i int) time.Duration {
	var rest float64
	for _, st := range p.plan.Steps[i:] {
		rest += st.EstimateS
	}
	elapsed := time.Since(p.start).Seconds()
	if p.estDone > 0 && elapsed > 0 {
		rest *= elapsed / p.estDone
	}
	return time.Duration(rest * float64(time.Second))
}

func (p *progress) begin(i int, st scenario.Step) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.levelAt = time.Now()
	rep := ""
	if st.Repeat > 0 || stepsRepeat(p.plan) {
		rep = fmt.Sprintf(" r%d", st.Repeat+1)
	}
	p.line = fmt.Sprintf("[%d/%d] %s %s %d%s", i+1, len(p.plan.Steps), st.Scenario.Name, st.Server.Name, st.Level, rep)
	eta := p.eta(i)
	if !p.terminal {
		fmt.Fprintf(p.w, "%s  elapsed %s  ETA %s\n", p.line, round(time.Since(p.start)), round(eta))
		return
	}
	p.render(eta)
	if !p.tickerRun {
		p.tickerRun = true
		go p.tick()
	}
}

func stepsRepeat(pl scenario.Plan) bool {
	for _, st := range pl.Steps {
		if st.Repeat > 0 {
			return true
		}
	}
	return false
}

func (p *progress) tick() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.render(-1)
			p.mu.Unlock()
		}
	}
}

// render rewrites the terminal line; eta < 0 keeps counting down the last
// one. Called with mu held.
func (p *progress) render(eta time.Duration) {
	level := time.Since(p.levelAt)
	s := fmt.Sprintf("\r%s  level %s  elapsed %s", p.line, round(level), round(time.Since(p.start)))
	if eta >= 0 {
		s += "  ETA " + round(eta).String()
	}
	fmt.Fprint(p.w, s+"\x1b[K")
}

func (p *progress) end(i int, st scenario.Step, r levelResult) {
	p.mu.Lock()
	p.estDone += st.EstimateS
	p.mu.Unlock()
	if p.w == nil {
		return
	}
	var msg string
	switch {
	case r.failure != nil:
		msg = fmt.Sprintf("FAILED (%s): %s", r.failure.Kind, r.failure.Reason)
	case r.m != nil && len(r.m.Notes) > 0:
		msg = "note: " + strings.Join(r.m.Notes, "; ")
	}
	if msg == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, "  %s %s %d: %s\n", st.Scenario.Name, st.Server.Name, st.Level, msg)
}

func (p *progress) warn(s string) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "warning: %s\n", s)
}

func (p *progress) done() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	if p.terminal {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, "done in %s\n", round(time.Since(p.start)))
}

func round(d time.Duration) time.Duration { return d.Round(time.Second) }
