package loadgen

import (
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"time"
)

// Defaults for the tunables, named in one place as wrk does in config.h.
const (
	// DefaultTimeout is how long a request may wait for its answer before
	// it counts as a timeout and its connection is replaced (wrk: 2 s).
	DefaultTimeout = 2 * time.Second
	// DefaultConnectRate bounds how fast the idle pool is opened, in
	// connections per second: fast enough for 10,000 in 5 s, slow enough
	// not to overflow a default accept backlog.
	DefaultConnectRate = 2000
	// DefaultDeadAfter is how long no active connection may be open, with
	// every reconnect failing, before the run stops as "server gone".
	DefaultDeadAfter = time.Second
	// MaxPipeline bounds -pipeline; deeper pipelines only fill socket buffers.
	MaxPipeline = 1024
	// LateThreshold is how far behind its intended time an open-loop request
	// must be sent to count as late.
	LateThreshold = time.Millisecond
	// DefaultSpin is how close the next open-loop request must be due for
	// a loop to poll for it rather than sleep on a timer. Arming a timer,
	// sleeping and waking cost 30 to 40 us of CPU on the KVM guests this
	// lab was built on (timer reprogramming traps to the hypervisor), so
	// below this a loop that polls spends no more than one that sleeps,
	// and it sends on time and reads answers the moment they arrive.
	DefaultSpin = 50 * time.Microsecond
)

// Options configures one run. The zero value of every optional field picks
// its default; Validate reports what cannot work.
type Options struct {
	// URL is the target, "http://HOST:PORT/path"; HOST must be an IPv4
	// address or localhost (the lab is loopback only).
	URL string
	// Connections is the number of active connections (-c).
	Connections int
	// Duration is the measured part of the run (-d), after Warmup.
	Duration time.Duration
	// Warmup runs the load for this long before measuring; nothing that
	// happens during it reaches the statistics.
	Warmup time.Duration
	// Rate, when above zero, makes the run open loop at this many requests
	// per second over all connections (global, not per connection).
	Rate float64
	// Pacer overrides Rate's constant pacing in open loop; Rate must still
	// be set (it sizes the run and is reported).
	Pacer Pacer
	// Pipeline is the number of requests in flight per active connection;
	// 0 means 1.
	Pipeline int
	// Think is the pause, in closed loop, between an answer and the next
	// request on the same pipeline slot.
	Think time.Duration
	// Idle extra connections are opened before the load starts, each makes
	// one request, and then they are held idle until the end.
	Idle int
	// ConnectRate bounds idle connection opening, per second; 0 means
	// DefaultConnectRate.
	ConnectRate float64
	// Timeout bounds each request and each connect; 0 means DefaultTimeout.
	Timeout time.Duration
	// Sources is the number of 127.0.0.x source addresses connections are
	// spread over; 0 picks as many as the ephemeral port range needs.
	Sources int
	// Loops is the number of event loops (each on its own OS thread); 0
	// means one per CPU the process may run on.
	Loops int
	// DeadAfter: when no active connection has been open for this long and
	// reconnects keep failing, the run stops with partial results; 0 means
	// DefaultDeadAfter.
	DeadAfter time.Duration
	// Spin: in open loop, a loop whose next request is due within Spin
	// polls for it instead of sleeping on a timer; 0 means DefaultSpin,
	// a negative value never polls. The loop's CPU time then no longer
	// says how loaded it is; Result.LoopBusy does.
	Spin time.Duration
}

// target is the parsed URL: where to connect and what to send.
type target struct {
	addr netip.AddrPort
	host string // Host header
	path string // request target
}

func (o *Options) pipeline() int {
	if o.Pipeline <= 0 {
		return 1
	}
	return o.Pipeline
}

func (o *Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

func (o *Options) connectRate() float64 {
	if o.ConnectRate <= 0 {
		return DefaultConnectRate
	}
	return o.ConnectRate
}

func (o *Options) deadAfter() time.Duration {
	if o.DeadAfter <= 0 {
		return DefaultDeadAfter
	}
	return o.DeadAfter
}

func (o *Options) spin() time.Duration {
	switch {
	case o.Spin < 0:
		return 0
	case o.Spin == 0:
		return DefaultSpin
	}
	return o.Spin
}

// OpenLoop reports whether the options ask for a constant-rate run.
func (o *Options) OpenLoop() bool { return o.Rate > 0 }

// Validate checks the options without touching the network.
func (o *Options) Validate() error {
	if _, err := parseTarget(o.URL); err != nil {
		return err
	}
	switch {
	case o.Connections < 0:
		return fmt.Errorf("%w: -c %d is negative", ErrOptions, o.Connections)
	case o.Connections == 0 && o.Idle == 0:
		return fmt.Errorf("%w: need at least one connection (-c) or idle connection (-idle)", ErrOptions)
	case o.Duration <= 0:
		return fmt.Errorf("%w: duration %v must be positive", ErrOptions, o.Duration)
	case o.Warmup < 0:
		return fmt.Errorf("%w: warmup %v is negative", ErrOptions, o.Warmup)
	case o.Rate < 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0):
		return fmt.Errorf("%w: rate %v must be a positive number", ErrOptions, o.Rate)
	case o.Rate > 0 && o.Connections == 0:
		return fmt.Errorf("%w: open loop (-rate) needs active connections (-c)", ErrOptions)
	case o.Rate > 0 && o.Think > 0:
		return fmt.Errorf("%w: think time applies to closed loop only; -rate already paces requests", ErrOptions)
	case o.Pipeline < 0 || o.Pipeline > MaxPipeline:
		return fmt.Errorf("%w: pipeline %d out of 1..%d", ErrOptions, o.Pipeline, MaxPipeline)
	case o.Think < 0:
		return fmt.Errorf("%w: think time %v is negative", ErrOptions, o.Think)
	case o.Idle < 0:
		return fmt.Errorf("%w: idle %d is negative", ErrOptions, o.Idle)
	case o.ConnectRate < 0:
		return fmt.Errorf("%w: connect rate %v is negative", ErrOptions, o.ConnectRate)
	case o.Timeout < 0:
		return fmt.Errorf("%w: timeout %v is negative", ErrOptions, o.Timeout)
	case o.Sources < 0 || o.Sources > maxSources:
		return fmt.Errorf("%w: sources %d out of 0..%d", ErrOptions, o.Sources, maxSources)
	case o.Loops < 0:
		return fmt.Errorf("%w: loops %d is negative", ErrOptions, o.Loops)
	case o.DeadAfter < 0:
		return fmt.Errorf("%w: dead-after %v is negative", ErrOptions, o.DeadAfter)
	}
	return nil
}

// parseTarget accepts http://HOST[:PORT][/path?query] with an IPv4 or
// localhost host: name resolution has no place inside a measurement, and
// every server in the lab listens on loopback.
func parseTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("%w: %q: %v", ErrURL, raw, err)
	}
	if u.Scheme != "http" {
		return target{}, fmt.Errorf("%w: %q: scheme must be http", ErrURL, raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Is4() {
		return target{}, fmt.Errorf("%w: %q: host must be an IPv4 address or localhost", ErrURL, raw)
	}
	port := 80
	if p := u.Port(); p != "" {
		port, err = strconv.Atoi(p)
		if err != nil || port <= 0 || port > 65535 {
			return target{}, fmt.Errorf("%w: %q: bad port", ErrURL, raw)
		}
	}
	path := u.RequestURI()
	if path == "" {
		path = "/"
	}
	return target{
		addr: netip.AddrPortFrom(ip, uint16(port)),
		host: u.Host,
		path: path,
	}, nil
}
