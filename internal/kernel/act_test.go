package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// actInputs is a dense sweep over [-100, 100], the special values, and
// random float32 bit patterns, its length 3 more than a multiple of 8 so
// that the vector tail runs too.
func actInputs() []float32 {
	var xs []float32
	for x := -100.0; x <= 100; x += 0.00113 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 1e-45, 86.9, 87, 87.1, -87.9, -88, -88.1,
		float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, -math.MaxFloat32, float32(math.NaN()))
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		xs = append(xs, math.Float32frombits(r.Uint32()))
	}
	for len(xs)%8 != 3 {
		xs = append(xs, 0.5)
	}
	return xs
}

// Sigmoid stays within 3 ulp and SiLU within 4 of the exact value, computed in
// float64 with math.Exp (absolute 1e-38 for sigmoid's subnormal results,
// 1e-36 for SiLU below -87), and NaN stays NaN.
func TestSigmoidSiLUAccuracy(t *testing.T) {
	xs := actInputs()
	for _, tc := range []struct {
		name string
		f    func(d, x []float32)
		want func(x float64) float64
		abs  float64
	}{
		{"Sigmoid", Sigmoid, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, 1e-38},
		{"SiLU", SiLU, func(x float64) float64 {
			if math.IsInf(x, -1) {
				return math.NaN()
			}
			return x / (1 + math.Exp(-x))
		}, 1e-36},
	} {
		for _, path := range []string{"vector", "Go"} {
			got := make([]float32, len(xs))
			if path == "Go" {
				withoutAVX2(func() { tc.f(got, xs) })
			} else {
				tc.f(got, xs)
			}
			worst := 0.0
			for i, g := range got {
				x := float64(xs[i])
				if math.IsNaN(x) {
					if !math.IsNaN(float64(g)) {
						t.Fatalf("%s %s(NaN) = %v", path, tc.name, g)
					}
					continue
				}
				w := tc.want(x)
				if math.IsNaN(w) && math.IsNaN(float64(g)) {
					continue
				}
				ulp := float64(math.Nextafter32(float32(math.Abs(w)), math.MaxFloat32)) - float64(float32(math.Abs(w)))
				d := math.Abs(float64(g) - w)
				if math.IsInf(w, 0) && float64(g) == w {
					continue
				}
				if d > tc.abs && d > 4*ulp {
					t.Fatalf("%s %s(%v) = %v, want %v (%.3g ulp)", path, tc.name, xs[i], g, w, d/ulp)
				}
				if d > tc.abs && d/ulp > worst {
					worst = d / ulp
				}
			}
			t.Logf("%s %s: worst %.2f ulp", path, tc.name, worst)
		}
	}
}

// The AVX2 kernels and the plain Go loops give the same bits for every
// input (NaN: both NaN), wherever the element lies in the slice; and SiLU
// gives the bits of Sigmoid followed by a multiplication.
func TestActPathsBitIdentical(t *testing.T) {
	if !HasAVX2 {
		t.Skip("no AVX2 kernels in this build")
	}
	xs := actInputs()
	for _, tc := range []struct {
		name string
		f    func(d, x []float32)
	}{
		{"Sigmoid", Sigmoid}, {"SiLU", SiLU}, {"Erf", Erf},
		{"Clip", func(d, x []float32) { Clip(d, x, -1.5, 6) }},
		{"Clip lo>hi", func(d, x []float32) { Clip(d, x, 2, -2) }},
		{"Clip zeros", func(d, x []float32) { Clip(d, x, 0, float32(math.Copysign(0, -1))) }},
		{"HardSigmoid", func(d, x []float32) { HardSigmoid(d, x, 0.2, 0.5) }},
		{"HardSigmoid 1/6", func(d, x []float32) { HardSigmoid(d, x, 1.0/6, 0.5) }},
		{"MulHardSigmoid", func(d, x []float32) { MulHardSigmoid(d, x, 1.0/6, 0.5) }},
		{"MulHardSigmoid -0.3,2", func(d, x []float32) { MulHardSigmoid(d, x, -0.3, 2) }},
	} {
		a, b := make([]float32, len(xs)), make([]float32, len(xs))
		tc.f(a, xs)
		withoutAVX2(func() { tc.f(b, xs) })
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
				t.Fatalf("%s(%v) = %v (%#x) with AVX2, %v (%#x) without", tc.name, xs[i], a[i], math.Float32bits(a[i]), b[i], math.Float32bits(b[i]))
			}
		}
		if tc.name == "MulHardSigmoid" {
			HardSigmoid(b, xs, 1.0/6, 0.5)
			for i := range b {
				b[i] *= xs[i]
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
					t.Fatalf("MulHardSigmoid(%v) = %v, x*HardSigmoid(x) = %v", xs[i], a[i], b[i])
				}
			}
		}
		if tc.name == "SiLU" {
			Sigmoid(b, xs)
			for i := range b {
				b[i] *= xs[i]
				if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
					t.Fatalf("SiLU(%v) = %v, x*Sigmoid(x) = %v", xs[i], a[i], b[i])
				}
			}
		}
		// In place, and at an odd offset: the same values.
		c := append([]float32(nil), xs...)
		tc.f(c[3:], c[3:])
		for i := 3; i < len(c); i++ {
			if math.Float32bits(c[i]) != math.Float32bits(a[i]) && !(c[i] != c[i] && a[i] != a[i]) {
				t.Fatalf("%s in place at offset 3: [%d] = %v, want %v", tc.name, i, c[i], a[i])
			}
		}
	}
}

