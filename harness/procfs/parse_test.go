package procfs

import (
	"reflect"
	"strings"
	"testing"
)

// A real /proc/PID/stat line (cat), for the tail after comm.
const statTail = ` R 2430 2430 2109 0 -1 4194304 97 0 0 0 1234 567 89 10 20 0 1 0 8166 3133440 361 18446744073709551615 94723788259328 94723788279209 140724069276112 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 94723788295216 94723788296832 94724378193920 140724069284545 140724069284565 140724069284565 140724069285867 0
`

func TestParseStat(t *testing.T) {
	want := func(comm string) statInfo {
		return statInfo{comm: comm, state: 'R', ppid: 2430, utime: 1234, stime: 567, cutime: 89, cstime: 10}
	}
	tests := []struct {
		name    string
		in      string
		want    statInfo
		wantErr string
	}{
		{name: "happy plain comm", in: "2433 (cat)" + statTail, want: want("cat")},
		{name: "happy comm with spaces", in: "2433 (Web Content)" + statTail, want: want("Web Content")},
		{name: "happy comm with parens and trailing paren", in: "2433 ((a) b))" + statTail, want: want("(a) b)")},
		{name: "happy comm that looks like fields", in: "2433 (x) R 1 2 3 )" + statTail, want: want("x) R 1 2 3 ")},
		{name: "happy empty comm", in: "2433 ()" + statTail, want: want("")},
		{name: "happy minimal fields through cstime", in: "1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8", want: statInfo{comm: "init", state: 'S', ppid: 0, utime: 5, stime: 6, cutime: 7, cstime: 8}},
		{name: "sad empty", in: "", wantErr: "no (comm)"},
		{name: "sad no parens", in: "2433 cat R 1 2 3", wantErr: "no (comm)"},
		{name: "sad close before open", in: "2433 )cat( R 1", wantErr: "no (comm)"},
		{name: "sad truncated after comm", in: "2433 (cat)", wantErr: "fields after comm"},
		{name: "sad truncated before cstime", in: "2433 (cat) R 2430 2430 2109 0 -1 4194304 97 0 0 0 1234 567 89", wantErr: "fields after comm"},
		{name: "sad bad ppid", in: "2433 (cat) R x 2430 2109 0 -1 4194304 97 0 0 0 1234 567 89 10", wantErr: "ppid"},
		{name: "sad bad utime", in: "2433 (cat) R 1 2430 2109 0 -1 4194304 97 0 0 0 -5 567 89 10", wantErr: "utime"},
		{name: "sad bad state", in: "2433 (cat) RR 1 2430 2109 0 -1 4194304 97 0 0 0 1 567 89 10", wantErr: "state"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat([]byte(tc.in))
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

const statusFull = `Name:	cat
Umask:	0022
State:	R (running)
Tgid:	2413
PPid:	2404
Uid:	0	0	0	0
VmPeak:	    3060 kB
VmRSS:	    1636 kB
RssAnon:	     112 kB
Threads:	7
SigQ:	0/96364
Cpus_allowed_list:	0-1
voluntary_ctxt_switches:	42
nonvoluntary_ctxt_switches:	3
`

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    statusInfo
		wantErr string
	}{
		{name: "happy full", in: statusFull, want: statusInfo{rss: 1636 * 1024, threads: 7, voluntary: 42, involuntary: 3}},
		{name: "happy zombie without VmRSS", in: "Name:\tz\nState:\tZ (zombie)\nThreads:\t1\nvoluntary_ctxt_switches:\t5\nnonvoluntary_ctxt_switches:\t0\n", want: statusInfo{threads: 1, voluntary: 5}},
		{name: "happy no trailing newline", in: "Threads:\t2\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t9", want: statusInfo{threads: 2, voluntary: 1, involuntary: 9}},
		{name: "sad empty", in: "", wantErr: "no Threads"},
		{name: "sad missing threads", in: "VmRSS:\t1 kB\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t1\n", wantErr: "no Threads"},
		{name: "sad missing voluntary", in: "Threads:\t1\nnonvoluntary_ctxt_switches:\t1\n", wantErr: "no voluntary"},
		{name: "sad missing nonvoluntary", in: "Threads:\t1\nvoluntary_ctxt_switches:\t1\n", wantErr: "no nonvoluntary"},
		{name: "sad bad rss unit", in: "VmRSS:\t1 MB\nThreads:\t1\n", wantErr: "VmRSS"},
		{name: "sad bad threads", in: "Threads:\tmany\n", wantErr: "Threads"},
		{name: "sad line without colon", in: "Threads 1\n", wantErr: "no ':'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatus([]byte(tc.in))
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" && got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

const smapsRollup = `55ddabcbc000-7ffc6de97000 ---p 00000000 00:00 0                          [rollup]
Rss:                1756 kB
Pss:                 587 kB
Pss_Dirty:           116 kB
Pss_Anon:            116 kB
Shared_Clean:       1588 kB
SwapPss:               0 kB
Locked:                0 kB
`

const smapsFull = `55ddabcbc000-55ddabcbe000 r--p 00000000 08:01 1234                       /usr/bin/cat
Size:                  8 kB
Rss:                   8 kB
Pss:                   2 kB
VmFlags: rd mr mw me sd
7ffc6de76000-7ffc6de97000 rw-p 00000000 00:00 0                          [stack]
Size:                132 kB
Pss:                  12 kB
THPeligible:    0
VmFlags: rd wr mr mw me gd ac
`

func TestParsePss(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    uint64
		wantErr string
	}{
		{name: "happy rollup", in: smapsRollup, want: 587 * 1024},
		{name: "happy full smaps sums mappings", in: smapsFull, want: 14 * 1024},
		{name: "happy empty for zombie", in: "", want: 0},
		{name: "sad bad number", in: "Pss:   x kB\n", wantErr: "Pss"},
		{name: "sad garbage line", in: "hello\n", wantErr: "no ':'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePss([]byte(tc.in))
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" && got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestParseMeminfo(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]uint64
		wantErr string
	}{
		{
			name: "happy",
			in:   "MemTotal:       32000000 kB\nMemAvailable:   24353496 kB\nSlab:              88456 kB\nHugePages_Total:       3\n",
			want: map[string]uint64{"MemTotal": 32000000 * 1024, "MemAvailable": 24353496 * 1024, "Slab": 88456 * 1024, "HugePages_Total": 3},
		},
		{name: "sad empty", in: "", wantErr: "empty"},
		{name: "sad bad value", in: "MemTotal: lots kB\n", wantErr: "MemTotal"},
		{name: "sad unknown unit", in: "MemTotal: 1 GB\n", wantErr: "unit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMeminfo([]byte(tc.in))
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseSockstat(t *testing.T) {
	const real = `sockets: used 10
TCP: inuse 1 orphan 0 tw 8 alloc 1 mem 147
UDP: inuse 0 mem 0
UDPLITE: inuse 0
RAW: inuse 0
FRAG: inuse 0 memory 0
`
	tests := []struct {
		name    string
		in      string
		want    map[string]map[string]int64
		wantErr string
	}{
		{
			name: "happy",
			in:   real,
			want: map[string]map[string]int64{
				"sockets": {"used": 10},
				"TCP":     {"inuse": 1, "orphan": 0, "tw": 8, "alloc": 1, "mem": 147},
				"UDP":     {"inuse": 0, "mem": 0},
				"UDPLITE": {"inuse": 0},
				"RAW":     {"inuse": 0},
				"FRAG":    {"inuse": 0, "memory": 0},
			},
		},
		{name: "happy empty", in: "", want: map[string]map[string]int64{}},
		{name: "sad odd fields", in: "TCP: inuse 1 orphan\n", wantErr: "odd"},
		{name: "sad bad number", in: "TCP: inuse x\n", wantErr: "TCP inuse"},
		{name: "sad no colon", in: "TCP inuse 1\n", wantErr: "no ':'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSockstat([]byte(tc.in))
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseChildren(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []int
		wantErr string
	}{
		{name: "happy several", in: "123 456 ", want: []int{123, 456}},
		{name: "happy none", in: "", want: []int{}},
		{name: "sad not a pid", in: "12 x", wantErr: "bad pid"},
		{name: "sad zero", in: "0", wantErr: "bad pid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseChildren([]byte(tc.in))
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		low, high int
		wantErr   string
	}{
		{name: "happy tab separated", in: "32768\t60999\n", low: 32768, high: 60999},
		{name: "sad one field", in: "32768\n", wantErr: "want 2 fields"},
		{name: "sad three fields", in: "1 2 3\n", wantErr: "want 2 fields"},
		{name: "sad not numbers", in: "a b\n", wantErr: "invalid syntax"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			low, high, err := parsePortRange([]byte(tc.in))
			checkErr(t, err, tc.wantErr)
			if tc.wantErr == "" && (low != tc.low || high != tc.high) {
				t.Errorf("got %d-%d, want %d-%d", low, high, tc.low, tc.high)
			}
		})
	}
}

func TestParseInt(t *testing.T) {
	if v, err := parseInt([]byte("4096\n")); err != nil || v != 4096 {
		t.Errorf("happy: got %d, %v; want 4096", v, err)
	}
	if _, err := parseInt([]byte("")); err == nil {
		t.Error("sad empty: want error")
	}
}

func TestParseCPUModel(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"happy x86", "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n\nprocessor\t: 1\nmodel name\t: other\n", "Intel(R) Xeon(R) Processor"},
		{"missing on arm", "processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0c\n", ""},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseCPUModel([]byte(tc.in)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("want error containing %q, got nil", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("want error containing %q, got %v", want, err)
	}
}

func TestParseLoadavgTasks(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want int
	}{
		{"happy", "0.52 0.58 0.59 3/1234 56789\n", 1234},
		{"sad short", "0.52 0.58 0.59\n", 0},
		{"sad no slash", "0.52 0.58 0.59 1234 5\n", 0},
		{"sad not a number", "0.52 0.58 0.59 3/x 5\n", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseLoadavgTasks([]byte(tt.in)); got != tt.want {
				t.Errorf("parseLoadavgTasks(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
