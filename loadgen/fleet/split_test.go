package fleet

import (
	"errors"
	"testing"
	"time"

	"c10k/loadgen"
)

// part is what a test compares of one process's options.
type part struct {
	c, idle           int
	rate, connectRate float64
	loops             int
	sources, offset   int
}

func TestSplit(t *testing.T) {
	base := loadgen.Options{URL: "http://127.0.0.1:8080/", Duration: time.Second}
	with := func(f func(*loadgen.Options)) loadgen.Options { o := base; f(&o); return o }
	one := func(int) int { return 1 }
	tests := []struct {
		name    string
		o       loadgen.Options
		procs   int
		cpus    int
		sources func(int) int
		want    []part
		wantErr error
	}{
		{"happy one process is the whole run", with(func(o *loadgen.Options) { o.Connections, o.Idle = 7, 5 }), 1, 2, one,
			[]part{{7, 5, 0, 2000, 2, 1, 0}}, nil},
		{"happy remainders to the first", with(func(o *loadgen.Options) { o.Connections, o.Idle = 7, 5 }), 3, 2, one,
			[]part{{3, 2, 0, 800, 1, 1, 0}, {2, 2, 0, 800, 1, 1, 1}, {2, 1, 0, 400, 1, 1, 2}}, nil},
		{"happy rate and connect rate shared", with(func(o *loadgen.Options) { o.Connections, o.Idle, o.Rate, o.ConnectRate = 8, 4, 1000, 300 }), 4, 4, one,
			[]part{{2, 1, 250, 75, 1, 1, 0}, {2, 1, 250, 75, 1, 1, 1}, {2, 1, 250, 75, 1, 1, 2}, {2, 1, 250, 75, 1, 1, 3}}, nil},
		{"happy rate follows the connections", with(func(o *loadgen.Options) { o.Connections, o.Rate = 7, 700 }), 3, 2, one,
			[]part{{3, 0, 300, 0, 1, 1, 0}, {2, 0, 200, 0, 1, 1, 1}, {2, 0, 200, 0, 1, 1, 2}}, nil},
		{"happy fewer connections than processes", with(func(o *loadgen.Options) { o.Connections, o.Rate = 2, 700 }), 3, 2, one,
			[]part{{1, 0, 350, 0, 1, 1, 0}, {1, 0, 350, 0, 1, 1, 1}}, nil},
		{"happy an idle-only process takes no rate", with(func(o *loadgen.Options) { o.Connections, o.Idle, o.Rate = 1, 3, 100 }), 2, 2, one,
			[]part{{1, 2, 100, 2000 * 2 / 3.0, 1, 1, 0}, {0, 1, 0, 2000 / 3.0, 1, 1, 1}}, nil},
		{"happy loops asked per process", with(func(o *loadgen.Options) { o.Connections, o.Loops = 4, 3 }), 2, 1, one,
			[]part{{2, 0, 0, 0, 3, 1, 0}, {2, 0, 0, 0, 3, 1, 1}}, nil},
		{"happy cpus shared out", with(func(o *loadgen.Options) { o.Connections = 4 }), 2, 5, one,
			[]part{{2, 0, 0, 0, 3, 1, 0}, {2, 0, 0, 0, 2, 1, 1}}, nil},
		{"happy sources asked, shared out from the offset", with(func(o *loadgen.Options) { o.Connections, o.Sources, o.SourceOffset = 4, 5, 10 }), 2, 2, one,
			[]part{{2, 0, 0, 0, 1, 3, 10}, {2, 0, 0, 0, 1, 2, 13}}, nil},
		{"happy fewer sources than processes: one each", with(func(o *loadgen.Options) { o.Connections, o.Sources = 3, 1 }), 3, 3, one,
			[]part{{1, 0, 0, 0, 1, 1, 0}, {1, 0, 0, 0, 1, 1, 1}, {1, 0, 0, 0, 1, 1, 2}}, nil},
		{"happy sources planned per process", with(func(o *loadgen.Options) { o.Connections, o.Idle = 10, 40000 }), 2, 2,
			func(conns int) int { return (conns + 14115) / 14116 },
			[]part{{5, 20000, 0, 1000, 1, 2, 0}, {5, 20000, 0, 1000, 1, 2, 2}}, nil},
		{"sad no process", with(func(o *loadgen.Options) { o.Connections = 1 }), 0, 2, one, nil, loadgen.ErrOptions},
		{"sad a pacer", with(func(o *loadgen.Options) { o.Connections, o.Rate, o.Pacer = 1, 10, loadgen.ConstantPacer{Rate: 10} }), 2, 2, one, nil, loadgen.ErrOptions},
		{"sad sources past .254", with(func(o *loadgen.Options) { o.Connections, o.Sources, o.SourceOffset = 10, 250, 5 }), 2, 2, one, nil, loadgen.ErrOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.o, tt.procs, tt.cpus, tt.sources)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d processes, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, o := range got {
				p := part{o.Connections, o.Idle, o.Rate, o.ConnectRate, o.Loops, o.Sources, o.SourceOffset}
				if p != tt.want[i] {
					t.Errorf("process %d: %+v, want %+v", i+1, p, tt.want[i])
				}
				if o.URL != tt.o.URL || o.Duration != tt.o.Duration {
					t.Errorf("process %d: the rest of the options changed: %+v", i+1, o)
				}
			}
		})
	}
}
