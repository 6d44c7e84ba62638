package registry

import (
	"errors"
	"fmt"
	"image/color"
	"slices"
	"strings"

	"c10k/harness/results"
	"c10k/models/epoll"
	"c10k/models/goroutine"
	"c10k/models/server"
	"c10k/models/thread"
	"c10k/models/uring"
)

// Marker is the shape a server's points are drawn with. Models get filled
// shapes and peers hollow ones, so the two groups differ in black and
// white too.
type Marker int

// Markers, named after the gonum glyphs the plots draw them with
// (Diamond, filled, is the plots' own: gonum has three filled glyphs).
const (
	Circle Marker = iota
	Box
	Pyramid
	Ring
	Square
	Triangle
	Plus
	Cross
	Diamond
)

// Abilities is what a server can do on a request besides answering it.
// The planner keeps a server out of a scenario that needs an ability it
// lacks, and the report says so once.
type Abilities struct {
	Wait   bool // -wait: simulated backend I/O per request
	Work   bool // -work: CPU burned per request
	Proxy  bool // forwards each request to a real backend over TCP (reverse proxy)
	Fanout bool // makes K backend calls per request at once and answers after all K (gather)
	// Procs: runs as N processes sharing one port, each with its own
	// SO_REUSEPORT listening socket and its own share of the per-process
	// limits (descriptors): c10k serve -procs N, nginx's worker_processes
	// N with reuseport. peers.Peer.Procs and c10k serve -procs refuse N
	// above 1 without it.
	Procs bool
}

// Peer is how a peer is started: the harness renders Template (in the
// scripts directory) and runs Binary on it.
type Peer struct {
	Binary   string
	Template string // file name in the scripts directory
	MPM      string // Apache's multi-processing module; empty for nginx
	// ProxyModules and FanoutModule are the loadable modules the peer
	// needs to proxy and to fan out; a peer missing one loses that
	// ability on this machine (peers.Lookup), and sits out the scenarios
	// that need it with the reason recorded.
	ProxyModules []string
	FanoutModule string
}

// Where Debian and Ubuntu install the peers; the harness uses only these.
const (
	NginxBinary   = "/usr/sbin/nginx"
	ApacheBinary  = "/usr/sbin/apache2"
	ApacheModules = "/usr/lib/apache2/modules"
	NginxModules  = "/usr/lib/nginx/modules"
	// NginxEcho is ngx_http_echo (Debian libnginx-mod-http-echo): its
	// echo_location_async issues parallel subrequests, nginx's only way
	// to make K backend calls for one request and answer after all K.
	NginxEcho = NginxModules + "/ngx_http_echo_module.so"
)

// PreforkMax caps Apache prefork's children (ServerLimit and
// MaxRequestWorkers): at ~230 KiB of PSS and 16 KiB of kernel stack each,
// 2,000 children cost about half a GiB.
const PreforkMax = 2000

// Entry is one server under test.
type Entry struct {
	Name  string
	Kind  string // results.KindModel or results.KindPeer
	About string // one line for the report: what the server is
	// Runtime is how the server's runtime is set up and why, for the
	// report (the Go models' GOMAXPROCS and thread locking); "" for peers,
	// whose configuration is copied into the run instead.
	Runtime string

	// New starts a model in this process (c10k serve); nil for a peer.
	New func(server.Config) (server.Server, error)
	// Peer says how to start a peer; nil for a model.
	Peer *Peer

	Can Abilities
	// Lacks says why an ability the server has in general is missing on
	// this machine (a module not installed); peers.Lookup sets it, the
	// table leaves it empty.
	Lacks string
	// Available says whether the server can run on this machine at all:
	// nil, or why not (io_uring disabled, a kernel too old). The planner
	// sits a server that cannot out of every scenario, with that reason.
	// Nil Available: the server runs wherever Go does.
	Available func() error

	// ThreadsPerConn is the threads (or processes) the server adds per
	// connection it holds: 1 for thread-per-connection and prefork, 0 for
	// event loops. The planner skips levels that would push the machine
	// near pid_max or threads-max.
	ThreadsPerConn float64
	// MaxConns is a cap the server's configuration puts on connections
	// held; 0: none. Idle levels above it are measured just under it.
	MaxConns int
	// SpawnS is the extra seconds per connection the server needs to grow
	// its pool (Apache spawns at most 32 children a second).
	SpawnS float64

	Color  color.RGBA // Okabe-Ito for the built-in servers
	Marker Marker
}

