package loadgen

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func sampleResult() *Result {
	r := newRecorder(0, int64(2*time.Second), true)
	for i := range int64(200) {
		r.scheduled(i * 10 * ms)
		r.sent(i*10*ms, i*10*ms)
		r.response(i*10*ms, i*10*ms, i*10*ms+2*ms, 60, 200)
	}
	res := &Result{URL: "http://127.0.0.1:1/", OpenLoop: true, Rate: 100, Connections: 4, Pipeline: 1, Complete: true, Loops: 1}
	res.merge([]*recorder{r}, 2*time.Second)
	return res
}

// The harness decodes this JSON from another process: the contract's keys
// must be there, with these names and shapes.
func TestResultJSONHoldsTheContract(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleResult().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("decode: %v\n%s", err, buf.String())
	}
	for _, k := range []string{"requests", "errors", "duration_s", "rps", "latency_us", "open_loop", "idle_alive",
		"idle_requested", "uncorrected_latency_us", "series", "complete", "message", "scheduled", "late", "max_lag_us", "loop_busy"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	for _, k := range []string{"latency_us", "uncorrected_latency_us"} {
		lat, ok := m[k].(map[string]any)
		if !ok {
			t.Fatalf("%s is %T, want an object", k, m[k])
		}
		for _, p := range []string{"p50", "p90", "p99", "p999", "p9999", "max", "mean"} {
			v, ok := lat[p].(float64)
			if !ok {
				t.Errorf("%s.%s missing or not a number", k, p)
			}
			// Percentiles are histogram values: whole microseconds, as
			// when the fields were integers.
			if p != "mean" && v != math.Trunc(v) {
				t.Errorf("%s.%s = %v, want whole microseconds", k, p, v)
			}
		}
	}
	errs, ok := m["errors"].(map[string]any)
	if !ok {
		t.Fatalf("errors is %T, want an object", m["errors"])
	}
	for _, k := range ErrorKinds() {
		if _, ok := errs[k.String()]; !ok {
			t.Errorf("errors.%s missing", k)
		}
	}
	series, ok := m["series"].([]any)
	if !ok || len(series) != 2 {
		t.Fatalf("series = %v, want 2 points", m["series"])
	}
	pt := series[0].(map[string]any)
	for _, k := range []string{"t", "requests", "errors", "p99_us"} {
		if _, ok := pt[k]; !ok {
			t.Errorf("series point key %q missing", k)
		}
	}
	var back Result
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Requests != 200 || back.Scheduled != 200 || !back.OpenLoop || back.Latency.P50 < 1900 || back.Latency.P50 > 2100 {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestWriteHgrmIsHdrHistogramText(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleResult().WriteHgrm(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, " Value\tPercentile\tTotalCount\t1/(1-Percentile)") {
		t.Fatalf("header missing:\n%s", out)
	}
	if !strings.Contains(out, "#[Max     =") || !strings.Contains(out, "Total count    =          200") {
		t.Fatalf("footer missing:\n%s", out)
	}
	// Values are in milliseconds: every request took 2 ms.
	if !strings.Contains(out, "\n       2.000     1.000000          200") {
		t.Fatalf("want a 2 ms value in ms units:\n%s", out)
	}
}

func TestWriteHgrmOfAnEmptyRun(t *testing.T) {
	var buf bytes.Buffer
	if err := (&Result{}).WriteHgrm(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Total count    =            0") {
		t.Fatalf("empty histogram output:\n%s", buf.String())
	}
}

func TestWriteSummary(t *testing.T) {
	tests := []struct {
		name string
		res  *Result
		want []string
	}{
		{"happy open loop", sampleResult(), []string{"Running 2s test @ http://127.0.0.1:1/", "open loop at 100 req/s",
			"from intended send", "service (uncorr.)", "200 requests in 2s", "schedule: 200 due", "Requests/sec:     100.00"}},
		{"sad errors and early end", &Result{URL: "u", Errors: map[string]int64{"connect": 7}, Message: "server gone"},
			[]string{"Errors: connect 7, read 0, write 0, timeout 0, status 0, parse 0", "INCOMPLETE: server gone"}},
		{"happy busy generator", &Result{Complete: true, LoopBusy: 0.95},
			[]string{"generator: busiest loop 95% busy (saturated"}},
		{"happy idle pool", &Result{Complete: true, IdleRequested: 10, IdleOpened: 9, IdleAlive: 8, IdleErrors: map[string]int64{"connect": 1}},
			[]string{"Idle: 10 requested, 9 opened", "8 alive at the end", "Idle errors: connect 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.res.WriteSummary(&buf); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("summary lacks %q:\n%s", w, buf.String())
				}
			}
		})
	}
}