// Clip follows the comparisons: NaN passes, lo > hi gives hi, and values
// in range are kept (expected values by the definition min(max(x, lo), hi)).
func TestClip(t *testing.T) {
	nan := float32(math.NaN())
	xs := []float32{-7, -1, 0, 2.5, 6, 6.5, nan, 1e30, -1e30, 3, 3, 3, 3, 3, 3, 3, 3}
	for _, tc := range []struct {
		lo, hi float32
		want   []float32
	}{
		{0, 6, []float32{0, 0, 0, 2.5, 6, 6, nan, 6, 0, 3, 3, 3, 3, 3, 3, 3, 3}},
		{2, -2, []float32{-2, -2, -2, -2, -2, -2, nan, -2, -2, -2, -2, -2, -2, -2, -2, -2, -2}},
	} {
		for _, path := range []string{"vector", "Go"} {
			got := make([]float32, len(xs))
			if path == "Go" {
				withoutAVX2(func() { Clip(got, xs, tc.lo, tc.hi) })
			} else {
				Clip(got, xs, tc.lo, tc.hi)
			}
			for i, g := range got {
				w := tc.want[i]
				if g != w && !(g != g && w != w) {
					t.Errorf("%s Clip(%v, %v, %v) = %v, want %v", path, xs[i], tc.lo, tc.hi, g, w)
				}
			}
		}
	}
}

// HardSigmoid and MulHardSigmoid on both paths: expected values from the
// ONNX spec's HardSigmoid example (alpha 0.5, beta 0.6: [-1, 0, 1] gives
// [0.1, 0.6, 1]) and HardSwish's definition x·max(0, min(1, x/6 + 1/2))
// worked by hand; NaN passes. Ten elements, so both the vector and the
// scalar tail run.
func TestHardSigmoid(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name        string
		mul         bool
		alpha, beta float32
		x, want     []float32
	}{
		{"HardSigmoid", false, 0.5, 0.6,
			[]float32{-1, 0, 1, -1, 0, 1, -1, 0, 1, nan},
			[]float32{0.1, 0.6, 1, 0.1, 0.6, 1, 0.1, 0.6, 1, nan}},
		{"HardSwish", true, 1.0 / 6, 0.5,
			[]float32{-4, -3, 0, 3, 4, 1e30, -1e30, 6, -6, nan},
			[]float32{0, 0, 0, 3, 4, 1e30, 0, 6, 0, nan}},
	} {
		for _, path := range []string{"vector", "Go"} {
			got := make([]float32, len(tc.x))
			f := func() { HardSigmoid(got, tc.x, tc.alpha, tc.beta) }
			if tc.mul {
				f = func() { MulHardSigmoid(got, tc.x, tc.alpha, tc.beta) }
			}
			if path == "Go" {
				withoutAVX2(f)
			} else {
				f()
			}
			for i, g := range got {
				w := tc.want[i]
				if math.Abs(float64(g-w)) > 1e-7 && !(g != g && w != w) {
					t.Errorf("%s %s(%v) = %v, want %v", path, tc.name, tc.x[i], g, w)
				}
			}
		}
	}
}

