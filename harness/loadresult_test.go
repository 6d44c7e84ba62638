package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"c10k/harness/results"
	"c10k/loadgen"
)

// The load generator's result crosses two boundaries: `c10k load -json`
// to the harness (readLoad), and the harness's Measurement to the
// scenario file that the plots and report read back. Every key of
// loadgen.Result, found by reflection so that a new field is covered the
// day it is added, must survive both with its value.
func TestLoadResultRoundTripsEveryKey(t *testing.T) {
	want := filledResult(t)
	dir := t.TempDir()

	// Written as `c10k load -json FILE` writes it.
	loadPath := filepath.Join(dir, "load.json")
	f, err := os.Create(loadPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := want.WriteJSON(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	checkKeysWritten(t, loadPath, "")

	// Decoded as the harness decodes it.
	fromLoad, err := readLoad(loadPath)
	if err != nil {
		t.Fatalf("readLoad: %v", err)
	}

	// Stored in a scenario file and read back as the plots and report do.
	scPath := filepath.Join(dir, "sc.json")
	sc := results.Scenario{Levels: []results.Level{{Repeats: []results.Measurement{{Load: fromLoad}}}}}
	if err := results.WriteJSON(scPath, sc); err != nil {
		t.Fatal(err)
	}
	checkKeysWritten(t, scPath, "levels.0.repeats.0.load")
	var back results.Scenario
	if err := results.ReadJSON(scPath, &back); err != nil {
		t.Fatal(err)
	}

	for _, hop := range []struct {
		name string
		got  loadgen.Result
	}{
		{"c10k load -json -> readLoad", fromLoad},
		{"Measurement.load -> scenario file -> results.ReadJSON", back.Levels[0].Repeats[0].Load},
	} {
		t.Run(hop.name, func(t *testing.T) {
			for _, d := range diffKeys("", reflect.ValueOf(hop.got), reflect.ValueOf(*want)) {
				t.Error(d)
			}
		})
	}
}

// The keys that place the measured window on the sampler's clock, read
// from a decoded result: a renamed or dropped key would leave it at zero.
func TestLoadWindowFromDecodedKeys(t *testing.T) {
	tests := []struct {
		name      string
		json      string
		loadStart float64
		want      window
	}{
		{"happy closed loop", `{"duration_s": 10, "warmup_s": 1}`, 0.5, window{0.5, 1.5, 11.5}},
		{"happy idle pool first", `{"idle_open_s": 2.25, "warmup_s": 0.5, "duration_s": 4}`, 1, window{3.25, 3.75, 7.75}},
		{"sad nothing measured", `{"idle_open_s": 3, "duration_s": 0}`, 0, window{3, 3, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "load.json")
			if err := os.WriteFile(path, []byte(tt.json), 0o644); err != nil {
				t.Fatal(err)
			}
			l, err := readLoad(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := loadWindow(tt.loadStart, l); got != tt.want {
				t.Errorf("window = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// filledResult is a loadgen.Result with every exported field set to a
// value distinct from the others, so a key dropped, renamed or read into
// the wrong field shows as a difference.
func filledResult(t *testing.T) *loadgen.Result {
	t.Helper()
	var r loadgen.Result
	n := 0
	fill(t, "", reflect.ValueOf(&r).Elem(), &n)
	return &r
}

func fill(t *testing.T, path string, v reflect.Value, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fill(t, path+"."+f.Name, v.Field(i), n)
			}
		}
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint64:
		v.SetUint(uint64(*n))
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.25)
	case reflect.Bool:
		v.SetBool(true) // the zero value is false
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(t, path+"[key]", k, n)
		fill(t, path+"[elem]", e, n)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(t, path+"[0]", s.Index(0), n)
		v.Set(s)
	case reflect.Pointer:
		// Procs nests whole results: one level of them is enough.
		if strings.Count(path, ".Procs") > 1 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(t, path, p.Elem(), n)
		v.Set(p)
	default:
		t.Fatalf("loadgen.Result%s: no test value for a %s; teach fill", path, v.Type())
	}
}

// jsonName is the JSON key of a struct field, "" if it has none.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

// diffKeys compares got with want key by key, naming each difference by
// its JSON path.
func diffKeys(path string, got, want reflect.Value) []string {
	if want.Kind() != reflect.Struct {
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			return []string{fmt.Sprintf("%s = %v, want %v", path, got.Interface(), want.Interface())}
		}
		return nil
	}
	var ds []string
	for i := range want.NumField() {
		if name := jsonName(want.Type().Field(i)); name != "" {
			ds = append(ds, diffKeys(strings.TrimPrefix(path+"."+name, "."), got.Field(i), want.Field(i))...)
		}
	}
	return ds
}

// checkKeysWritten checks that the JSON file at path holds, under prefix
// (dot-separated keys and indexes), every key of loadgen.Result and of the
// structs within it.
func checkKeysWritten(t *testing.T, path, prefix string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if prefix != "" {
		for _, k := range strings.Split(prefix, ".") {
			switch d := doc.(type) {
			case map[string]any:
				doc = d[k]
			case []any:
				i, err := strconv.Atoi(k)
				if err != nil || i >= len(d) {
					t.Fatalf("%s: no element %s under %s", filepath.Base(path), k, prefix)
				}
				doc = d[i]
			}
		}
	}
	var walk func(p string, typ reflect.Type, doc any)
	walk = func(p string, typ reflect.Type, doc any) {
		switch typ.Kind() {
		case reflect.Slice:
			if a, ok := doc.([]any); ok && len(a) > 0 {
				walk(p+"[0]", typ.Elem(), a[0])
			}
			return
		case reflect.Struct:
		default:
			return
		}
		obj, ok := doc.(map[string]any)
		if !ok {
			t.Errorf("%s: %s is %T, want an object", filepath.Base(path), p, doc)
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := jsonName(f)
			if name == "" {
				continue
			}
			v, ok := obj[name]
			if !ok {
				t.Errorf("%s: key %s.%s missing", filepath.Base(path), p, name)
				continue
			}
			walk(p+"."+name, f.Type, v)
		}
	}
	walk("load", reflect.TypeFor[loadgen.Result](), doc)
}
