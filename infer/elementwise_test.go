package infer

import (
	"math"
	"math/rand"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

func TestArith(t *testing.T) {
	s := func(v ...int) []int { return v }
	ewRunCases(t, []ewCase{
		// Same shape: 1+10, 2+20, 3+30.
		{name: "add same shape", op: "Add", in: []*tensor.Tensor{ewF32(s(3), 1, 2, 3), ewF32(s(3), 10, 20, 30)},
			want: []*tensor.Tensor{ewF32(s(3), 11, 22, 33)}},
		// Scalar on the right and on the left.
		{name: "sub scalar", op: "Sub", in: []*tensor.Tensor{ewF32(s(2, 2), 1, 2, 3, 4), ewF32(nil, 1)},
			want: []*tensor.Tensor{ewF32(s(2, 2), 0, 1, 2, 3)}},
		{name: "sub scalar left", op: "Sub", in: []*tensor.Tensor{ewF32(nil, 10), ewF32(s(2), 1, 2)},
			want: []*tensor.Tensor{ewF32(s(2), 9, 8)}},
		// Per-channel bias on NCHW [1,2,2,2] + [2,1,1]: channel 0 gets +100, channel 1 gets +200.
		{name: "add per channel", op: "Add",
			in:   []*tensor.Tensor{ewF32(s(1, 2, 2, 2), 0, 1, 2, 3, 4, 5, 6, 7), ewF32(s(2, 1, 1), 100, 200)},
			want: []*tensor.Tensor{ewF32(s(1, 2, 2, 2), 100, 101, 102, 103, 204, 205, 206, 207)}},
		// Outer product shapes: [2,1]*[1,3] = [[1*1,1*2,1*3],[2*1,2*2,2*3]].
		{name: "mul outer", op: "Mul", in: []*tensor.Tensor{ewF32(s(2, 1), 1, 2), ewF32(s(1, 3), 1, 2, 3)},
			want: []*tensor.Tensor{ewF32(s(2, 3), 1, 2, 3, 2, 4, 6)}},
		// Row vector [3] broadcast over [2,3]: columns divided by 1, 2, 4.
		{name: "div row", op: "Div", in: []*tensor.Tensor{ewT(tensor.Float64, s(2, 3), 2, 4, 8, 1, 2, 3), ewT(tensor.Float64, s(3), 1, 2, 4)},
			want: []*tensor.Tensor{ewT(tensor.Float64, s(2, 3), 2, 2, 2, 1, 1, 0.75)}},
		// Float division by zero is Inf, as in IEEE arithmetic.
		{name: "div float by zero", op: "Div", in: []*tensor.Tensor{ewF32(s(2), 1, -1), ewF32(s(2), 0, 0)},
			want: []*tensor.Tensor{ewF32(s(2), math.Inf(1), math.Inf(-1))}},
		// Integer division truncates toward zero like C: 7/2=3, -7/2=-3, 7/-2=-3.
		{name: "div int64 trunc", op: "Div", in: []*tensor.Tensor{ewI64(s(3), 7, -7, 7), ewI64(s(3), 2, 2, -2)},
			want: []*tensor.Tensor{ewI64(s(3), 3, -3, -3)}},
		{name: "div int32 trunc", op: "Div", in: []*tensor.Tensor{ewT(tensor.Int32, s(2), -9, 9), ewT(tensor.Int32, nil, 4)},
			want: []*tensor.Tensor{ewT(tensor.Int32, s(2), -2, 2)}},
		{name: "div int by zero", op: "Div", in: []*tensor.Tensor{ewI64(s(2), 1, 2), ewI64(s(2), 1, 0)},
			err: "division by zero"},
		// uint8 wraps: 250+10 = 260 mod 256 = 4.
		{name: "add uint8 wraps", op: "Add", in: []*tensor.Tensor{ewT(tensor.Uint8, s(1), 250), ewT(tensor.Uint8, s(1), 10)},
			want: []*tensor.Tensor{ewT(tensor.Uint8, s(1), 4)}},
		{name: "mul int64", op: "Mul", in: []*tensor.Tensor{ewI64(s(2), 3, -4), ewI64(nil, 5)},
			want: []*tensor.Tensor{ewI64(s(2), 15, -20)}},
		{name: "empty", op: "Add", in: []*tensor.Tensor{ewF32(s(0, 3)), ewF32(s(3), 1, 2, 3)},
			want: []*tensor.Tensor{ewF32(s(0, 3))}},
		{name: "shape mismatch", op: "Add", in: []*tensor.Tensor{ewF32(s(2, 3), 1, 2, 3, 4, 5, 6), ewF32(s(2), 1, 2)},
			err: "not broadcastable"},
		{name: "dtype mismatch", op: "Mul", in: []*tensor.Tensor{ewF32(s(1), 1), ewI64(s(1), 1)},
			err: "dtypes differ"},
		{name: "bool unsupported", op: "Add", in: []*tensor.Tensor{ewBool(s(1), true), ewBool(s(1), true)},
			err: "unsupported dtype bool"},
		{name: "too few inputs", op: "Add", in: []*tensor.Tensor{ewF32(s(1), 1)},
			err: "want 2 inputs"},
	})
}

func TestPow(t *testing.T) {
	s := func(v ...int) []int { return v }
	ewRunCases(t, []ewCase{
		// 2^3=8, 3^0.5=1.7320508, 4^-1=0.25.
		{name: "float", op: "Pow", in: []*tensor.Tensor{ewF32(s(3), 2, 3, 4), ewF32(s(3), 3, 0.5, -1)},
			want: []*tensor.Tensor{ewF32(s(3), 8, 1.7320508075688772, 0.25)}},
		// x.pow(2) as PyTorch exports it: exponent a scalar.
		{name: "square", op: "Pow", in: []*tensor.Tensor{ewF32(s(2), -3, 1.5), ewF32(nil, 2)},
			want: []*tensor.Tensor{ewF32(s(2), 9, 2.25)}},
		// Opset 12+: float base, int64 exponent; output has the base's dtype.
		{name: "float int64", op: "Pow", in: []*tensor.Tensor{ewF32(s(2), 2, -2), ewI64(s(2), 3, 2)},
			want: []*tensor.Tensor{ewF32(s(2), 8, 4)}},
		// Integer power is exact: 3^39 = 4052555153018976267 (not representable in float64).
		{name: "int64 exact", op: "Pow", in: []*tensor.Tensor{ewI64(s(1), 3), ewI64(s(1), 39)},
			want: []*tensor.Tensor{{DType: tensor.Int64, Shape: s(1), I64: []int64{4052555153018976267}}}},
		// Int base, float exponent: 4^0.5 = 2, output int32.
		{name: "int32 float", op: "Pow", in: []*tensor.Tensor{ewT(tensor.Int32, s(2), 4, 9), ewF32(nil, 0.5)},
			want: []*tensor.Tensor{ewT(tensor.Int32, s(2), 2, 3)}},
		{name: "bool", op: "Pow", in: []*tensor.Tensor{ewBool(s(1), true), ewF32(s(1), 1)}, err: "unsupported"},
	})
}

func TestVariadic(t *testing.T) {
	s := func(v ...int) []int { return v }
	ewRunCases(t, []ewCase{
		// Values of test_sum_example: [3,0,2]+[1,3,4]+[2,6,6] = [6,9,12].
		{name: "sum three", op: "Sum", in: []*tensor.Tensor{ewF32(s(3), 3, 0, 2), ewF32(s(3), 1, 3, 4), ewF32(s(3), 2, 6, 6)},
			want: []*tensor.Tensor{ewF32(s(3), 6, 9, 12)}},
		{name: "sum one", op: "Sum", in: []*tensor.Tensor{ewF32(s(2), 1, 2)}, want: []*tensor.Tensor{ewF32(s(2), 1, 2)}},
		// Broadcast [2,1] with [3]: max of column [1,5] against row [2,3,4].
		{name: "max bcast", op: "Max", in: []*tensor.Tensor{ewF32(s(2, 1), 1, 5), ewF32(s(3), 2, 3, 4)},
			want: []*tensor.Tensor{ewF32(s(2, 3), 2, 3, 4, 5, 5, 5)}},
		// The scalar comes first: the result still takes the full shape.
		{name: "min scalar first", op: "Min", in: []*tensor.Tensor{ewI64(nil, 2), ewI64(s(3), 1, 2, 3), ewI64(s(3), 0, 5, 5)},
			want: []*tensor.Tensor{ewI64(s(3), 0, 2, 2)}},
		{name: "max nan", op: "Max", in: []*tensor.Tensor{ewF32(s(2), math.NaN(), 1), ewF32(s(2), 1, 2)},
			want: []*tensor.Tensor{ewF32(s(2), math.NaN(), 2)}},
		{name: "mixed dtypes", op: "Sum", in: []*tensor.Tensor{ewF32(s(1), 1), ewI64(s(1), 1)}, err: "dtypes differ"},
	})
}

func TestCompareWhere(t *testing.T) {
	s := func(v ...int) []int { return v }
	b := func(v ...bool) *tensor.Tensor { return ewBool(s(len(v)), v...) }
	ewRunCases(t, []ewCase{
		{name: "equal", op: "Equal", in: []*tensor.Tensor{ewI64(s(3), 1, 2, 3), ewI64(s(3), 1, 0, 3)},
			want: []*tensor.Tensor{b(true, false, true)}},
		{name: "equal bool", op: "Equal", in: []*tensor.Tensor{b(true, false), b(true, true)},
			want: []*tensor.Tensor{b(true, false)}},
		{name: "less bcast", op: "Less", in: []*tensor.Tensor{ewF32(s(3), 1, 2, 3), ewF32(nil, 2)},
			want: []*tensor.Tensor{b(true, false, false)}},
		{name: "greater", op: "Greater", in: []*tensor.Tensor{ewF32(s(3), 1, 2, 3), ewF32(nil, 2)},
			want: []*tensor.Tensor{b(false, false, true)}},
		{name: "less or equal", op: "LessOrEqual", in: []*tensor.Tensor{ewF32(s(3), 1, 2, 3), ewF32(nil, 2)},
			want: []*tensor.Tensor{b(true, true, false)}},
		{name: "greater or equal", op: "GreaterOrEqual", in: []*tensor.Tensor{ewF32(s(3), 1, 2, 3), ewF32(nil, 2)},
			want: []*tensor.Tensor{b(false, true, true)}},
		{name: "less bool", op: "Less", in: []*tensor.Tensor{b(true), b(false)}, err: "unsupported dtype bool"},
		// Where with all three broadcast: cond [2,1], x [2], y scalar.
		{name: "where", op: "Where", in: []*tensor.Tensor{ewBool(s(2, 1), true, false), ewF32(s(2), 1, 2), ewF32(nil, 9)},
			want: []*tensor.Tensor{ewF32(s(2, 2), 1, 2, 9, 9)}},
		{name: "where int64", op: "Where", in: []*tensor.Tensor{b(false, true), ewI64(s(2), 1, 2), ewI64(s(2), 3, 4)},
			want: []*tensor.Tensor{ewI64(s(2), 3, 2)}},
		{name: "where cond not bool", op: "Where", in: []*tensor.Tensor{ewF32(s(1), 1), ewF32(s(1), 1), ewF32(s(1), 1)},
			err: "condition"},
	})
}

func TestCast(t *testing.T) {
	s := func(v ...int) []int { return v }
	to := func(code int64) []*onnx.Attribute { return []*onnx.Attribute{ewInt("to", code)} }
	ewRunCases(t, []ewCase{
		// Float to int truncates toward zero: 1.9 -> 1, -1.9 -> -1.
		{name: "f32 to i64", op: "Cast", attrs: to(7), in: []*tensor.Tensor{ewF32(s(3), 1.9, -1.9, 0)},
			want: []*tensor.Tensor{ewI64(s(3), 1, -1, 0)}},
		{name: "i64 to f32", op: "Cast", attrs: to(1), in: []*tensor.Tensor{ewI64(s(2), 3, -4)},
			want: []*tensor.Tensor{ewF32(s(2), 3, -4)}},
		{name: "f32 to f64", op: "Cast", attrs: to(11), in: []*tensor.Tensor{ewF32(s(1), 0.5)},
			want: []*tensor.Tensor{ewT(tensor.Float64, s(1), 0.5)}},
		// Nonzero is true, NaN included.
		{name: "f32 to bool", op: "Cast", attrs: to(9), in: []*tensor.Tensor{ewF32(s(3), 0, -2, math.NaN())},
			want: []*tensor.Tensor{ewBool(s(3), false, true, true)}},
		{name: "bool to i32", op: "Cast", attrs: to(6), in: []*tensor.Tensor{ewBool(s(2), true, false)},
			want: []*tensor.Tensor{ewT(tensor.Int32, s(2), 1, 0)}},
		// int64 300 to uint8 wraps to 44, -1 to int8 stays -1, to uint8 is 255.
		{name: "i64 to u8", op: "Cast", attrs: to(2), in: []*tensor.Tensor{ewI64(s(2), 300, -1)},
			want: []*tensor.Tensor{ewT(tensor.Uint8, s(2), 44, 255)}},
		{name: "i64 to i8", op: "Cast", attrs: to(3), in: []*tensor.Tensor{ewI64(s(1), -1)},
			want: []*tensor.Tensor{ewT(tensor.Int8, s(1), -1)}},
		{name: "saturate ignored", op: "Cast", opset: 19, attrs: []*onnx.Attribute{ewInt("to", 1), ewInt("saturate", 0)},
			in: []*tensor.Tensor{ewI64(s(1), 2)}, want: []*tensor.Tensor{ewF32(s(1), 2)}},
		{name: "to complex64", op: "Cast", attrs: to(14), in: []*tensor.Tensor{ewF32(s(1), 1)}, err: "unsupported target type 14"},
		{name: "no to", op: "Cast", in: []*tensor.Tensor{ewF32(s(1), 1)}, err: `"to" is required`},
	})
}

// TestCastLike: the conversions are Cast's (values as in TestCast, which
// follow the spec's Cast rules and the node suite's test_cast_* cases); the
// target type comes from the second input, whose values are ignored.
func TestCastLike(t *testing.T) {
	s := func(v ...int) []int { return v }
	ewRunCases(t, []ewCase{
		{name: "f32 like i64", op: "CastLike", opset: 15, in: []*tensor.Tensor{ewF32(s(3), 1.9, -1.9, 0), ewI64(s(1), 5)},
			want: []*tensor.Tensor{ewI64(s(3), 1, -1, 0)}},
		{name: "i64 like f64", op: "CastLike", opset: 21, in: []*tensor.Tensor{ewI64(s(2), 3, -4), ewT(tensor.Float64, s(0))},
			want: []*tensor.Tensor{ewT(tensor.Float64, s(2), 3, -4)}},
		{name: "i64 like u8", op: "CastLike", opset: 19, attrs: []*onnx.Attribute{ewInt("saturate", 0)},
			in: []*tensor.Tensor{ewI64(s(2), 300, -1), ewT(tensor.Uint8, s(1), 0)}, want: []*tensor.Tensor{ewT(tensor.Uint8, s(2), 44, 255)}},
		{name: "f32 like bool", op: "CastLike", opset: 15, in: []*tensor.Tensor{ewF32(s(2), 0, -2), ewBool(s(1), false)},
			want: []*tensor.Tensor{ewBool(s(2), false, true)}},
		{name: "one input", op: "CastLike", opset: 15, in: []*tensor.Tensor{ewF32(s(1), 1)}, err: "input"},
	})
}

func TestReduce(t *testing.T) {
	s := func(v ...int) []int { return v }
	// x is [2,2,3]: 1..12.
	x := ewF32(s(2, 2, 3), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
	ewRunCases(t, []ewCase{
		// Sum over axis 1: [1+4, 2+5, 3+6, 7+10, 8+11, 9+12].
		{name: "sum axes attr", op: "ReduceSum", opset: 11, attrs: []*onnx.Attribute{ewInts("axes", 1)}, in: []*tensor.Tensor{x},
			want: []*tensor.Tensor{ewF32(s(2, 1, 3), 5, 7, 9, 17, 19, 21)}},
		{name: "sum axes input", op: "ReduceSum", opset: 13, attrs: []*onnx.Attribute{ewInt("keepdims", 0)},
			in:   []*tensor.Tensor{x, ewI64(s(1), -1)},
			want: []*tensor.Tensor{ewF32(s(2, 2), 6, 15, 24, 33)}},
		// All axes: 1+...+12 = 78.
		{name: "sum all", op: "ReduceSum", opset: 13, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{ewF32(s(1, 1, 1), 78)}},
		{name: "sum noop", op: "ReduceSum", opset: 13, attrs: []*onnx.Attribute{ewInt("noop_with_empty_axes", 1)},
			in: []*tensor.Tensor{x, ewI64(s(0))}, want: []*tensor.Tensor{x}},
		// Mean over axes 0 and 2: (1+2+3+7+8+9)/6 = 5, (4+5+6+10+11+12)/6 = 8.
		{name: "mean", op: "ReduceMean", opset: 13, attrs: []*onnx.Attribute{ewInts("axes", 0, 2), ewInt("keepdims", 0)},
			in: []*tensor.Tensor{x}, want: []*tensor.Tensor{ewF32(s(2), 5, 8)}},
		{name: "mean input", op: "ReduceMean", opset: 18, in: []*tensor.Tensor{x, ewI64(s(1), 0)},
			want: []*tensor.Tensor{ewF32(s(1, 2, 3), 4, 5, 6, 7, 8, 9)}},
		// int64 mean truncates: (1+2)/2 = 1.
		{name: "mean int64", op: "ReduceMean", opset: 13, in: []*tensor.Tensor{ewI64(s(2), 1, 2)},
			want: []*tensor.Tensor{ewI64(s(1), 1)}},
		// Sum over an empty axis is 0 (test_reduce_sum_empty_set).
		{name: "sum empty", op: "ReduceSum", opset: 13, in: []*tensor.Tensor{ewF32(s(2, 0, 4)), ewI64(s(1), 1)},
			want: []*tensor.Tensor{ewF32(s(2, 1, 4), 0, 0, 0, 0, 0, 0, 0, 0)}},
		{name: "repeated axis", op: "ReduceSum", opset: 11, attrs: []*onnx.Attribute{ewInts("axes", 1, -2)}, in: []*tensor.Tensor{x},
			err: "repeated"},
		{name: "axis range", op: "ReduceSum", opset: 13, in: []*tensor.Tensor{x, ewI64(s(1), 3)}, err: "out of range"},
	})
}

// Pow(x, 2) on float32 squares in float32; the values are those of
// math.Pow in float64 rounded to float32, bit for bit (the exact square of
// a float32 fits a float64), over random bit patterns and special values,
// with the exponent as float32, int64 and a [1,1] tensor.
func TestPowSquare(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	xs := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-45, 3e38, float32(math.Inf(-1)), float32(math.NaN())}
	for range 5000 {
		xs = append(xs, math.Float32frombits(r.Uint32()))
	}
	x := tensor.FromFloat32(xs, len(xs))
	for _, e := range []*tensor.Tensor{tensor.FromFloat32([]float32{2}), ewI64(nil, 2), tensor.FromFloat32([]float32{2}, 1, 1)} {
		got, err := runOp("Pow", 13, nil, 1, x, e)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range xs {
			want := float32(math.Pow(float64(v), 2))
			if g := got[0].F32[i]; math.Float32bits(g) != math.Float32bits(want) && !(g != g && want != want) {
				t.Fatalf("Pow(%v, %v) = %v, want %v", v, e, g, want)
			}
		}
		if e.Rank() == 2 && (got[0].Rank() != 2 || got[0].Shape[0] != 1) {
			t.Errorf("Pow(x [%d], [1,1]) has shape %v, want [1 %d]", len(xs), got[0].Shape, len(xs))
		}
	}
}