// Dashed reports whether the server's lines are dashed: peers are, our
// models are solid.
func (e Entry) Dashed() bool { return e.Kind == results.KindPeer }

// Servers is every server, in the order of legends, bars and tables: our
// models first, then the peers. The colours are from the Okabe-Ito set,
// distinguishable with the common colour-vision deficiencies; pure red is
// kept for failure marks.
var Servers = []Entry{
	{
		Name: "thread", Kind: results.KindModel,
		About: "one OS thread per connection, blocking read(2)/write(2) (Apache worker's shape)",
		Runtime: "each connection's goroutine locked to its own OS thread; reads hand the P to the scheduler as they block " +
			"(runtime.entersyscallblock), a goroutine parked in the network poller keeps those hand-offs from waking a thread, " +
			"and GOMAXPROCS grows with the threads up to 8 per CPU, so a thread that wakes runs at once instead of waiting on sysmon " +
			"(models/thread/doc.go compares the alternatives, more Ps among them)",
		New: func(c server.Config) (server.Server, error) { return thread.New(c) },
		// -procs N splits the machine's thread limits between the N
		// processes (models/thread/limits.go): it lifts the descriptor
		// limit of one process, not the thread wall.
		Can: Abilities{Wait: true, Work: true, Proxy: true, Fanout: true, Procs: true}, ThreadsPerConn: 1,
		Color: rgb(230, 159, 0), Marker: Circle,
	},
	{
		Name: "goroutine", Kind: results.KindModel,
		About: "one goroutine per connection on Go's net package (the netpoller: epoll under M:N scheduling)",
		Runtime: "GOMAXPROCS unset, so Go sizes it from the CPU affinity: 1 on one server CPU, every CPU in the cpu scenario; " +
			"the netpoller parks a goroutine instead of a thread",
		New:   func(c server.Config) (server.Server, error) { return goroutine.New(c) },
		Can:   Abilities{Wait: true, Work: true, Proxy: true, Fanout: true, Procs: true},
		Color: rgb(0, 114, 178), Marker: Box,
	},
	{
		Name: "epoll", Kind: results.KindModel,
		About: "one event loop on one OS thread, raw epoll (nginx's and Redis's shape)",
		Runtime: "the loop's goroutine is locked to one OS thread (runtime.LockOSThread), so it uses one core whatever GOMAXPROCS is; " +
			"GOMAXPROCS unset, sized from the CPU affinity",
		New:   func(c server.Config) (server.Server, error) { return epoll.New(c) },
		Can:   Abilities{Wait: true, Work: true, Proxy: true, Fanout: true, Procs: true},
		Color: rgb(0, 158, 115), Marker: Pyramid,
	},
	{
		Name: "uring", Kind: results.KindModel,
		About: "one io_uring loop on one OS thread: what came after epoll (multishot accept and receive, batched sends, " +
			"one system call per loop pass, which waits for a batch of completions when many connections are active)",
		Runtime: "the loop's goroutine is locked to one OS thread (runtime.LockOSThread), the ring's only issuer " +
			"(IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN where the kernel has them), so it uses one core whatever GOMAXPROCS is; " +
			"no SQPOLL thread; GOMAXPROCS unset, sized from the CPU affinity",
		New:       func(c server.Config) (server.Server, error) { return uring.New(c) },
		Available: uring.Available,
		// -procs N: each worker process has its own ring and its own
		// SO_REUSEPORT listener.
		Can:   Abilities{Wait: true, Work: true, Proxy: true, Fanout: true, Procs: true},
		Color: rgb(213, 94, 0), Marker: Diamond,
	},
	{
		Name: "nginx", Kind: results.KindPeer,
		About: "nginx, one worker process: an event loop written in C",
		Peer:  &Peer{Binary: NginxBinary, Template: "nginx.conf.tmpl", FanoutModule: NginxEcho},
		// proxy_pass and upstream keepalive are built in; fan-out needs
		// the echo module's parallel subrequests.
		Can:   Abilities{Proxy: true, Fanout: true, Procs: true},
		Color: rgb(204, 121, 167), Marker: Ring,
	},
	{
		Name: "apache-prefork", Kind: results.KindPeer,
		About:          "Apache httpd, prefork MPM: one process per connection",
		Peer:           &Peer{Binary: ApacheBinary, Template: "apache.conf.tmpl", MPM: "prefork", ProxyModules: apacheProxy},
		Can:            Abilities{Proxy: true},
		ThreadsPerConn: 1, MaxConns: PreforkMax, SpawnS: 1.0 / 32,
		Color: rgb(150, 120, 0), Marker: Square,
	},
	{
		Name: "apache-worker", Kind: results.KindPeer,
		About:          "Apache httpd, worker MPM: one thread per connection in a few processes",
		Peer:           &Peer{Binary: ApacheBinary, Template: "apache.conf.tmpl", MPM: "worker", ProxyModules: apacheProxy},
		Can:            Abilities{Proxy: true},
		ThreadsPerConn: 1, SpawnS: 1.0 / (64 * 16),
		Color: rgb(90, 90, 90), Marker: Triangle,
	},
	{
		Name: "apache-event", Kind: results.KindPeer,
		About:  "Apache httpd, event MPM: threads for requests, an event loop for idle keep-alive connections",
		Peer:   &Peer{Binary: ApacheBinary, Template: "apache.conf.tmpl", MPM: "event", ProxyModules: apacheProxy},
		Can:    Abilities{Proxy: true},
		SpawnS: 1.0 / (64 * 32),
		Color:  rgb(86, 180, 233), Marker: Plus,
	},
}

