package results

// The readings of the machine and of a server's processes, as package
// procfs takes them from /proc. They live here, with the rest of the
// schema, because run.json and every scenario file record them verbatim;
// procfs only fills them in.

// Env describes the box and the limits that bound how many connections a
// server can hold, recorded with every run so results from different
// machines or tunings are never compared blindly.
type Env struct {
	Kernel    string `json:"kernel"`
	CPUModel  string `json:"cpu_model"`
	Cores     int    `json:"cores"`
	GoVersion string `json:"go_version"`
	// NoFileSoft and NoFileHard are RLIMIT_NOFILE of the harness process,
	// which its children (the servers) inherit unless they raise it.
	NoFileSoft uint64 `json:"nofile_soft"`
	NoFileHard uint64 `json:"nofile_hard"`
	PidMax     int    `json:"pid_max"`
	ThreadsMax int    `json:"threads_max"`
	// Somaxconn caps every listen backlog, whatever the server asks for.
	Somaxconn int `json:"somaxconn"`
	// PortRangeLow and PortRangeHigh bound the ephemeral ports, and so the
	// connections a load generator can open to one server address.
	PortRangeLow  int    `json:"port_range_low"`
	PortRangeHigh int    `json:"port_range_high"`
	MemTotal      uint64 `json:"mem_total_bytes"`
	Hostname      string `json:"hostname"`
}

// Proc is one sample of a process or process tree. Counters are totals
// since each process started; the harness takes differences between
// samples to get rates.
type Proc struct {
	// Processes is how many processes were sampled: the root plus the
	// descendants still there when read, zombies included (they hold no
	// memory or fds but their CPU time counts until they are reaped).
	Processes int `json:"processes"`
	// Threads is the sum of the Threads: lines of the processes' status.
	Threads int `json:"threads"`
	// FDs is the number of open file descriptors, sockets included.
	FDs int `json:"fds"`
	// RSS overcounts pages shared between the processes of a tree; see
	// package procfs and prefer PSS.
	RSS uint64 `json:"rss_bytes"`
	// PSS charges each shared page proportionally to its sharers, so it
	// sums correctly over a tree.
	PSS uint64 `json:"pss_bytes"`
	// VoluntaryCtxt and InvoluntaryCtxt count context switches. Unless
	// CtxtAllThreads is set they cover each process's main thread only,
	// because that is all /proc/PID/status reports; see
	// procfs.SampleTreeAllThreads.
	VoluntaryCtxt   uint64 `json:"voluntary_ctxt_switches"`
	InvoluntaryCtxt uint64 `json:"nonvoluntary_ctxt_switches"`
	// CtxtAllThreads records whether the context-switch counts were summed
	// over every thread, so results JSON says which of the two it holds.
	CtxtAllThreads bool `json:"ctxt_all_threads"`
	// UserCPUSec and SystemCPUSec are CPU seconds of the processes,
	// including their exited threads, at the 10 ms resolution of USER_HZ.
	// Float seconds rather than time.Duration so the JSON is readable.
	UserCPUSec   float64 `json:"user_cpu_s"`
	SystemCPUSec float64 `json:"system_cpu_s"`
	// ReapedUserCPUSec and ReapedSystemCPUSec are the CPU seconds of
	// children that exited and were waited for by a process in the tree
	// (cutime, cstime). Adding them to the CPU fields keeps the tree's total
	// from dropping when a worker process exits and is reaped; they also
	// include children reaped before the benchmark, so only differences
	// between samples are meaningful.
	ReapedUserCPUSec   float64 `json:"reaped_user_cpu_s"`
	ReapedSystemCPUSec float64 `json:"reaped_system_cpu_s"`
}

// Machine is a machine-wide sample of the kernel memory and socket state
// that per-process numbers miss: a server's threads cost kernel stacks and
// page tables, and its sockets cost slab and TCP buffer memory, none of
// which appears in its RSS or PSS.
type Machine struct {
	// Kernel memory from /proc/meminfo, in bytes.
	KernelStack  uint64 `json:"kernel_stack_bytes"`
	PageTables   uint64 `json:"page_tables_bytes"`
	Slab         uint64 `json:"slab_bytes"`
	SUnreclaim   uint64 `json:"sunreclaim_bytes"`
	MemAvailable uint64 `json:"mem_available_bytes"`
	// TCP socket counts from /proc/net/sockstat.
	TCPInUse    int `json:"tcp_inuse"`
	TCPOrphan   int `json:"tcp_orphan"`
	TCPTimeWait int `json:"tcp_time_wait"`
	TCPAlloc    int `json:"tcp_alloc"`
	// TCPMem is the memory held by TCP socket buffers. The kernel reports
	// it in pages; it is converted to bytes by procfs so nobody has to remember.
	TCPMem      uint64 `json:"tcp_mem_bytes"`
	SocketsUsed int    `json:"sockets_used"`
}
