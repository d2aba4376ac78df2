package infer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Tests of the op versions before opset 7: the legacy broadcast and axis
// attributes, is_test, consumed_inputs, and attributes that later became
// inputs. Expected values are computed by hand in each case's comment.

func TestLegacyBroadcastShape(t *testing.T) {
	s := func(v ...int) []int { return v }
	tests := []struct {
		name      string
		l         legacyBcast
		a, b      []int
		want      []int // B aligned for numpy broadcasting; nil: error
		wantError bool
	}{
		// The examples of Add-6's description, with A = (2, 3, 4, 5).
		{"scalar", legacyBcast{broadcast: true}, s(2, 3, 4, 5), s(), s(), false},
		{"one element (1,1)", legacyBcast{broadcast: true}, s(2, 3, 4, 5), s(1, 1), s(), false},
		{"suffix (5)", legacyBcast{broadcast: true}, s(2, 3, 4, 5), s(5), s(5), false},
		{"suffix (4,5)", legacyBcast{broadcast: true}, s(2, 3, 4, 5), s(4, 5), s(4, 5), false},
		// (3,4) from axis 1: followed by a 1 for A's last axis.
		{"axis 1", legacyBcast{broadcast: true, hasAxis: true, axis: 1}, s(2, 3, 4, 5), s(3, 4), s(3, 4, 1), false},
		{"axis 0", legacyBcast{broadcast: true, hasAxis: true, axis: 0}, s(2, 3, 4, 5), s(2), s(2, 1, 1, 1), false},
		// axis -3 is axis 1 of a rank-4 A.
		{"negative axis", legacyBcast{broadcast: true, hasAxis: true, axis: -3}, s(2, 3, 4, 5), s(3, 4), s(3, 4, 1), false},
		// A size-1 dimension of B matches (numpy semantics).
		{"size-1 dim", legacyBcast{broadcast: true}, s(2, 3), s(1, 3), s(1, 3), false},
		{"no broadcast, equal", legacyBcast{}, s(2, 3), s(2, 3), s(2, 3), false},
		{"no broadcast, differ", legacyBcast{}, s(2, 3), s(3), nil, true},
		{"suffix mismatch", legacyBcast{broadcast: true}, s(2, 3, 4, 5), s(3, 4), nil, true},
		{"axis too far", legacyBcast{broadcast: true, hasAxis: true, axis: 3}, s(2, 3, 4, 5), s(5, 1), nil, true},
		{"axis out of range", legacyBcast{broadcast: true, hasAxis: true, axis: -5}, s(2, 3, 4, 5), s(2), nil, true},
		{"B of higher rank", legacyBcast{broadcast: true}, s(3), s(2, 3), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.l.alignB(nil, tt.a, tt.b)
			if tt.wantError {
				if err == nil {
					t.Fatalf("alignB(%v, %v) = %v, want an error", tt.a, tt.b, got)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("alignB(%v, %v) = %v, %v, want %v", tt.a, tt.b, got, err, tt.want)
			}
		})
	}
}

