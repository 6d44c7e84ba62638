package plot

import (
	"math"
	"strconv"

	gonum "gonum.org/v1/plot"

	"c10k/harness/units"
)

// A formatter turns an axis value into the label a reader wants: "10k"
// connections, "64 KiB", "2.5 ms".
type formatter func(float64) string

// logTicks marks every power of ten with a label and the 2..9 multiples
// in between without. When the range spans less than two decades the 2x
// and 5x ticks get labels too, so an axis never shows a single number.
type logTicks struct{ format formatter }

// Ticks implements gonum's Ticker.
func (t logTicks) Ticks(min, max float64) []gonum.Tick {
	if min <= 0 || max <= 0 || min > max {
		return nil
	}
	lo := math.Floor(math.Log10(min))
	hi := math.Ceil(math.Log10(max))
	labelMid := hi-lo <= 2
	var ticks []gonum.Tick
	for e := lo; e <= hi; e++ {
		base := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := float64(m) * base
			label := ""
			if m == 1 || (labelMid && (m == 2 || m == 5)) {
				label = t.format(v)
			}
			ticks = append(ticks, gonum.Tick{Value: v, Label: label})
		}
	}
	return inRange(ticks, min, max)
}

// inRange keeps the ticks inside [min, max]. gonum pads a plot for the
// labels of every tick it is given, drawn or not, so a labelled tick
// beyond the axis would leave an empty band beside the data.
func inRange(ticks []gonum.Tick, min, max float64) []gonum.Tick {
	eps := (max - min) * 1e-9
	out := ticks[:0]
	for _, t := range ticks {
		if t.Value >= min-eps && t.Value <= max+eps {
			out = append(out, t)
		}
	}
	return out
}

// linTicks is gonum's default linear ticks with our labels.
type linTicks struct{ format formatter }

// Ticks implements gonum's Ticker.
func (t linTicks) Ticks(min, max float64) []gonum.Tick {
	ticks := niceTicks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = t.format(ticks[i].Value)
		}
	}
	return inRange(ticks, min, max)
}

// binaryTicks marks a bytes axis at round binary sizes: 1, 10, 100 KiB,
// 1 MiB and so on on a log axis, and steps of a round number of KiB, MiB
// or GiB on a linear one, so no tick reads "97.7 KiB".
type binaryTicks struct{ log bool }

// Ticks implements gonum's Ticker.
func (t binaryTicks) Ticks(min, max float64) []gonum.Tick {
	if !t.log {
		unit := 1.0
		for _, u := range []float64{1 << 10, 1 << 20, 1 << 30} {
			if max >= 2*u {
				unit = u
			}
		}
		ticks := niceTicks(min/unit, max/unit)
		for i := range ticks {
			ticks[i].Value *= unit
			if ticks[i].Label != "" {
				ticks[i].Label = units.Bytes(ticks[i].Value)
			}
		}
		return inRange(ticks, min, max)
	}
	if min <= 0 || max <= 0 || min > max {
		return nil
	}
	var ticks []gonum.Tick
	for unit := 1.0; unit <= 1<<40; unit *= 1024 {
		for _, dec := range []float64{1, 10, 100} {
			base := unit * dec
			if base > max*10 {
				break
			}
			for m := 1; m < 10; m++ {
				v := float64(m) * base
				if v >= unit*1024 {
					break
				}
				label := ""
				if m == 1 {
					label = units.Bytes(v)
				}
				ticks = append(ticks, gonum.Tick{Value: v, Label: label})
			}
		}
	}
	// Less than a decade in range: label the 2x and 5x ticks too.
	labelled := 0
	for _, tk := range ticks {
		if tk.Label != "" && tk.Value >= min && tk.Value <= max {
			labelled++
		}
	}
	if labelled < 2 {
		for i, tk := range ticks {
			if r := tk.Value / math.Pow(10, math.Floor(math.Log10(tk.Value))); math.Abs(r-2) < 1e-9 || math.Abs(r-5) < 1e-9 {
				ticks[i].Label = units.Bytes(tk.Value)
			}
		}
	}
	return inRange(ticks, min, max)
}

// niceTicks returns four to ten labelled ticks at a step of 1, 2, 2.5 or
// 5 times a power of ten, with an unlabelled tick halfway between: gonum's
// default gives as few as three, which leaves a reader interpolating.
func niceTicks(min, max float64) []gonum.Tick {
	if !(max > min) || math.IsInf(max-min, 0) {
		return nil
	}
	// The largest round step that still gives four labels.
	mag := math.Pow(10, math.Floor(math.Log10(max-min)))
	step := mag / 10
	for _, c := range []float64{0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5} {
		if (max-min)/(c*mag) >= 4 {
			step = c * mag
		}
	}
	var ticks []gonum.Tick
	for v := math.Ceil(min/step) * step; v <= max+step*1e-9; v += step {
		v := math.Round(v/step) * step // no 0.30000000000000004
		ticks = append(ticks, gonum.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
		if half := v + step/2; half <= max {
			ticks = append(ticks, gonum.Tick{Value: half})
		}
	}
	if first := math.Ceil(min/step)*step - step/2; first >= min {
		ticks = append(ticks, gonum.Tick{Value: first})
	}
	return ticks
}

// percentileTicks labels a spectrum's x axis, 1/(1-q), at 50%, 90%, 99%,
// ... like HdrHistogram's own plotter. 0% (x = 1) gets a tick but no
// label: on a log axis it sits too close to 50% for both to be read.
type percentileTicks struct{}

// Ticks implements gonum's Ticker.
func (percentileTicks) Ticks(min, max float64) []gonum.Tick {
	ticks := []gonum.Tick{{Value: 1}, {Value: 2, Label: "50%"}}
	for v := 10.0; v <= max*1.0001; v *= 10 {
		ticks = append(ticks, gonum.Tick{Value: v, Label: units.Percentile(v)})
	}
	return inRange(ticks, min, max)
}

// setLog makes an axis logarithmic with labels from f.
func setLog(a *gonum.Axis, f formatter) {
	a.Scale = gonum.LogScale{}
	a.Tick.Marker = logTicks{format: f}
}

// setLin keeps an axis linear with labels from f.
func setLin(a *gonum.Axis, f formatter) {
	a.Scale = gonum.LinearScale{}
	a.Tick.Marker = linTicks{format: f}
}

// wantLog reports whether values should go on a log axis: all positive
// and spread over more than about a decade and a half. Values that are
// zero or negative force a linear axis, since a log axis cannot show them.
func wantLog(vals []float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if !(v > 0) || math.IsInf(v, 0) {
			return false
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return len(vals) > 1 && hi/lo >= 30
}

// padLog widens a log axis range by a fraction of a decade on each side,
// so markers at the extremes are not cut in half by the frame.
func padLog(a *gonum.Axis) {
	if a.Min > 0 && a.Max > 0 && !math.IsInf(a.Min, 0) && !math.IsInf(a.Max, 0) {
		a.Min /= 1.25
		a.Max *= 1.25
	}
}

// padLin widens a linear range so it starts at zero (a bar or a
// throughput curve read against zero) and leaves headroom above.
func padLin(a *gonum.Axis) {
	if math.IsInf(a.Min, 0) || math.IsInf(a.Max, 0) {
		return
	}
	if a.Min > 0 {
		a.Min = 0
	}
	if a.Max <= a.Min {
		a.Max = a.Min + 1
	}
	a.Max += 0.06 * (a.Max - a.Min)
}
