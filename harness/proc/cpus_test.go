package proc

import (
	"errors"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "happy single", in: "0", want: "0"},
		{name: "happy range", in: "0-3", want: "0-3"},
		{name: "happy mixed", in: "0,2,4-5", want: "0,2,4-5"},
		{name: "happy merges adjacent", in: "1,2,3", want: "1-3"},
		{name: "happy spaces", in: " 1 ", want: "1"},
		{name: "sad empty", in: "", wantErr: true},
		{name: "sad word", in: "cpu0", wantErr: true},
		{name: "sad reversed range", in: "3-1", wantErr: true},
		{name: "sad negative", in: "-1", wantErr: true},
		{name: "sad out of range", in: "100000", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := ParseCPUList(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrBadCPUList) {
					t.Errorf("err = %v, want ErrBadCPUList", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := FormatCPUList(set); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