func TestLegacyArith(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	bc := ewInt("broadcast", 1)
	a23 := ewF32(s(2, 3), 1, 2, 3, 4, 5, 6)
	ewRunCases(t, []ewCase{
		// Equal shapes without broadcast: [1..6] + [10..60].
		{name: "add same shape", op: "Add", opset: 6, in: ts(a23, ewF32(s(2, 3), 10, 20, 30, 40, 50, 60)),
			want: ts(ewF32(s(2, 3), 11, 22, 33, 44, 55, 66))},
		// Suffix matching: row [10 20 30] added to both rows.
		{name: "add suffix", op: "Add", opset: 6, attrs: []*onnx.Attribute{bc}, in: ts(a23, ewF32(s(3), 10, 20, 30)),
			want: ts(ewF32(s(2, 3), 11, 22, 33, 14, 25, 36))},
		// axis=0: [10 20] is per row, row 0 - 10, row 1 - 20.
		{name: "sub axis 0", op: "Sub", opset: 6, attrs: []*onnx.Attribute{bc, ewInt("axis", 0)}, in: ts(a23, ewF32(s(2), 10, 20)),
			want: ts(ewF32(s(2, 3), -9, -8, -7, -16, -15, -14))},
		// Opset 1 with consumed_inputs; a one-element (1,1) B is a scalar: x*2.
		{name: "mul opset 1 scalar", op: "Mul", opset: 1, attrs: []*onnx.Attribute{bc, ewInts("consumed_inputs", 0, 0)},
			in: ts(a23, ewF32(s(1, 1), 2)), want: ts(ewF32(s(2, 3), 2, 4, 6, 8, 10, 12))},
		// int64 with axis 1 on [2,2,2]: B [1 10] per middle index; 7/1=7, 7/10=0 (truncated).
		{name: "div int64 axis 1", op: "Div", opset: 6, attrs: []*onnx.Attribute{bc, ewInt("axis", 1)},
			in:   ts(ewI64(s(2, 2, 2), 7, 8, 70, 80, 9, -9, 90, -90), ewI64(s(2), 1, 10)),
			want: ts(ewI64(s(2, 2, 2), 7, 8, 7, 8, 9, -9, 9, -9))},
		// Without broadcast=1 the numpy-compatible shapes of opset 7 are rejected.
		{name: "no broadcast", op: "Add", opset: 6, in: ts(a23, ewF32(s(3), 1, 2, 3)), err: "broadcast is 0"},
		{name: "mismatch", op: "Add", opset: 6, attrs: []*onnx.Attribute{bc}, in: ts(a23, ewF32(s(2), 1, 2)), err: "does not match"},
		// The output has A's shape: B may not be the larger one.
		{name: "B larger", op: "Add", opset: 6, attrs: []*onnx.Attribute{bc}, in: ts(ewF32(s(3), 1, 2, 3), a23), err: "higher rank"},
		{name: "bad broadcast", op: "Add", opset: 6, attrs: []*onnx.Attribute{ewInt("broadcast", 2)}, in: ts(a23, a23), err: `"broadcast": want 0 or 1`},
		{name: "int div by zero", op: "Div", opset: 6, attrs: []*onnx.Attribute{bc}, in: ts(ewI64(s(2), 1, 2), ewI64(nil, 0)), err: "division by zero"},
	})
}

func TestLegacyPowCompare(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	bc := ewInt("broadcast", 1)
	ewRunCases(t, []ewCase{
		// Scalar exponent 2: [1 2 3 4]^2 = [1 4 9 16].
		{name: "pow scalar", op: "Pow", opset: 1, attrs: []*onnx.Attribute{bc}, in: ts(ewF32(s(2, 2), 1, 2, 3, 4), ewF32(nil, 2)),
			want: ts(ewF32(s(2, 2), 1, 4, 9, 16))},
		// Exponents per row (axis 0): row 0 ^1, row 1 ^0.5: [2 4 4 9] -> [2 4 2 3].
		{name: "pow axis 0", op: "Pow", opset: 1, attrs: []*onnx.Attribute{bc, ewInt("axis", 0)}, in: ts(ewF32(s(2, 2), 2, 4, 4, 9), ewF32(s(2), 1, 0.5)),
			want: ts(ewF32(s(2, 2), 2, 4, 2, 3))},
		{name: "pow no broadcast", op: "Pow", opset: 1, in: ts(ewF32(s(2), 1, 2), ewF32(nil, 2)), err: "broadcast is 0"},
		{name: "pow dtypes", op: "Pow", opset: 1, in: ts(ewF32(s(1), 2), ewI64(s(1), 2)), err: "dtypes differ"},
		// Greater with a suffix row [2 2]: [1 3 2 5] > [2 2 2 2].
		{name: "greater suffix", op: "Greater", opset: 1, attrs: []*onnx.Attribute{bc}, in: ts(ewF32(s(2, 2), 1, 3, 2, 5), ewF32(s(2), 2, 2)),
			want: ts(ewBool(s(2, 2), false, true, false, true))},
		// Less per row (axis 0): row 0 < 2, row 1 < 6 for [1 3 5 7].
		{name: "less axis 0", op: "Less", opset: 1, attrs: []*onnx.Attribute{bc, ewInt("axis", 0)}, in: ts(ewF32(s(2, 2), 1, 3, 5, 7), ewF32(s(2), 2, 6)),
			want: ts(ewBool(s(2, 2), true, false, true, false))},
		// Equal on int32 without broadcast.
		{name: "equal", op: "Equal", opset: 1, in: ts(ewT(tensor.Int32, s(3), 1, 2, 3), ewT(tensor.Int32, s(3), 1, 0, 3)),
			want: ts(ewBool(s(3), true, false, true))},
		{name: "equal no broadcast", op: "Equal", opset: 1, in: ts(ewT(tensor.Int32, s(3), 1, 2, 3), ewT(tensor.Int32, nil, 1)), err: "broadcast is 0"},
	})
}

