package infer

import (
	"math"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

func TestUnary(t *testing.T) {
	s := func(v ...int) []int { return v }
	x := ewF32(s(4), -2, -0.5, 0, 3)
	one := func(op string, want ...float64) ewCase {
		return ewCase{name: op, op: op, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{ewF32(s(4), want...)}}
	}
	ewRunCases(t, []ewCase{
		one("Relu", 0, 0, 0, 3),
		one("Neg", 2, 0.5, 0, -3),
		one("Abs", 2, 0.5, 0, 3),
		// tanh(-2) = -0.9640275800758169, tanh(-0.5) = -0.46211715726000974, tanh(3) = 0.9950547536867305.
		one("Tanh", -0.9640275800758169, -0.46211715726000974, 0, 0.9950547536867305),
		// 1/(1+e^2) = 0.11920292202211755, 1/(1+e^0.5) = 0.3775406687981454, 1/(1+e^-3) = 0.9525741268224334.
		one("Sigmoid", 0.11920292202211755, 0.3775406687981454, 0.5, 0.9525741268224334),
		// e^-2 = 0.1353352832366127, e^-0.5 = 0.6065306597126334, e^3 = 20.085536923187668.
		one("Exp", 0.1353352832366127, 0.6065306597126334, 1, 20.085536923187668),
		// erf(-2) = -0.9953222650189527, erf(-0.5) = -0.5204998778130465, erf(3) = 0.9999779095030014.
		one("Erf", -0.9953222650189527, -0.5204998778130465, 0, 0.9999779095030014),
		// Default alpha 0.01: -2*0.01, -0.5*0.01.
		one("LeakyRelu", -0.02, -0.005, 0, 3),
		{name: "LeakyRelu alpha", op: "LeakyRelu", attrs: []*onnx.Attribute{ewFloat("alpha", 0.5)},
			in: []*tensor.Tensor{x}, want: []*tensor.Tensor{ewF32(s(4), -1, -0.25, 0, 3)}},
		// log(-1) is NaN, log(0) is -Inf, log(e) = 1.
		{name: "Log", op: "Log", in: []*tensor.Tensor{ewF32(s(3), -1, 0, math.E)},
			want: []*tensor.Tensor{ewF32(s(3), math.NaN(), math.Inf(-1), 1)}},
		{name: "Sqrt", op: "Sqrt", in: []*tensor.Tensor{ewT(tensor.Float64, s(3), 4, 2, -1)},
			want: []*tensor.Tensor{ewT(tensor.Float64, s(3), 2, math.Sqrt2, math.NaN())}},
		// Sigmoid of large magnitudes saturates without NaN.
		{name: "Sigmoid extreme", op: "Sigmoid", in: []*tensor.Tensor{ewF32(s(2), -1000, 1000)},
			want: []*tensor.Tensor{ewF32(s(2), 0, 1)}},
		{name: "Relu NaN", op: "Relu", in: []*tensor.Tensor{ewF32(s(1), math.NaN())},
			want: []*tensor.Tensor{ewF32(s(1), math.NaN())}},
		{name: "Relu int64", op: "Relu", in: []*tensor.Tensor{ewI64(s(2), -3, 4)},
			want: []*tensor.Tensor{ewI64(s(2), 0, 4)}},
		{name: "Neg int8", op: "Neg", in: []*tensor.Tensor{ewT(tensor.Int8, s(2), -3, 4)},
			want: []*tensor.Tensor{ewT(tensor.Int8, s(2), 3, -4)}},
		{name: "Abs int32", op: "Abs", in: []*tensor.Tensor{ewT(tensor.Int32, s(2), -3, 4)},
			want: []*tensor.Tensor{ewT(tensor.Int32, s(2), 3, 4)}},
		{name: "Tanh int", op: "Tanh", in: []*tensor.Tensor{ewI64(s(1), 1)}, err: "unsupported dtype int64"},
		{name: "Relu bool", op: "Relu", in: []*tensor.Tensor{ewBool(s(1), true)}, err: "unsupported dtype bool"},
	})
}

func TestClip(t *testing.T) {
	s := func(v ...int) []int { return v }
	x := ewF32(s(5), -3, -1, 0, 1, 3)
	ewRunCases(t, []ewCase{
		// Opset 6: bounds as attributes.
		{name: "attrs", op: "Clip", opset: 6, attrs: []*onnx.Attribute{ewFloat("min", -1), ewFloat("max", 2)},
			in: []*tensor.Tensor{x}, want: []*tensor.Tensor{ewF32(s(5), -1, -1, 0, 1, 2)}},
		{name: "attrs min only", op: "Clip", opset: 6, attrs: []*onnx.Attribute{ewFloat("min", 0)},
			in: []*tensor.Tensor{x}, want: []*tensor.Tensor{ewF32(s(5), 0, 0, 0, 1, 3)}},
		// Opset 11: bounds as inputs, either may be absent.
		{name: "inputs", op: "Clip", opset: 11, in: []*tensor.Tensor{x, ewF32(nil, -1), ewF32(nil, 2)},
			want: []*tensor.Tensor{ewF32(s(5), -1, -1, 0, 1, 2)}},
		{name: "max only", op: "Clip", opset: 13, in: []*tensor.Tensor{x, nil, ewF32(nil, 0)},
			want: []*tensor.Tensor{ewF32(s(5), -3, -1, 0, 0, 0)}},
		{name: "no bounds", op: "Clip", opset: 13, in: []*tensor.Tensor{x}, want: []*tensor.Tensor{x}},
		// min > max: every element becomes max (Operators.md, Clip-13).
		{name: "min greater than max", op: "Clip", opset: 13, in: []*tensor.Tensor{x, ewF32(nil, 2), ewF32(nil, 1)},
			want: []*tensor.Tensor{ewF32(s(5), 1, 1, 1, 1, 1)}},
		// int8 with only a min: the default max is 127.
		{name: "int8", op: "Clip", opset: 13, in: []*tensor.Tensor{ewT(tensor.Int8, s(3), -128, 0, 127), ewT(tensor.Int8, nil, -5)},
			want: []*tensor.Tensor{ewT(tensor.Int8, s(3), -5, 0, 127)}},
		{name: "bound dtype", op: "Clip", opset: 13, in: []*tensor.Tensor{x, ewT(tensor.Float64, nil, 0)}, err: "want a float32 scalar"},
		{name: "bound not scalar", op: "Clip", opset: 13, in: []*tensor.Tensor{x, ewF32(s(2), 0, 1)}, err: "want a float32 scalar"},
		{name: "int at opset 6", op: "Clip", opset: 6, in: []*tensor.Tensor{ewI64(s(1), 1)}, err: "unsupported dtype"},
	})
}

func TestSoftmax(t *testing.T) {
	s := func(v ...int) []int { return v }
	// Softmax of [1,2,3]: e^k/(e+e^2+e^3) = 0.09003057, 0.24472847, 0.66524096;
	// of [0,0]: 0.5, 0.5; log-softmax of [1,2,3] is k - 3.40760596 (log(e+e^2+e^3)).
	const a, b, c = 0.09003057317038046, 0.24472847105479767, 0.6652409557748219
	const lse = 3.40760596444438
	// x is [2,1,2]: pairs (1,2) and (1,3) - chosen so the two semantics differ.
	x := ewF32(s(2, 1, 2), 1, 2, 1, 3)
	// Softmax of (1,2): 0.26894142, 0.73105858; of (1,3): 0.11920292, 0.88079708.
	const p1, p2, q1, q2 = 0.2689414213699951, 0.7310585786300049, 0.11920292202211755, 0.8807970779778823
	ewRunCases(t, []ewCase{
		{name: "default axis 13", op: "Softmax", opset: 13, in: []*tensor.Tensor{ewF32(s(2, 3), 1, 2, 3, 0, 0, 0)},
			want: []*tensor.Tensor{ewF32(s(2, 3), a, b, c, 1.0/3, 1.0/3, 1.0/3)}},
		{name: "default axis 11", op: "Softmax", opset: 11, in: []*tensor.Tensor{ewF32(s(2, 3), 1, 2, 3, 0, 0, 0)},
			want: []*tensor.Tensor{ewF32(s(2, 3), a, b, c, 1.0/3, 1.0/3, 1.0/3)}},
		// Opset 13, axis -1 on [2,1,2]: each pair separately.
		{name: "3d opset 13", op: "Softmax", opset: 13, in: []*tensor.Tensor{x},
			want: []*tensor.Tensor{ewF32(s(2, 1, 2), p1, p2, q1, q2)}},
		// Opset 13, axis 0: over (1,1) and (2,3) by position: 0.5,0.5 and 0.26894142,0.73105858.
		{name: "axis 0 opset 13", op: "Softmax", opset: 13, attrs: []*onnx.Attribute{ewInt("axis", 0)}, in: []*tensor.Tensor{x},
			want: []*tensor.Tensor{ewF32(s(2, 1, 2), 0.5, p1, 0.5, p2)}},
		// Opset 11, default axis 1: coerced to [2, 2], the same rows as opset 13 axis -1 here.
		{name: "3d opset 11", op: "Softmax", opset: 11, in: []*tensor.Tensor{x},
			want: []*tensor.Tensor{ewF32(s(2, 1, 2), p1, p2, q1, q2)}},
		// Opset 11, axis 0: coerced to [1, 4], normalized over all four:
		// e^k / (2e + e^2 + e^3) with 2e+e^2+e^3 = 32.91115667903641 (computed with Python's math.exp).
		{name: "axis 0 opset 11", op: "Softmax", opset: 11, attrs: []*onnx.Attribute{ewInt("axis", 0)}, in: []*tensor.Tensor{x},
			want: []*tensor.Tensor{ewF32(s(2, 1, 2), 0.08259453944353537, 0.22451523569930606, 0.08259453944353537, 0.6102956854136232)}},
		{name: "log", op: "LogSoftmax", opset: 13, in: []*tensor.Tensor{ewF32(s(3), 1, 2, 3)},
			want: []*tensor.Tensor{ewF32(s(3), 1-lse, 2-lse, 3-lse)}},
		// Large inputs do not overflow: softmax of (1000, 1000) is (0.5, 0.5).
		{name: "large", op: "Softmax", opset: 13, in: []*tensor.Tensor{ewF32(s(2), 1000, 1000)},
			want: []*tensor.Tensor{ewF32(s(2), 0.5, 0.5)}},
		{name: "log large", op: "LogSoftmax", opset: 13, in: []*tensor.Tensor{ewF32(s(2), 1000, 1000)},
			want: []*tensor.Tensor{ewF32(s(2), -math.Ln2, -math.Ln2)}},
		{name: "axis out of range", op: "Softmax", opset: 13, attrs: []*onnx.Attribute{ewInt("axis", 2)},
			in: []*tensor.Tensor{ewF32(s(2), 1, 2)}, err: "out of range"},
		{name: "int", op: "Softmax", opset: 13, in: []*tensor.Tensor{ewI64(s(2), 1, 2)}, err: "unsupported dtype"},
	})
}
