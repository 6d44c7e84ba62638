package loadgen

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
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
	// URL is the target, "http://HOST:PORT/path". HOST is an IPv4
	// address, an IPv6 literal in brackets ("http://[::1]:8080/") or a
	// host name, resolved once when Run starts (IPv4 preferred), never
	// during the measurement.
	URL string
	// Method is the request method, GET (the default) or HEAD; the answers
	// to HEAD have no body whatever their headers say.
	Method string
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
	// SourceOffset moves the source addresses up: the first is
	// 127.0.0.(1+SourceOffset). Processes sharing one target get disjoint
	// ranges this way (c10k load -procs), so that none competes for
	// another's ephemeral ports.
	SourceOffset int
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
	// IntervalLog keeps each second's histograms at full precision (3
	// digits, like the whole run's), and the service times too in open
	// loop, for Result.WriteIntervalLog: about 140 KiB per loop per second
	// of the window, twice that in open loop. Without it each second keeps
	// only a 2-digit latency histogram, enough for its p99.
	IntervalLog bool
	// Gate, if set, is called once the idle pool and the active
	// connections are open, before the warm-up: the load starts when it
	// returns, and an error stops the run early with it as the reason.
	// Processes sharing one load wait there for each other (loadgen/fleet),
	// so that their windows open together.
	Gate func(ctx context.Context) error `json:"-"`
	// Started, if set, is called as the warm-up begins, after the gate:
	// every connection of the idle pool is open from then until the end of
	// the measured window. A caller whose samples are slow to take (a
	// million sockets to count) samples then, sure to find the pool whole.
	Started func() `json:"-"`
}

// target is the parsed URL: where to connect and what to send.
type target struct {
	addr netip.AddrPort // unset until resolve when name is set
	name string         // a host name to resolve; "" for an IP literal
	port uint16
	host string // Host header
	path string // request target
}

// resolveTimeout bounds the one name lookup of a run.
const resolveTimeout = 5 * time.Second

// resolve looks the target's host name up, once: an IPv4 address if it
// has one (every server in the lab listens on IPv4), else the first
// address. An IP literal needs no lookup.
func (t *target) resolve(ctx context.Context) error {
	if t.name == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", t.name)
	if err != nil {
		return fmt.Errorf("%w %q: %w", ErrResolve, t.name, err)
	}
	if len(ips) == 0 {
		return fmt.Errorf("%w %q: no address", ErrResolve, t.name)
	}
	ip := ips[0]
	for _, a := range ips {
		if a.Unmap().Is4() {
			ip = a
			break
		}
	}
	t.addr = netip.AddrPortFrom(ip.Unmap(), t.port)
	return nil
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
	case o.SourceOffset < 0 || o.SourceOffset+max(o.Sources, 1) > maxSources:
		return fmt.Errorf("%w: source offset %d with %d sources goes past 127.0.0.%d", ErrOptions, o.SourceOffset, o.Sources, maxSources)
	case o.Loops < 0:
		return fmt.Errorf("%w: loops %d is negative", ErrOptions, o.Loops)
	case o.Method != "" && o.Method != "GET" && o.Method != "HEAD":
		return fmt.Errorf("%w: method %q: GET or HEAD", ErrOptions, o.Method)
	case o.DeadAfter < 0:
		return fmt.Errorf("%w: dead-after %v is negative", ErrOptions, o.DeadAfter)
	}
	return nil
}

// method is the request method, GET unless HEAD was asked.
func (o *Options) method() string {
	if o.Method == "" {
		return "GET"
	}
	return o.Method
}

// parseTarget accepts http://HOST[:PORT][/path?query], HOST an IPv4
// address, a bracketed IPv6 literal or a host name. It does not resolve
// the name (see target.resolve): Validate must not touch the network.
func parseTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("%w: %q: %w", ErrURL, raw, err)
	}
	if u.Scheme != "http" {
		return target{}, fmt.Errorf("%w: %q: scheme must be http", ErrURL, raw)
	}
	host := u.Hostname()
	if host == "" {
		return target{}, fmt.Errorf("%w: %q: no host", ErrURL, raw)
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
	t := target{port: uint16(port), host: u.Host, path: path}
	switch ip, err := netip.ParseAddr(host); {
	case host == "localhost":
		// Not looked up: /etc/hosts may list ::1 first, and the lab's
		// servers listen on 127.0.0.1.
		t.addr = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), t.port)
	case err == nil && ip.Zone() != "":
		return target{}, fmt.Errorf("%w: %q: IPv6 zones are not supported", ErrURL, raw)
	case err == nil:
		t.addr = netip.AddrPortFrom(ip.Unmap(), t.port)
	case strings.HasPrefix(u.Host, "["):
		return target{}, fmt.Errorf("%w: %q: bad IPv6 literal", ErrURL, raw)
	default:
		t.name = host
	}
	return t, nil
}