func TestLegacyUnaryVariadic(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	ci := ewInts("consumed_inputs", 0)
	x := ewF32(s(3), -1, 0, 2)
	ewRunCases(t, []ewCase{
		// Opset 1 versions with the consumed_inputs attribute, which has no effect.
		{name: "relu", op: "Relu", opset: 1, attrs: []*onnx.Attribute{ci}, in: ts(x), want: ts(ewF32(s(3), 0, 0, 2))},
		// LeakyRelu alpha 0.1: -1 -> -0.1.
		{name: "leakyrelu", op: "LeakyRelu", opset: 1, attrs: []*onnx.Attribute{ci, ewFloat("alpha", 0.1)}, in: ts(x), want: ts(ewF32(s(3), -0.1, 0, 2))},
		{name: "neg", op: "Neg", opset: 1, attrs: []*onnx.Attribute{ci}, in: ts(x), want: ts(ewF32(s(3), 1, 0, -2))},
		{name: "abs", op: "Abs", opset: 1, attrs: []*onnx.Attribute{ci}, in: ts(x), want: ts(ewF32(s(3), 1, 0, 2))},
		// sigmoid(0) = 0.5, sigmoid(2) = 1/(1+e^-2) = 0.8807970779778823.
		{name: "sigmoid", op: "Sigmoid", opset: 1, attrs: []*onnx.Attribute{ci}, in: ts(ewF32(s(2), 0, 2)), want: ts(ewF32(s(2), 0.5, 0.8807970779778823))},
		// tanh(1) = 0.7615941559557649.
		{name: "tanh", op: "Tanh", opset: 1, attrs: []*onnx.Attribute{ci}, in: ts(ewF32(s(2), 0, 1)), want: ts(ewF32(s(2), 0, 0.7615941559557649))},
		// exp(1) = e, log(e) = 1, sqrt(4) = 2.
		{name: "exp", op: "Exp", opset: 1, attrs: []*onnx.Attribute{ci}, in: ts(ewF32(s(1), 1)), want: ts(ewF32(s(1), 2.718281828459045))},
		{name: "log", op: "Log", opset: 1, attrs: []*onnx.Attribute{ci}, in: ts(ewF32(s(1), 2.718281828459045)), want: ts(ewF32(s(1), 1))},
		{name: "sqrt", op: "Sqrt", opset: 1, attrs: []*onnx.Attribute{ci}, in: ts(ewF32(s(1), 4)), want: ts(ewF32(s(1), 2))},
		// Clip-1 to [0, 1]: -1 -> 0, 2 -> 1.
		{name: "clip", op: "Clip", opset: 1, attrs: []*onnx.Attribute{ci, ewFloat("min", 0), ewFloat("max", 1)}, in: ts(x), want: ts(ewF32(s(3), 0, 0, 1))},
		// Sum/Max/Min-1 of [-1 0 2] and [1 1 1]: [0 1 3], [1 1 2], [-1 0 1].
		{name: "sum", op: "Sum", opset: 1, attrs: []*onnx.Attribute{ci}, in: ts(x, ewF32(s(3), 1, 1, 1)), want: ts(ewF32(s(3), 0, 1, 3))},
		{name: "max", op: "Max", opset: 1, in: ts(x, ewF32(s(3), 1, 1, 1)), want: ts(ewF32(s(3), 1, 1, 2))},
		{name: "min", op: "Min", opset: 1, in: ts(x, ewF32(s(3), 1, 1, 1)), want: ts(ewF32(s(3), -1, 0, 1))},
	})
}