func BenchmarkSigmoid(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(i)/256 - 8
	}
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		Sigmoid(y, x)
	}
}

// AxpyRows gives, on both paths, y + float32(a*x) for each element of the
// block (two roundings, by its definition), at strides 1 to 3, and leaves
// the elements between rows alone; x ends right after the last element
// read, so the stride-2 kernel's extra reads are bounded.
func TestAxpyRows(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ rows, width, ldx, stride, ldy int }{
		{1, 1, 1, 1, 1}, {3, 7, 9, 1, 8}, {4, 8, 8, 1, 8}, {5, 13, 30, 1, 14}, {2, 32, 33, 1, 40}, {7, 45, 46, 1, 45}, {1, 112, 112, 1, 112}, {3, 0, 4, 1, 4},
		{4, 16, 40, 2, 17}, {2, 13, 30, 2, 13}, {5, 40, 90, 2, 40}, {3, 9, 28, 3, 10}, {2, 56, 114, 2, 56},
	} {
		x := make([]float32, max(0, (tc.rows-1)*tc.ldx+(tc.width-1)*tc.stride+1))
		y0 := make([]float32, max(0, (tc.rows-1)*tc.ldy+tc.width))
		for i := range x {
			x[i] = r.Float32()*4 - 2
		}
		for i := range y0 {
			y0[i] = r.Float32()*4 - 2
		}
		a := r.Float32()*2 - 1
		for _, path := range []string{"vector", "Go"} {
			y := append([]float32(nil), y0...)
			if path == "Go" {
				withoutAVX2(func() { AxpyRows(a, x, tc.ldx, tc.stride, y, tc.ldy, tc.rows, tc.width) })
			} else {
				AxpyRows(a, x, tc.ldx, tc.stride, y, tc.ldy, tc.rows, tc.width)
			}
			for i := range y {
				want := y0[i]
				if row, col := i/tc.ldy, i%tc.ldy; col < tc.width {
					want = y0[i] + float32(a*x[row*tc.ldx+col*tc.stride])
				}
				if math.Float32bits(y[i]) != math.Float32bits(want) {
					t.Fatalf("%s AxpyRows %+v: y[%d] = %v, want %v", path, tc, i, y[i], want)
				}
			}
		}
	}
}

// MaxRows takes x where it is greater than y (by the definition, element
// by element), on both paths, at strides 1 to 3, with NaNs on either side
// and signed zeros; x ends right after the last element read, so the
// stride-2 kernel's extra reads are bounded.
func TestMaxRows(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	val := func() float32 {
		switch r.IntN(12) {
		case 0:
			return float32(math.NaN())
		case 1:
			return float32(math.Copysign(0, -1))
		case 2:
			return 0
		}
		return float32(r.IntN(7) - 3)
	}
	for _, tc := range []struct{ rows, width, ldx, stride, ldy int }{
		{1, 1, 1, 1, 1}, {3, 8, 8, 1, 8}, {4, 16, 40, 2, 17}, {2, 13, 30, 2, 13}, {5, 24, 50, 2, 24}, {3, 9, 28, 3, 10}, {2, 56, 112, 2, 56}, {6, 31, 31, 1, 33},
	} {
		x := make([]float32, (tc.rows-1)*tc.ldx+(tc.width-1)*tc.stride+1)
		y0 := make([]float32, (tc.rows-1)*tc.ldy+tc.width)
		for i := range x {
			x[i] = val()
		}
		for i := range y0 {
			y0[i] = val()
		}
		for _, path := range []string{"vector", "Go"} {
			y := append([]float32(nil), y0...)
			if path == "Go" {
				withoutAVX2(func() { MaxRows(x, tc.ldx, tc.stride, y, tc.ldy, tc.rows, tc.width) })
			} else {
				MaxRows(x, tc.ldx, tc.stride, y, tc.ldy, tc.rows, tc.width)
			}
			for i := range y {
				want := y0[i]
				if row, col := i/tc.ldy, i%tc.ldy; col < tc.width {
					if v := x[row*tc.ldx+col*tc.stride]; v > want {
						want = v
					}
				}
				if math.Float32bits(y[i]) != math.Float32bits(want) && !(y[i] != y[i] && want != want) {
					t.Fatalf("%s MaxRows %+v: y[%d] = %v, want %v", path, tc, i, y[i], want)
				}
			}
		}
	}
}