// apacheProxy is what Apache proxies with: mod_proxy and its HTTP
// backend, which keeps a pool of backend connections per child process.
// Apache has no fan-out: a request's handler makes one backend call.
var apacheProxy = []string{ApacheModules + "/mod_proxy.so", ApacheModules + "/mod_proxy_http.so"}

// Names of the servers the report's claims are about. They are entries of
// Servers; a test checks that each is.
const (
	Thread       = "thread"
	Epoll        = "epoll"
	Nginx        = "nginx"
	ApacheWorker = "apache-worker"
)

// Lookup returns the named server.
func Lookup(name string) (Entry, bool) {
	i := slices.IndexFunc(Servers, func(e Entry) bool { return e.Name == name })
	if i < 0 {
		return Entry{}, false
	}
	return Servers[i], true
}

// OfKind returns the servers of one kind, in table order.
func OfKind(kind string) []Entry {
	var out []Entry
	for _, e := range Servers {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// Names returns the names of entries, in their order.
func Names(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out
}

// Rank is a server's place in legends and tables; servers the table does
// not know (from an older run) come after every known one.
func Rank(name string) int {
	if i := slices.IndexFunc(Servers, func(e Entry) bool { return e.Name == name }); i >= 0 {
		return i
	}
	return len(Servers)
}

// Compare orders two server names by Rank, then by name.
func Compare(a, b string) int {
	if ra, rb := Rank(a), Rank(b); ra != rb {
		return ra - rb
	}
	return strings.Compare(a, b)
}

// ErrUnknownModel is returned (wrapped) by Model for a name that is not
// a model in the table.
var ErrUnknownModel = errors.New("unknown model")

// Model returns the named model, or an error that lists the models.
func Model(name string) (Entry, error) {
	e, ok := Lookup(name)
	if !ok || e.Kind != results.KindModel {
		return Entry{}, fmt.Errorf("%w %q: want one of %s", ErrUnknownModel, name, strings.Join(Names(OfKind(results.KindModel)), ", "))
	}
	return e, nil
}

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{R: r, G: g, B: b, A: 255} }