func TestLegacyShapeOps(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	x6 := ewF32(s(2, 3), 1, 2, 3, 4, 5, 6)
	str := func(name, v string) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: []byte(v)}
	}
	ewRunCases(t, []ewCase{
		// Reshape-1: shape attribute [3, -1] infers 2; 0 copies the input's dimension.
		{name: "reshape attr", op: "Reshape", opset: 1, attrs: []*onnx.Attribute{ewInts("shape", 3, -1), ewInts("consumed_inputs", 0)},
			in: ts(x6), want: ts(ewF32(s(3, 2), 1, 2, 3, 4, 5, 6))},
		{name: "reshape attr zero", op: "Reshape", opset: 4, attrs: []*onnx.Attribute{ewInts("shape", 0, 3, 1)},
			in: ts(x6), want: ts(ewF32(s(2, 3, 1), 1, 2, 3, 4, 5, 6))},
		{name: "reshape no attr", op: "Reshape", opset: 4, in: ts(x6), err: `attribute "shape" is required`},
		{name: "reshape bad count", op: "Reshape", opset: 4, attrs: []*onnx.Attribute{ewInts("shape", 4)}, in: ts(x6), err: "cannot reshape"},
		{name: "reshape input at 4", op: "Reshape", opset: 4, attrs: []*onnx.Attribute{ewInts("shape", 6)}, in: ts(x6, ewI64(s(1), 6)), err: "want 1 inputs"},
		// Cast-1's to is the type's name: 2.7 -> 2, -1.5 -> -1 (truncation).
		{name: "cast name", op: "Cast", opset: 1, attrs: []*onnx.Attribute{str("to", "INT32")}, in: ts(ewF32(s(2), 2.7, -1.5)),
			want: ts(ewT(tensor.Int32, s(2), 2, -1))},
		{name: "cast double", op: "Cast", opset: 1, attrs: []*onnx.Attribute{str("to", "DOUBLE")}, in: ts(ewI64(s(1), 3)),
			want: ts(ewT(tensor.Float64, s(1), 3))},
		{name: "cast unknown name", op: "Cast", opset: 1, attrs: []*onnx.Attribute{str("to", "COMPLEX64")}, in: ts(x6), err: `unsupported target type "COMPLEX64"`},
		{name: "cast int to at 1", op: "Cast", opset: 1, attrs: []*onnx.Attribute{ewInt("to", 1)}, in: ts(x6), err: "want type"},
		// Pad-1's paddings: one zero column before axis 1 of [[1 2] [3 4]].
		{name: "pad paddings", op: "Pad", opset: 1, attrs: []*onnx.Attribute{ewInts("paddings", 0, 1, 0, 0)}, in: ts(ewF32(s(2, 2), 1, 2, 3, 4)),
			want: ts(ewF32(s(2, 3), 0, 1, 2, 0, 3, 4))},
		{name: "pad no paddings", op: "Pad", opset: 1, attrs: []*onnx.Attribute{ewInts("pads", 0, 1, 0, 0)}, in: ts(x6), err: `attribute "paddings" is required`},
		// Dropout-6 in test mode: the identity; the mask has the input's dtype.
		{name: "dropout is_test", op: "Dropout", opset: 6, attrs: []*onnx.Attribute{ewInt("is_test", 1)}, in: ts(x6),
			want: ts(x6, ewF32(s(2, 3), 1, 1, 1, 1, 1, 1))},
		// An absent is_test reads as inference, like ONNX's converter to opset 7.
		{name: "dropout opset 1", op: "Dropout", opset: 1, attrs: []*onnx.Attribute{ewInts("consumed_inputs", 0)}, in: ts(x6), want: ts(x6)},
		// is_test=0 with ratio 0 drops nothing: the identity too.
		{name: "dropout training ratio 0", op: "Dropout", opset: 6, attrs: []*onnx.Attribute{ewInt("is_test", 0), ewFloat("ratio", 0)}, in: ts(x6), want: ts(x6)},
		{name: "dropout training", op: "Dropout", opset: 6, attrs: []*onnx.Attribute{ewInt("is_test", 0)}, in: ts(x6), err: "is_test=0 (training mode)"},
	})
}

