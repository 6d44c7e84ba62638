package results

import (
	"encoding/json"
	"strings"
	"testing"
)

// The /proc readings are written verbatim into run.json and every scenario
// file: their keys are part of the schema.
func TestSystemJSONKeys(t *testing.T) {
	tests := []struct {
		name string
		v    any
		keys []string
	}{
		{"Machine", Machine{}, []string{"kernel_stack_bytes", "page_tables_bytes", "slab_bytes", "sunreclaim_bytes",
			"mem_available_bytes", "tcp_inuse", "tcp_orphan", "tcp_time_wait", "tcp_alloc", "tcp_mem_bytes", "sockets_used"}},
		{"Env", Env{}, []string{"kernel", "cpu_model", "cores", "go_version", "nofile_soft", "nofile_hard", "pid_max",
			"threads_max", "somaxconn", "port_range_low", "port_range_high", "mem_total_bytes", "hostname"}},
		{"Proc", Proc{}, []string{"processes", "threads", "fds", "rss_bytes", "pss_bytes",
			"voluntary_ctxt_switches", "nonvoluntary_ctxt_switches", "ctxt_all_threads",
			"user_cpu_s", "system_cpu_s", "reaped_user_cpu_s", "reaped_system_cpu_s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.keys {
				if !strings.Contains(string(b), `"`+k+`":`) {
					t.Errorf("%s JSON %s lacks %q", tt.name, b, k)
				}
			}
		})
	}
}