// Erf stays within 2e-7 absolute and 5e-7 relative of math.Erf (float64)
// on both paths (1e-38 absolute for subnormal results); NaN stays NaN and
// ±Inf give ±1.
func TestErfAccuracy(t *testing.T) {
	xs := actInputs()
	for _, path := range []string{"vector", "Go"} {
		got := make([]float32, len(xs))
		if path == "Go" {
			withoutAVX2(func() { Erf(got, xs) })
		} else {
			Erf(got, xs)
		}
		worstAbs, worstRel := 0.0, 0.0
		for i, g := range got {
			x := float64(xs[i])
			if math.IsNaN(x) {
				if !math.IsNaN(float64(g)) {
					t.Fatalf("%s Erf(NaN) = %v", path, g)
				}
				continue
			}
			w := math.Erf(x)
			d := math.Abs(float64(g) - w)
			if d > 2e-7 || d > 5e-7*math.Abs(w) && d > 1e-38 {
				t.Fatalf("%s Erf(%v) = %v, want %v (error %.3g)", path, xs[i], g, w, d)
			}
			worstAbs = max(worstAbs, d)
			if d > 1e-38 {
				worstRel = max(worstRel, d/math.Abs(w))
			}
		}
		t.Logf("%s Erf: worst %.3g absolute, %.3g relative", path, worstAbs, worstRel)
	}
}

// AxpyTaps gives, on both paths, the bits of AxpyRows called once per tap
// in order (its definition), and SetTaps those from a bias, for 3x3 and 5x5 taps at dilation 1 and 2,
// row strides 1 and 2 and widths around a vector; the elements between
// rows stay alone.
func TestAxpyTaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, k := range []int{1, 3, 5} {
		for _, dil := range []int{1, 2} {
			for _, sh := range []int{1, 2} {
				for _, width := range []int{1, 7, 8, 13, 24, 32, 45, 72} {
					const rows = 5
					wp, ldy := max(40, width+8), max(30, width+5)
					var w []float32
					var offs []int
					for ky := range k {
						for kx := range k {
							w = append(w, rng.Float32()*2-1)
							offs = append(offs, ky*dil*wp+kx*dil)
						}
					}
					x := make([]float32, (rows-1)*sh*wp+offs[len(offs)-1]+width)
					for i := range x {
						x[i] = rng.Float32()*4 - 2
					}
					y0 := make([]float32, (rows-1)*ldy+width+3)
					for i := range y0 {
						y0[i] = rng.Float32()
					}
					want := append([]float32(nil), y0...)
					for ti, a := range w {
						AxpyRows(a, x[offs[ti]:], sh*wp, 1, want, ldy, rows, width)
					}
					// SetTaps: the same from a bias written over y's rows.
					const bias = 0.375
					wantSet := append([]float32(nil), y0...)
					for r := range rows {
						for i := range width {
							wantSet[r*ldy+i] = bias
						}
					}
					for ti, a := range w {
						AxpyRows(a, x[offs[ti]:], sh*wp, 1, wantSet, ldy, rows, width)
					}
					for _, path := range []string{"vector", "Go"} {
						for _, set := range []bool{false, true} {
							got, exp, name := append([]float32(nil), y0...), want, "AxpyTaps"
							f := func() { AxpyTaps(w, offs, x, sh*wp, got, ldy, rows, width) }
							if set {
								exp, name = wantSet, "SetTaps"
								f = func() { SetTaps(bias, w, offs, x, sh*wp, got, ldy, rows, width) }
							}
							if path == "Go" {
								withoutAVX2(f)
							} else {
								f()
							}
							for i := range got {
								if math.Float32bits(got[i]) != math.Float32bits(exp[i]) {
									t.Fatalf("%s %s %dx%d dil %d sh %d width %d: [%d] = %v, want %v", path, name, k, k, dil, sh, width, i, got[i], exp[i])
								}
							}
						}
					}
				}
			}
		}
	}
}