func TestLegacyGemm(t *testing.T) {
	// A = [[1 2] [3 4]], B = I: A*B = A.
	a := tensor.FromFloat32([]float32{1, 2, 3, 4}, 2, 2)
	b := tensor.FromFloat32([]float32{1, 0, 0, 1}, 2, 2)
	bc := aInt("broadcast", 1)
	for _, opset := range []int64{1, 6} {
		// broadcast=1 with a row C [10 20]: [[11 22] [13 24]].
		got, err := runOp("Gemm", opset, []*onnx.Attribute{bc}, 1, a, b, tensor.FromFloat32([]float32{10, 20}, 2))
		if err != nil {
			t.Fatalf("Gemm-%d: %v", opset, err)
		}
		checkClose(t, "Gemm broadcast row", got[0], tensor.FromFloat32([]float32{11, 22, 13, 24}, 2, 2), 1e-6)
		// No broadcast: full C, alpha 2, beta 0.5, transB (I^T = I):
		// 2*A + 0.5*[[2 2] [2 2]] = [[3 5] [7 9]].
		got, err = runOp("Gemm", opset, []*onnx.Attribute{aFloat("alpha", 2), aFloat("beta", 0.5), aInt("transB", 1)}, 1,
			a, b, tensor.FromFloat32([]float32{2, 2, 2, 2}, 2, 2))
		if err != nil {
			t.Fatalf("Gemm-%d: %v", opset, err)
		}
		checkClose(t, "Gemm full C", got[0], tensor.FromFloat32([]float32{3, 5, 7, 9}, 2, 2), 1e-6)
		// No broadcast and a row C: rejected.
		_, err = runOp("Gemm", opset, nil, 1, a, b, tensor.FromFloat32([]float32{10, 20}, 2))
		if err == nil || err.Error() != `node "n" (Gemm): C is float32[2], want 2x2 (broadcast is 0)` {
			t.Errorf("Gemm-%d(row C, no broadcast) error = %v", opset, err)
		}
		// C is required before opset 11.
		_, err = runOp("Gemm", opset, []*onnx.Attribute{bc}, 1, a, b)
		if err == nil {
			t.Errorf("Gemm-%d without C: no error", opset)
		}
	}
	_, err := runOp("Gemm", 6, []*onnx.Attribute{aInt("broadcast", 3)}, 1, a, b, a)
	if err == nil || err.Error() != `node "n" (Gemm): attribute "broadcast": want 0 or 1, got 3` {
		t.Errorf("Gemm(broadcast=3) error = %v", err)
	}
}

