package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// vecLens covers the empty slice, the scalar tails on both sides of each
// vector width (4, 8, 32) and a few long slices.
var vecLens = []int{0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 31, 32, 33, 39, 40, 63, 64, 65, 100, 1027}

// bothPaths runs f with the SIMD kernels (when built) and the plain Go
// ones, naming each.
func bothPaths(t *testing.T, f func(t *testing.T, path string)) {
	t.Helper()
	if HasAVX2 {
		f(t, "AVX2")
	}
	withoutAVX2(func() { f(t, "Go") })
}

func TestDot(t *testing.T) {
	bothPaths(t, func(t *testing.T, path string) {
		r := rand.New(rand.NewPCG(1, 1))
		for _, n := range vecLens {
			for _, off := range []int{0, 1} { // unaligned starts too
				x, y := randSlice(r, n+off)[off:], randSlice(r, n+off+2)[off:]
				var want float64
				for i := range x {
					want += float64(x[i]) * float64(y[i])
				}
				// n products of values in [-1, 1], summed in float32.
				if got := Dot(x, y); math.Abs(float64(got)-want) > 1e-6*float64(n+1) {
					t.Errorf("%s: Dot(len %d) = %v, want %v", path, n, got, want)
				}
			}
		}
	})
}

func TestAxpyScaleAddConst(t *testing.T) {
	bothPaths(t, func(t *testing.T, path string) {
		r := rand.New(rand.NewPCG(2, 2))
		for _, n := range vecLens {
			x, y := randSlice(r, n+1)[1:], randSlice(r, n+3) // y longer than x: its tail stays
			const a = -1.75
			want := append([]float32(nil), y...)
			for i := range x {
				// In float64 then rounded: what a fused multiply-add gives.
				want[i] = float32(float64(want[i]) + a*float64(x[i]))
			}
			got := append([]float32(nil), y...)
			Axpy(a, x, got)
			for i := range got {
				// The Go path rounds a*x before adding: within 1 ulp.
				if d := math.Abs(float64(got[i] - want[i])); d > 2.5e-7 {
					t.Fatalf("%s: Axpy(len %d): y[%d] = %v, want %v", path, n, i, got[i], want[i])
				}
			}

			got = append([]float32(nil), x...)
			Scale(a, got)
			for i := range got {
				if w := a * x[i]; got[i] != w {
					t.Fatalf("%s: Scale(len %d): x[%d] = %v, want %v", path, n, i, got[i], w)
				}
			}
			got = append([]float32(nil), x...)
			AddConst(a, got)
			for i := range got {
				if w := a + x[i]; got[i] != w {
					t.Fatalf("%s: AddConst(len %d): x[%d] = %v, want %v", path, n, i, got[i], w)
				}
			}
		}
	})
}

func TestAddBias(t *testing.T) {
	bothPaths(t, func(t *testing.T, path string) {
		r := rand.New(rand.NewPCG(3, 3))
		for _, s := range [][3]int{{1, 10, 1}, {7, 120, 1}, {3, 6, 784}, {2, 5, 9}, {4, 1, 1}, {0, 3, 2}} {
			outer, nb, inner := s[0], s[1], s[2]
			bias, y := randSlice(r, nb), randSlice(r, outer*nb*inner)
			got := append([]float32(nil), y...)
			AddBias(got, bias, inner)
			for i := range got {
				if w := y[i] + bias[i/inner%nb]; got[i] != w {
					t.Fatalf("%s: AddBias(%d x %d x %d): y[%d] = %v, want %v", path, outer, nb, inner, i, got[i], w)
				}
			}
		}
	})
	defer func() {
		if recover() == nil {
			t.Error("AddBias(len 10, len 3, 1): no panic")
		}
	}()
	AddBias(make([]float32, 10), make([]float32, 3), 1)
}

