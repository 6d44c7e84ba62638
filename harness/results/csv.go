package results

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
)

// CSVHeader is the first row of a scenario's CSV file. Units are in the
// names; per_conn_* are bytes (or counts) per connection held.
var CSVHeader = []string{
	"scenario", "server", "level", "repeat", "status",
	"rps", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "errors", "error_rate",
	"server_cpu_per_req_us", "ctx_switches_per_req",
	"server_conns", "queued_conns", "idle_requested", "idle_alive",
	"pss_bytes", "rss_bytes", "threads", "fds", "processes",
	"per_conn_pss_bytes", "per_conn_rss_bytes", "per_conn_kernel_stack_bytes", "per_conn_page_tables_bytes",
	"per_conn_socket_bytes", "per_conn_kernel_bytes", "per_conn_threads",
	"server_cpu_util", "load_cpu_util", "load_busy", "other_cpu_util", "noisy", "reason",
}

// CSV renders a scenario as CSV, one row per level and repeat, failures
// included as rows with status "failed" and their reason.
func CSV(sc Scenario) ([]byte, error) {
	type row struct {
		level, repeat int
		cells         []string
	}
	var rows []row
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	d := func(v int) string { return strconv.Itoa(v) }
	for _, lv := range sc.Levels {
		for _, m := range lv.Repeats {
			var errs int64
			for _, n := range m.Load.Errors {
				errs += n
			}
			noisy := "0"
			if m.Noisy {
				noisy = "1"
			}
			rows = append(rows, row{lv.Level, m.Repeat, []string{
				sc.Scenario, sc.Server, d(lv.Level), d(m.Repeat), "ok",
				f(m.Load.RPS), f(m.Load.Latency.P50), f(m.Load.Latency.P90), f(m.Load.Latency.P99),
				f(m.Load.Latency.P999), f(m.Load.Latency.Max), strconv.FormatInt(errs, 10), f(ErrorRate(m.Load)),
				f(m.ServerCPUPerReqUS), f(m.CtxSwitchesPerReq),
				d(m.ServerConns), d(m.QueuedConns), d(m.Load.IdleRequested), d(m.Load.IdleAlive),
				strconv.FormatUint(m.Point.PSS, 10), strconv.FormatUint(m.Point.RSS, 10), d(m.Point.Threads), d(m.Point.FDs), d(m.Point.Processes),
				f(m.PerConn.PSSBytes), f(m.PerConn.RSSBytes), f(m.PerConn.KernelStack), f(m.PerConn.PageTables),
				f(m.PerConn.SocketBytes), f(m.PerConn.KernelBytes), f(m.PerConn.Threads),
				f(m.ServerCPUUtil), f(m.LoadCPUUtil), f(m.Load.LoopBusy), f(m.OtherCPUUtil), noisy, "",
			}})
		}
	}
	for _, fl := range sc.Failures {
		cells := make([]string, len(CSVHeader))
		cells[0], cells[1], cells[2], cells[3], cells[4] = sc.Scenario, sc.Server, d(fl.Level), d(fl.Repeat), "failed"
		cells[len(cells)-1] = fl.Reason
		rows = append(rows, row{fl.Level, fl.Repeat, cells})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].level != rows[j].level {
			return rows[i].level < rows[j].level
		}
		return rows[i].repeat < rows[j].repeat
	})
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(CSVHeader); err != nil {
		return nil, fmt.Errorf("results: csv: %w", err)
	}
	for _, r := range rows {
		if err := w.Write(r.cells); err != nil {
			return nil, fmt.Errorf("results: csv: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("results: csv: %w", err)
	}
	return b.Bytes(), nil
}