func TestLegacyBatchNorm(t *testing.T) {
	// As in TestBatchNormHand: X 1x2x1x2 = [[1 2] [3 4]], scale [1 2], B
	// [0 1], mean [1 2], var [1 4], epsilon 0: channel 0 (x-1) = [0 1],
	// channel 1 (x-2)/2*2+1 = [2 3].
	x := tensor.FromFloat32([]float32{1, 2, 3, 4}, 1, 2, 1, 2)
	p := func(v ...float32) *tensor.Tensor { return tensor.FromFloat32(v, len(v)) }
	want := tensor.FromFloat32([]float32{0, 1, 2, 3}, 1, 2, 1, 2)
	for _, tc := range []struct {
		opset int64
		attrs []*onnx.Attribute
	}{
		{1, []*onnx.Attribute{aInt("is_test", 1), aInts("consumed_inputs", 0, 0, 0, 1, 1)}},
		{6, []*onnx.Attribute{aInt("is_test", 1), aFloat("momentum", 0.9)}},
		{6, nil}, // is_test absent: inference
	} {
		got, err := runOp("BatchNormalization", tc.opset, append(tc.attrs, aFloat("epsilon", 0)), 1, x, p(1, 2), p(0, 1), p(1, 2), p(1, 4))
		if err != nil {
			t.Fatalf("BatchNormalization-%d: %v", tc.opset, err)
		}
		checkClose(t, "BatchNormalization legacy", got[0], want, 1e-6)
	}
	// spatial=0 at opset 6: per-activation parameters, shape C x W = 2x2;
	// (x-1)/2*2 + [0 1 2 3] = [0 2 4 6] (as in TestBatchNormHand).
	q := func(v ...float32) *tensor.Tensor { return tensor.FromFloat32(v, 2, 2) }
	got, err := runOp("BatchNormalization", 6, []*onnx.Attribute{aFloat("epsilon", 0), aInt("spatial", 0), aInt("is_test", 1)}, 1,
		tensor.FromFloat32([]float32{1, 2, 3, 4}, 1, 2, 2), q(2, 2, 2, 2), q(0, 1, 2, 3), q(1, 1, 1, 1), q(4, 4, 4, 4))
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "BatchNormalization-6 spatial=0", got[0], tensor.FromFloat32([]float32{0, 2, 4, 6}, 1, 2, 2), 1e-6)

	var ue *UnsupportedOpsError
	_, err = runOp("BatchNormalization", 6, []*onnx.Attribute{aInt("is_test", 0)}, 1, x, p(1, 2), p(0, 1), p(1, 2), p(1, 4))
	if !errors.As(err, &ue) || ue.Ops[0].Reason != "is_test=0 (training mode)" {
		t.Errorf("BatchNormalization-6(is_test=0) error = %v, want UnsupportedOpsError", err)
	}
	_, err = runOp("BatchNormalization", 6, []*onnx.Attribute{aInt("is_test", 1)}, 5, x, p(1, 2), p(0, 1), p(1, 2), p(1, 4))
	if !errors.As(err, &ue) {
		t.Errorf("BatchNormalization-6(5 outputs) error = %v, want UnsupportedOpsError", err)
	}
}

// legacyCases are official ONNX test cases exported at opset 6 by PyTorch
// that exercise this file's op versions (folders relative to a suite root).
var legacyCases = []string{
	"pytorch-converted/test_BatchNorm1d_3d_input_eval", "pytorch-converted/test_BatchNorm2d_eval",
	"pytorch-converted/test_BatchNorm2d_momentum_eval", "pytorch-converted/test_BatchNorm3d_eval",
	"pytorch-converted/test_BatchNorm3d_momentum_eval", "pytorch-converted/test_Linear",
	"pytorch-converted/test_PoissonNLLLLoss_no_reduce", "pytorch-converted/test_Softsign",
	"pytorch-operator/test_operator_add_broadcast", "pytorch-operator/test_operator_add_size1_broadcast",
	"pytorch-operator/test_operator_add_size1_right_broadcast",
	"pytorch-operator/test_operator_add_size1_singleton_broadcast", "pytorch-operator/test_operator_addconstant",
	"pytorch-operator/test_operator_addmm", "pytorch-operator/test_operator_basic", "pytorch-operator/test_operator_mm",
	"pytorch-operator/test_operator_non_float_params", "pytorch-operator/test_operator_params",
	"pytorch-operator/test_operator_pow",
}

// TestLegacyCases runs legacyCases in every installed suite.
func TestLegacyCases(t *testing.T) {
	found := false
	for i, nodeDir := range nodeTestDirs {
		root := filepath.Dir(nodeDir)
		if _, err := os.Stat(root); err != nil {
			continue
		}
		found = true
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			for _, name := range legacyCases {
				t.Run(filepath.Base(name), func(t *testing.T) {
					dir := filepath.Join(root, name)
					if _, err := os.Stat(dir); err != nil {
						t.Skip("case not installed")
					}
					runNodeCase(t, dir)
				})
			}
		})
	}
	if !found {
		t.Skip("ONNX test cases not installed")
	}
}