// Exp is within 1 ulp of math.Exp (in float64) wherever the result is a
// normal float32, and within half the smallest subnormal elsewhere.
func TestExp(t *testing.T) {
	var xs []float32
	for x := -110.0; x <= 95; x += 0.00917 {
		xs = append(xs, float32(x))
	}
	for x := -1e-3; x <= 1e-3; x += 1.3e-6 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 1e-40, 88.72283, 88.72284, -87.33654, -103.27893, -103.97208,
		-104, -105, 89, 1000, -1000, float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, -math.MaxFloat32)
	for len(xs)%4 != 3 { // the scalar tail too
		xs = append(xs, 1)
	}
	bothPaths(t, func(t *testing.T, path string) {
		got := make([]float32, len(xs))
		Exp(got, xs)
		for i, g := range got {
			want := math.Exp(float64(xs[i]))
			ulp := math.Max(want*math.Pow(2, -23), 0x1p-149/2)
			if float32(want) > math.MaxFloat32 { // overflow: +Inf
				ulp = math.Inf(1)
				if !math.IsInf(float64(g), 1) {
					t.Fatalf("%s: Exp(%v) = %v, want +Inf", path, xs[i], g)
				}
			}
			if d := math.Abs(float64(g) - want); d > ulp {
				t.Fatalf("%s: Exp(%v) = %v, want %v (error %.3g ulp)", path, xs[i], g, want, d/ulp)
			}
		}
		nan := []float32{1, 2, 3, float32(math.NaN()), 5, 6, 7, float32(math.NaN()), 9}
		Exp(nan, nan)
		for i, v := range nan {
			if isNaN := math.IsNaN(float64(v)); isNaN != (i == 3 || i == 7) {
				t.Errorf("%s: Exp with NaN in lanes 3 and 7: [%d] = %v", path, i, v)
			}
		}
	})
}

// The AVX2 Exp agrees with the scalar one except in rare near-ties.
func TestExpPaths(t *testing.T) {
	if !HasAVX2 {
		t.Skip("no AVX2 kernel in this build")
	}
	r := rand.New(rand.NewPCG(5, 5))
	xs := make([]float32, 1<<16)
	for i := range xs {
		xs[i] = r.Float32()*180 - 95
	}
	a, b := make([]float32, len(xs)), make([]float32, len(xs))
	Exp(a, xs)
	withoutAVX2(func() { Exp(b, xs) })
	diff := 0
	for i := range a {
		if a[i] != b[i] {
			diff++
			if d := math.Abs(float64(a[i]-b[i])) / float64(b[i]); d > 1.2e-7 {
				t.Fatalf("Exp(%v) = %v with AVX2, %v without", xs[i], a[i], b[i])
			}
		}
	}
	if diff > len(xs)/1000 {
		t.Errorf("AVX2 and Go Exp differ in %d of %d values, want at most 0.1%%", diff, len(xs))
	}
}

func BenchmarkExp(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(i)/256 - 8
	}
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		Exp(y, x)
	}
}

// TestReluMax4 compares Relu, TanhGrad, AvgPool2 and Max4 with their scalar definitions on
// values with ties, signed zeros and NaNs, at lengths that leave tails.
func TestReluMax4(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	pick := func() float32 {
		switch r.IntN(10) {
		case 0:
			return float32(math.NaN())
		case 1:
			return float32(math.Copysign(0, -1))
		case 2:
			return 0
		}
		return float32(r.IntN(7) - 3)
	}
	same := func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }
	for _, n := range []int{0, 1, 7, 8, 27, 64, 101} {
		src := make([]float32, n)
		ins := [4][]float32{make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)}
		for i := range src {
			src[i] = pick()
			for k := range ins {
				ins[k][i] = pick()
			}
		}
		got := make([]float32, n)
		grad := make([]float32, n)
		TanhGrad(grad, ins[0], ins[1])
		for i := range grad {
			if want := ins[0][i] * (1 - float32(ins[1][i]*ins[1][i])); !same(grad[i], want) && !(grad[i] != grad[i] && want != want) {
				t.Fatalf("n=%d: TanhGrad(%v, %v) = %v, want %v", n, ins[0][i], ins[1][i], grad[i], want)
			}
		}
		Relu(got, src)
		for i, v := range src {
			want := v
			if v < 0 {
				want = 0
			}
			if !same(got[i], want) {
				t.Fatalf("n=%d: Relu(%v) = %v, want %v", n, v, got[i], want)
			}
		}
		if n > 0 {
			half := make([]float32, n/2)
			AvgPool2(half, ins[0], ins[1])
			for j := range half {
				var s float64
				for _, v := range []float32{ins[0][2*j], ins[0][2*j+1], ins[1][2*j], ins[1][2*j+1]} {
					s += float64(v)
				}
				if want := float32(s / 4); !same(half[j], want) {
					t.Fatalf("n=%d: AvgPool2 element %d = %v, want %v", n, j, half[j], want)
				}
			}
		}
		negZero := float32(math.Copysign(0, -1))
		zeros := []float32{negZero, negZero, negZero, negZero, negZero, negZero, negZero, negZero}
		quad := make([]float32, 4)
		AvgPool2(quad, zeros, zeros)
		if math.Float32bits(quad[0]) != 0 {
			t.Fatalf("AvgPool2 of -0s = %v, want +0 (a sum started at 0)", quad[0])
		}
		Max4(got, ins[0], ins[1], ins[2], ins[3])
		for i := range got {
			m := ins[0][i]
			for _, x := range ins[1:] {
				if x[i] > m {
					m = x[i]
				}
			}
			if !same(got[i], m) {
				t.Fatalf("n=%d: Max4(%v, %v, %v, %v) = %v, want %v", n, ins[0][i], ins[1][i], ins[2][i], ins[3][i], got[i], m)
			}
		}
	}
}

