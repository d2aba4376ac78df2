package infer

import (
	"math"
	"math/rand"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
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

// TestCumProdBitwise: CumProd's values are the spec's example ([1 2 3 4 5]
// -> [1 2 6 24 120], exclusive [1 1 2 6 24], reverse [120 120 60 20 5]);
// the bitwise ones are two's-complement arithmetic worked by hand
// (12&10 = 8, 12|10 = 14, 12^10 = 6, ^5 = -6 in int8, ^0 = 255 in uint8).
func TestCumProdBitwise(t *testing.T) {
	s := func(v ...int) []int { return v }
	x := ewF32(s(5), 1, 2, 3, 4, 5)
	ax := ewI64(nil, 0)
	ewRunCases(t, []ewCase{
		{name: "cumprod", op: "CumProd", opset: 26, in: []*tensor.Tensor{x, ax}, want: []*tensor.Tensor{ewF32(s(5), 1, 2, 6, 24, 120)}},
		{name: "cumprod exclusive", op: "CumProd", opset: 26, attrs: []*onnx.Attribute{ewInt("exclusive", 1)},
			in: []*tensor.Tensor{x, ax}, want: []*tensor.Tensor{ewF32(s(5), 1, 1, 2, 6, 24)}},
		{name: "cumprod reverse", op: "CumProd", opset: 26, attrs: []*onnx.Attribute{ewInt("reverse", 1)},
			in: []*tensor.Tensor{x, ax}, want: []*tensor.Tensor{ewF32(s(5), 120, 120, 60, 20, 5)}},
		// [[1 2] [3 4]] along axis 1 (int32 axis), reverse exclusive: [[2 1] [4 1]].
		{name: "cumprod 2d int32", op: "CumProd", opset: 26, attrs: []*onnx.Attribute{ewInt("reverse", 1), ewInt("exclusive", 1)},
			in:   []*tensor.Tensor{ewT(tensor.Int32, s(2, 2), 1, 2, 3, 4), ewT(tensor.Int32, s(1), -1)},
			want: []*tensor.Tensor{ewT(tensor.Int32, s(2, 2), 2, 1, 4, 1)}},
		{name: "cumprod bool", op: "CumProd", opset: 26, in: []*tensor.Tensor{ewBool(s(1), true), ax}, err: "unsupported dtype bool"},
		{name: "and bcast", op: "BitwiseAnd", opset: 18, in: []*tensor.Tensor{ewI64(s(2), 12, 7), ewI64(nil, 10)},
			want: []*tensor.Tensor{ewI64(s(2), 8, 2)}},
		{name: "or", op: "BitwiseOr", opset: 18, in: []*tensor.Tensor{ewT(tensor.Int32, s(1), 12), ewT(tensor.Int32, s(1), 10)},
			want: []*tensor.Tensor{ewT(tensor.Int32, s(1), 14)}},
		{name: "xor u8", op: "BitwiseXor", opset: 18, in: []*tensor.Tensor{ewT(tensor.Uint8, s(1), 12), ewT(tensor.Uint8, s(1), 10)},
			want: []*tensor.Tensor{ewT(tensor.Uint8, s(1), 6)}},
		{name: "not i8", op: "BitwiseNot", opset: 18, in: []*tensor.Tensor{ewT(tensor.Int8, s(2), 5, -1)},
			want: []*tensor.Tensor{ewT(tensor.Int8, s(2), -6, 0)}},
		{name: "not u8", op: "BitwiseNot", opset: 18, in: []*tensor.Tensor{ewT(tensor.Uint8, s(1), 0)},
			want: []*tensor.Tensor{ewT(tensor.Uint8, s(1), 255)}},
		{name: "and float", op: "BitwiseAnd", opset: 18, in: []*tensor.Tensor{ewF32(s(1), 1), ewF32(s(1), 1)}, err: "unsupported dtype float32"},
		{name: "and mixed", op: "BitwiseAnd", opset: 18, in: []*tensor.Tensor{ewI64(s(1), 1), ewT(tensor.Int32, s(1), 1)}, err: "dtypes differ"},
		{name: "and shapes", op: "BitwiseAnd", opset: 18, in: []*tensor.Tensor{ewI64(s(2), 1, 1), ewI64(s(3), 1, 1, 1)}, err: "broadcast"},
	})
}
