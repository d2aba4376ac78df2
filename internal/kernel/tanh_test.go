package kernel

import (
	"math"
	"testing"
)

// Both tanh paths stay within 3e-7 relative error (or 1e-38 absolute) of
// math.Tanh over a dense sweep and special values.
func TestTanh(t *testing.T) {
	var xs []float32
	for x := -12.0; x <= 12; x += 0.000731 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 1e-30, -1e-8, 0.625, -0.625, 0.62499994, 9, 9.5, 100, -100,
		float32(math.Inf(1)), float32(math.Inf(-1)), 3.4e38)
	for len(xs)%8 != 3 { // exercise the scalar tail too
		xs = append(xs, 0.5)
	}
	got := make([]float32, len(xs))
	Tanh(got, xs)
	check := func(path string, i int, g float32) {
		want := math.Tanh(float64(xs[i]))
		if d := math.Abs(float64(g) - want); d > 3e-7*math.Abs(want) && d > 1e-38 {
			t.Fatalf("%s tanh(%v) = %v, want %v (rel err %.2g)", path, xs[i], g, want, d/math.Abs(want))
		}
		if math.Signbit(float64(g)) != math.Signbit(want) {
			t.Fatalf("%s tanh(%v) = %v: wrong sign", path, xs[i], g)
		}
	}
	for i, g := range got {
		check("Tanh", i, g)
		check("Tanh32", i, Tanh32(xs[i]))
	}
	// NaN lanes pass through, in the four-vector body (40 values) and in
	// the one-vector loop after it.
	nan := make([]float32, 40)
	for i := range nan {
		nan[i] = 1
	}
	nan[3], nan[37] = float32(math.NaN()), float32(math.NaN())
	Tanh(nan, nan)
	for i, v := range nan {
		if isNaN := math.IsNaN(float64(v)); isNaN != (i == 3 || i == 37) || !isNaN && math.Abs(float64(v)-math.Tanh(1)) > 1e-7 {
			t.Fatalf("Tanh with NaN lanes 3 and 37: lane %d = %v", i, v)
		}
	}
}

func BenchmarkTanh(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(i)/512 - 4
	}
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		Tanh(y, x)
	}
}