// TestSum checks Sum against a float64 sum.
func TestSum(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{0, 1, 7, 8, 9, 100, 1003} {
		x := make([]float32, n)
		var want float64
		for i := range x {
			x[i] = r.Float32()*2 - 1
			want += float64(x[i])
		}
		if got := Sum(x); math.Abs(float64(got)-want) > 1e-5*float64(n+1) {
			t.Errorf("Sum of %d values = %v, want %v", n, got, want)
		}
	}
}

// TestAdam checks that Adam's vector path rounds exactly as the scalar
// loop does.
func TestAdam(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	k := AdamConsts{B1: 0.9, B2: 0.999, C1: 0.1, C2: 0.001, BC2Sqrt: 0.0447, Eps: 1e-8, NegStep: -0.00344}
	for _, n := range []int{1, 8, 37, 100} {
		w, g, m, v := randSlice(r, n), randSlice(r, n), randSlice(r, n), randSlice(r, n)
		for i := range v {
			v[i] *= v[i] // second moments are not negative
		}
		w2, m2, v2 := append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)
		Adam(w, g, m, v, k)
		for j := range w2 {
			m2[j] = float32(m2[j]*k.B1) + float32(k.C1*g[j])
			v2[j] = float32(v2[j]*k.B2) + float32(k.C2*float32(g[j]*g[j]))
			denom := float32(math.Sqrt(float64(v2[j])))/k.BC2Sqrt + k.Eps
			w2[j] += k.NegStep * (m2[j] / denom)
			if w[j] != w2[j] || m[j] != m2[j] || v[j] != v2[j] {
				t.Fatalf("n=%d element %d: w, m, v = %v %v %v, scalar %v %v %v", n, j, w[j], m[j], v[j], w2[j], m2[j], v2[j])
			}
		}
	}
}

// TestPool2Rows checks MaxPool2Rows and AvgPool2Rows against Max4 and
// AvgPool2 row by row, bit for bit, with the vector kernels and without,
// for widths around the vector sizes, row steps of 1 and 2 rows, and NaN
// and -0 inputs.
func TestPool2Rows(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, width := range []int{1, 3, 4, 5, 7, 8, 9, 14, 16, 27, 33} {
		for _, rows := range []int{1, 2, 5} {
			for _, rowStep := range []int{1, 2} {
				ld := 2*width + 3
				src := randSlice(r, (rows*rowStep+2)*ld)
				src[5], src[ld+2] = float32(math.NaN()), float32(math.Copysign(0, -1))
				step := rowStep * ld
				wantMax, wantAvg := make([]float32, rows*width), make([]float32, rows*width)
				for i := range rows {
					o := i * step
					Max4(wantMax[i*width:(i+1)*width], src[o:], src[o+1:], src[o+ld:], src[o+ld+1:])
					AvgPool2(wantAvg[i*width:(i+1)*width], src[o:], src[o+ld:])
				}
				for _, vec := range []bool{true, false} {
					gotMax, gotAvg := make([]float32, rows*width), make([]float32, rows*width)
					run := func() {
						MaxPool2Rows(gotMax, src, rows, width, ld, step)
						AvgPool2Rows(gotAvg, src, rows, width, ld, step)
					}
					if vec {
						run()
					} else {
						withoutAVX2(run)
					}
					for i := range gotMax {
						if math.Float32bits(gotMax[i]) != math.Float32bits(wantMax[i]) || math.Float32bits(gotAvg[i]) != math.Float32bits(wantAvg[i]) {
							t.Fatalf("width %d rows %d step %d vector %v: element %d: max %v avg %v, row by row %v %v",
								width, rows, step, vec, i, gotMax[i], gotAvg[i], wantMax[i], wantAvg[i])
						}
					}
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MaxPool2Rows with src too short: no panic")
		}
	}()
	MaxPool2Rows(make([]float32, 16), make([]float32, 20), 2, 8, 9, 9)
}
