package infer

import (
	"math"
	"math/rand"
	"testing"
)

// TestErfChunk checks erfChunk against Go's math.Erf and math.Erfc (the
// float64 results rounded to float32) on a million values in [-12, 12],
// the edges of its two pieces, and the special values: erf within 3 ulp,
// erfc within 6e-7 relative where it is above 1e-30.
func TestErfChunk(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	x := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, erfSplit, -erfSplit, math.Nextafter32(erfSplit, 0), 10, -10, 11,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for len(x) < 1<<20 {
		x = append(x, rng.Float32()*24-12)
	}
	for _, comp := range []bool{false, true} {
		got := make([]float32, len(x))
		e := make([]float32, len(x))
		erfChunk(got, x, e, comp)
		worst := 0.0
		for i, v := range x {
			ref := math.Erf(float64(v))
			if comp {
				ref = math.Erfc(float64(v))
			}
			want := float32(ref)
			g := got[i]
			if math.IsNaN(ref) {
				if g == g {
					t.Errorf("erfChunk(%v, comp %v) = %v, want NaN", v, comp, g)
				}
				continue
			}
			var bad bool
			if comp {
				rel := math.Abs(float64(g)-ref) / ref
				bad = ref > 1e-30 && rel > 6e-7
				if ref <= 1e-30 {
					bad = math.Abs(float64(g)-ref) > 1e-30
				} else {
					worst = max(worst, rel)
				}
			} else {
				ulp := float64(math.Nextafter32(want, float32(math.Inf(1))) - want)
				if want == 1 {
					ulp = float64(want - math.Nextafter32(want, 0))
				}
				d := math.Abs(float64(g)-ref) / ulp
				bad = d > 3
				worst = max(worst, d)
			}
			if bad {
				t.Errorf("erfChunk(%v, comp %v) = %v, want %v", v, comp, g, want)
			}
		}
		t.Logf("comp %v: worst error %.3g (ulp for erf, relative for erfc)", comp, worst)
	}
}
