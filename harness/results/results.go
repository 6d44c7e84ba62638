package results

import (
	"strings"
	"time"

	"c10k/loadgen"
)

// Run statuses, as recorded in run.json.
const (
	StatusRunning    = "running"    // the harness is (or was, if it died) still writing
	StatusComplete   = "complete"   // every planned level ran or was recorded as skipped/failed
	StatusIncomplete = "incomplete" // interrupted (Ctrl-C, SIGTERM): what exists is valid but partial
	// StatusInterrupted is never written: Load reports it for a run.json
	// that says running while the harness that wrote it is gone (SIGKILL,
	// an OOM kill, a power cut). What exists is valid but partial.
	StatusInterrupted = "interrupted"
)

// Kinds of server.
const (
	KindModel = "model" // one of our models (harness/registry)
	KindPeer  = "peer"  // nginx or Apache, a reference beside them
)

// Run is run.json: what ran, where, and whether it finished.
type Run struct {
	ID        string    `json:"id"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
	Status    string    `json:"status"`
	Version   string    `json:"version"`    // c10k version (git describe)
	GitCommit string    `json:"git_commit"` // commit of the code that ran
	Env       Env       `json:"env"`
	Config    Config    `json:"config"`
	Warnings  []string  `json:"warnings,omitempty"` // limits that capped the grid, noisy conditions
	Skipped   []Skip    `json:"skipped,omitempty"`  // planned levels not run, and why
	Files     []string  `json:"files"`              // scenario files in this directory
	WallTimeS float64   `json:"wall_time_s"`        // harness wall time so far
	// Added fields (the schema only grows).
	Peers     map[string]string `json:"peers,omitempty"`    // peer server name -> version string, for peers that ran
	Planned   int               `json:"planned_levels"`     // level runs (level x repeat x server) in the plan
	Done      int               `json:"done_levels"`        // level runs finished (measured or failed)
	Failures  int               `json:"failures"`           // failures recorded over all scenario files
	Error     string            `json:"error,omitempty"`    // why the run stopped early, if it did
	EstimateS float64           `json:"estimate_s"`         // the plan's wall-time estimate, for comparing with WallTimeS
	Notes     []string          `json:"notes,omitempty"`    // how to read this run (measurement method caveats)
	SitOuts   []SitOut          `json:"sit_outs,omitempty"` // servers left out of whole scenarios they cannot run
	// Sysctls are the kernel settings the run checked, changed for its
	// duration and put back (the scale scenario).
	Sysctls []Sysctl `json:"sysctls,omitempty"`
	// The harness process that writes the run, to tell a run in progress
	// from one whose harness died without finishing it.
	HarnessPID   int    `json:"harness_pid,omitempty"`
	HarnessStart uint64 `json:"harness_start_ticks,omitempty"` // its start time, clock ticks after boot (/proc/PID/stat)
	// Hosts are the machines of a run whose server or load ran elsewhere
	// than on the harness's machine (c10k bench -server-host, -load-hosts);
	// absent when everything ran here.
	Hosts []Host `json:"hosts,omitempty"`
}

// Host is one machine a run used, as the harness found it when the run
// began.
type Host struct {
	Spec string `json:"spec"`           // as given: local, netns:NAME, ssh://user@host:port
	Role string `json:"role"`           // HostServer or HostLoad
	Addr string `json:"addr,omitempty"` // the IPv4 address the other hosts reach it at
	Env  *Env   `json:"env,omitempty"`  // its description, read there
	// ClockOffsetMS is the host's clock minus the harness's, measured
	// NTP-style over the channel; it is good to half ClockRTTMS. Sample
	// times of a server on the host are shifted by it.
	ClockOffsetMS float64 `json:"clock_offset_ms"`
	ClockRTTMS    float64 `json:"clock_rtt_ms"`
	// Error says why the host could not be used; every level then fails.
	Error string `json:"error,omitempty"`
}

// Where says where a run's servers ran and its load came from, for the
// figures and the report: "" when both were on the harness's machine.
func (r Run) Where() string {
	c := r.Config
	if (c.ServerHost == "" || c.ServerHost == "local") && len(c.LoadHosts) == 0 {
		return ""
	}
	server := c.ServerHost
	if server == "" {
		server = "local"
	}
	for _, h := range r.Hosts {
		if h.Role == HostServer && h.Addr != "" && h.Addr != "127.0.0.1" {
			server += " (" + h.Addr + ")"
			break
		}
	}
	load := "this machine"
	if len(c.LoadHosts) > 0 {
		load = strings.Join(c.LoadHosts, ", ")
	}
	return "server on " + server + ", load from " + load
}

// Roles of a host.
const (
	HostServer = "server"
	HostLoad   = "load"
)

// Config is how the run was asked for.
type Config struct {
	Full       bool             `json:"full"`
	Repeats    int              `json:"repeats"`
	Scenarios  []ScenarioConfig `json:"scenarios"`
	Servers    []string         `json:"servers"`     // e.g. thread, goroutine, epoll, nginx, apache-event
	ServerCPUs string           `json:"server_cpus"` // CPU list the server is pinned to, e.g. "0"
	LoadCPUs   string           `json:"load_cpus"`   // CPU list the load generator is pinned to, e.g. "1"
	BodyBytes  int              `json:"body_bytes"`
	Grid       string           `json:"grid"`      // quick, full or smoke
	SampleMS   int              `json:"sample_ms"` // sampler period, milliseconds
	Binary     string           `json:"binary"`    // the c10k executable that ran servers and load
	// Added fields.
	BackendCPUs string `json:"backend_cpus,omitempty"` // CPU list the proxy scenarios' backend is pinned to
	// ServerHost and LoadHosts are where servers ran and load came from;
	// empty: this machine (see Run.Hosts).
	ServerHost string   `json:"server_host,omitempty"`
	LoadHosts  []string `json:"load_hosts,omitempty"`
}

// ScenarioConfig is one scenario's grid.
type ScenarioConfig struct {
	Name      string  `json:"name"`       // idle, concurrency, rate, wait, cpu
	LevelName string  `json:"level_name"` // what Level means: "idle connections", "concurrency", "offered rate (req/s)"
	Levels    []int   `json:"levels"`
	DurationS float64 `json:"duration_s"` // measured seconds per level, warm-up excluded
	WarmupS   float64 `json:"warmup_s"`
	WaitMS    float64 `json:"wait_ms,omitempty"` // simulated backend I/O per request (wait scenario)
	WorkUS    float64 `json:"work_us,omitempty"` // CPU burned per request (cpu scenario)
	ProbeConc int     `json:"probe_concurrency,omitempty"`
	ProbeRate int     `json:"probe_rate,omitempty"` // idle scenario: open-loop rate of the active probe
	// Added fields.
	Description string `json:"description"`            // one line: what the scenario shows
	OpenLoop    bool   `json:"open_loop"`              // levels are offered rates (rate), or the probe is open loop (idle)
	Connections int    `json:"connections,omitempty"`  // rate scenario: active connections carrying the offered rate
	ConnectRate int    `json:"connect_rate,omitempty"` // idle scenario: idle connections opened per second
	// ServerAllCPUs gives the server every CPU the harness may use, the
	// load generator's included (the cpu scenario: its load is light, and
	// a threaded server can then show what a second core buys it).
	// ServerCPUs is the CPU list the server ran on when it is not the
	// run's Config.ServerCPUs.
	ServerAllCPUs bool   `json:"server_all_cpus,omitempty"`
	ServerCPUs    string `json:"server_cpus,omitempty"`
	// BackendWaitMS > 0 puts a real backend behind the server: the harness
	// starts `c10k serve -model epoll -wait BackendWaitMS` for each level
	// and the server proxies every request to it (proxy, gather).
	BackendWaitMS float64 `json:"backend_wait_ms,omitempty"`
	// Fanout is the backend calls per request (K) when the levels are
	// concurrencies (proxy: 1); FanoutLevels says the levels are K
	// instead, at Connections closed-loop connections (gather).
	Fanout       int  `json:"fanout,omitempty"`
	FanoutLevels bool `json:"fanout_levels,omitempty"`
	// ConnsPerProc > 0 spreads each level over processes holding at most
	// this many connections each, in the server (-procs, nginx's
	// worker_processes) and in the load generator alike: the way past one
	// process's descriptor limit (the scale scenario).
	ConnsPerProc int `json:"conns_per_proc,omitempty"`
}

// Sysctl is a kernel setting a run checked: what it was, and what the run
// set it to for its duration ("" when left alone); Note says why it could
// not be set.
type Sysctl struct {
	Name string `json:"name"`
	Was  string `json:"was"`
	Set  string `json:"set,omitempty"`
	Note string `json:"note,omitempty"`
}

// Skip is a planned level that did not run.
type Skip struct {
	Scenario string `json:"scenario"`
	Server   string `json:"server"`
	Level    int    `json:"level"`
	Reason   string `json:"reason"`
}

// SitOut is a server the planner left out of a whole scenario, because
// the scenario needs something the server cannot do.
type SitOut struct {
	Scenario string `json:"scenario"`
	Server   string `json:"server"`
	Reason   string `json:"reason"`
}

// Scenario is one scenario against one server: SCENARIO-SERVER.json.
type Scenario struct {
	Scenario  string    `json:"scenario"`
	Server    string    `json:"server"`
	Kind      string    `json:"kind"` // KindModel or KindPeer
	LevelName string    `json:"level_name"`
	Levels    []Level   `json:"levels"`
	Failures  []Failure `json:"failures,omitempty"`
	Complete  bool      `json:"complete"` // false if interrupted before its last level
	// Added fields.
	Config  ScenarioConfig `json:"config"`            // the grid this file ran
	Skipped []Skip         `json:"skipped,omitempty"` // this server's levels that did not run
	Command []string       `json:"command,omitempty"` // how the server was started (one level's; the port varies)
	Version string         `json:"version,omitempty"` // server version (peers), or the c10k version
	CSVFile string         `json:"csv_file,omitempty"`
	// BackendCommand is how the backend of a proxied scenario was started
	// (one level's) and BackendCPUs where it was pinned.
	BackendCommand []string `json:"backend_command,omitempty"`
	BackendCPUs    string   `json:"backend_cpus,omitempty"`
}

// Failure is a level where the server died, refused connections, or ran
// over its time budget. It is data: the run went on.
type Failure struct {
	Level  int      `json:"level"`
	Reason string   `json:"reason"`
	Stderr []string `json:"stderr,omitempty"` // last lines of the server's stderr
	// Added fields.
	Repeat   int      `json:"repeat"`                // 0-based repeat index
	Kind     string   `json:"kind"`                  // one of the Failure* kinds
	Exit     string   `json:"exit,omitempty"`        // how the server ended, e.g. "exit status 2", "killed by signal: killed"
	ElapsedS float64  `json:"elapsed_s"`             // seconds from the level's start to the failure
	Load     []string `json:"load_stderr,omitempty"` // last lines of the load generator's stderr
}

// Failure kinds.
const (
	FailureStart   = "start"   // the server did not come up (no "listening on", port never opened)
	FailureCrash   = "crash"   // the server exited during the level
	FailureRefused = "refused" // every connection failed: the server is up but not serving
	FailureBudget  = "budget"  // the level overran its time budget and was killed
	FailureLoad    = "load"    // the load generator failed (no result written)
	FailureHost    = "host"    // a host of the run could not be used (unreachable, clock off)
)

// Level is every repeat at one level, and their summary.
type Level struct {
	Level   int           `json:"level"`
	Repeats []Measurement `json:"repeats"`
	Summary Summary       `json:"summary"`
}

// Measurement is one repeat of one level.
type Measurement struct {
	// Load is what `c10k load -json` reported, decoded into the load
	// generator's own type: one definition of the contract, no copy to drift.
	Load loadgen.Result `json:"load"`
	// Baseline is the server tree before the load started (no connections);
	// Point is sampled mid-run, with the level's connections all open.
	Baseline Proc `json:"baseline"`
	Point    Proc `json:"point"`
	// Machine-wide figures at the same two moments. They include the load
	// generator's side of every socket too.
	MachineBaseline Machine `json:"machine_baseline"`
	MachinePoint    Machine `json:"machine_point"`
	// CPU and context switches of the server tree over the measured window.
	ServerCPUS        float64  `json:"server_cpu_s"`
	ServerCPUPerReqUS float64  `json:"server_cpu_per_req_us"`
	CtxSwitches       uint64   `json:"ctx_switches"` // voluntary + involuntary
	CtxSwitchesPerReq float64  `json:"ctx_switches_per_req"`
	PerConn           PerConn  `json:"per_conn"`
	Samples           []Sample `json:"samples"` // every ~250 ms
	HgrmFile          string   `json:"hgrm_file,omitempty"`
	// Added fields. Times are seconds since the level started (server
	// start), the same clock as Sample.T.
	Repeat       int     `json:"repeat"`         // 0-based
	ReadyS       float64 `json:"ready_s"`        // server start to listening
	WindowStartS float64 `json:"window_start_s"` // the load's measured window, placed from its own report (idle_open_s, warmup_s, duration_s)
	WindowEndS   float64 `json:"window_end_s"`
	PointT       float64 `json:"point_t_s"` // when Point was sampled
	// ServerConns is how many connections the server had accepted at the
	// point, counted by the kernel (ESTABLISHED sockets on the server port
	// with a file attached); QueuedConns were ESTABLISHED but still in the
	// accept queue. PerConn divides by ServerConns.
	ServerConns int `json:"server_conns"`
	QueuedConns int `json:"queued_conns"`
	// CPU use over the window in cores (CPU seconds per wall second):
	// the server tree, the load generator, and everything else on the
	// machine (the harness itself, other users): the noise.
	ServerCPUUtil  float64 `json:"server_cpu_util"`
	LoadCPUUtil    float64 `json:"load_cpu_util"`
	OtherCPUUtil   float64 `json:"other_cpu_util"`
	StealUtil      float64 `json:"steal_util"`       // hypervisor steal, cores
	HarnessCPUUtil float64 `json:"harness_cpu_util"` // the harness's own sampling, cores
	// OtherTasksDelta is how many threads appeared (or, negative, went)
	// on the machine between baseline and point outside the server tree
	// and the load generator. Each costs kernel stack and page tables in
	// the machine-wide counters, so a large value makes the kernel-side
	// per_conn figures unreliable (the level is then marked noisy).
	OtherTasksDelta int `json:"other_tasks_delta"`
	// Noisy is set when OtherCPUUtil or StealUtil passed the harness's
	// threshold during the window; Notes says which, and what else is odd
	// (load generator saturated, idle connections closed by the server).
	Noisy bool     `json:"noisy"`
	Notes []string `json:"notes,omitempty"`
	// ServerUserCPUS and ServerSysCPUS split ServerCPUS.
	ServerUserCPUS float64  `json:"server_user_cpu_s"`
	ServerSysCPUS  float64  `json:"server_sys_cpu_s"`
	ServerExit     string   `json:"server_exit,omitempty"` // how the server ended when stopped
	LoadArgs       []string `json:"load_args,omitempty"`   // the c10k load command line (temporary output paths)
	// Backend is the upstream the server proxied to (proxy, gather), nil
	// elsewhere. Its figures are kept apart from the server's: PerConn and
	// the server's samples are the server's alone. In closed loop every
	// connection has one request in flight, so PerConn is also the cost
	// per in-flight request there.
	Backend *Backend `json:"backend,omitempty"`
}

// Backend is the backend of one proxied level: how it ran and what it
// used, sampled like a server.
type Backend struct {
	Command []string `json:"command"`
	CPUs    string   `json:"cpus"`    // CPU list it was pinned to
	WaitMS  float64  `json:"wait_ms"` // its answer delay
	Port    int      `json:"port"`
	// Baseline before the server started, Point at the server's point.
	Baseline Proc `json:"baseline"`
	Point    Proc `json:"point"`
	// Conns is the connections the backend had accepted at the point: the
	// server's upstream pool.
	Conns   int      `json:"conns"`
	CPUUtil float64  `json:"cpu_util"` // cores over the measured window
	Exit    string   `json:"exit,omitempty"`
	Samples []Sample `json:"samples,omitempty"`
}

// PerConn is the cost of one connection: the growth from the baseline (the
// server listening, no connection) to the point, divided by the
// connections held at the point as the kernel counts them (ESTABLISHED
// sockets the server accepted: Measurement.ServerConns, idle and active
// alike). User space and kernel are kept apart. Bytes unless named
// otherwise; zero when no connection was held.
type PerConn struct {
	Conns       int     `json:"conns"`     // the divisor: server-accepted connections at the point
	PSSBytes    float64 `json:"pss_bytes"` // user space, proportional (the honest figure for multi-process servers)
	RSSBytes    float64 `json:"rss_bytes"`
	KernelStack float64 `json:"kernel_stack_bytes"` // machine-wide KernelStack delta / conns
	PageTables  float64 `json:"page_tables_bytes"`  // machine-wide PageTables delta / conns
	SocketBytes float64 `json:"socket_bytes"`       // machine-wide Slab delta / conns (both ends of each socket)
	Threads     float64 `json:"threads"`
	FDs         float64 `json:"fds"`
	// Added fields.
	Processes   float64 `json:"processes"`     // server processes per connection (prefork)
	TCPMemBytes float64 `json:"tcp_mem_bytes"` // machine-wide TCP buffer memory delta / conns
	KernelBytes float64 `json:"kernel_bytes"`  // KernelStack + PageTables + Slab deltas / conns: the kernel side in one figure
}

// Sample is one reading of the server tree and the machine.
type Sample struct {
	T       float64 `json:"t_s"` // seconds since the level started
	Proc    Proc    `json:"proc"`
	Machine Machine `json:"machine"`
	// Added fields.
	Load         *Proc   `json:"load,omitempty"` // the load generator process, while it runs
	CPUBusyS     float64 `json:"cpu_busy_s"`     // machine-wide busy CPU seconds since boot (/proc/stat, steal excluded)
	StealS       float64 `json:"steal_s"`        // machine-wide steal seconds since boot
	ServerConns  int     `json:"server_conns"`   // see Measurement.ServerConns; -1 when not counted
	QueuedConns  int     `json:"queued_conns"`
	HarnessCPUS  float64 `json:"harness_cpu_s"` // the harness's own CPU seconds (it samples /proc), subtracted from the noise
	MachineTasks int     `json:"machine_tasks"` // threads on the whole machine (/proc/loadavg)
}

// Summary is the median and spread over the repeats of a level.
type Summary struct {
	RPS               Stat    `json:"rps"`
	P50US             Stat    `json:"p50_us"`
	P90US             Stat    `json:"p90_us"`
	P99US             Stat    `json:"p99_us"`
	P999US            Stat    `json:"p999_us"`
	MaxUS             Stat    `json:"max_us"`
	ErrorRate         Stat    `json:"error_rate"` // errors / (requests + errors)
	ServerCPUPerReqUS Stat    `json:"server_cpu_per_req_us"`
	CtxSwitchesPerReq Stat    `json:"ctx_switches_per_req"`
	PSS               Stat    `json:"pss_bytes"` // server tree PSS at the point
	RSS               Stat    `json:"rss_bytes"`
	Threads           Stat    `json:"threads"`
	FDs               Stat    `json:"fds"`
	PerConn           PerConn `json:"per_conn"` // medians of each field
	IdleAlive         Stat    `json:"idle_alive"`
	// Added fields.
	ServerConns   Stat `json:"server_conns"`
	ConnectRate   Stat `json:"connect_rate"` // idle connections opened per second (idle_opened / idle_open_s)
	ServerCPUUtil Stat `json:"server_cpu_util"`
	LoadCPUUtil   Stat `json:"load_cpu_util"`
	LoadBusy      Stat `json:"load_busy"` // the load generator's loop_busy
	OtherCPUUtil  Stat `json:"other_cpu_util"`
	Noisy         int  `json:"noisy"` // repeats marked noisy
}

// Stat is a median with its spread over repeats (montanaflynn/stats).
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	StdDev float64 `json:"stddev"`
	N      int     `json:"n"`
}
