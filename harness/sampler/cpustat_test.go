package sampler

import (
	"errors"
	"testing"
)

func TestParseCPUTimes(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    CPUTimes
		wantErr bool
	}{
		{name: "happy", in: "cpu  100 20 30 400 50 6 7 8 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n",
			want: CPUTimes{Busy: 1.63, Idle: 4.5, Steal: 0.08}},
		{name: "happy old kernel without guest", in: "cpu 100 0 0 0 0 0 0 0\n", want: CPUTimes{Busy: 1}},
		{name: "sad no cpu line", in: "intr 1 2 3\n", wantErr: true},
		{name: "sad too few fields", in: "cpu 1 2 3\n", wantErr: true},
		{name: "sad not a number", in: "cpu 1 2 3 x 5 6 7 8\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCPUTimes([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrFormat) {
					t.Errorf("err = %v, want ErrFormat", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			near := func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
			if !near(got.Busy, tc.want.Busy) || !near(got.Idle, tc.want.Idle) || !near(got.Steal, tc.want.Steal) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestReadCPUTimesGrows(t *testing.T) {
	a, err := ReadCPUTimes()
	if err != nil {
		t.Fatal(err)
	}
	if a.Busy <= 0 || a.Idle < 0 {
		t.Errorf("implausible %+v", a)
	}
}
