package infer

import (
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// ewIota returns a float32 tensor of the shape holding 0, 1, 2, ...
func ewIota(shape ...int) *tensor.Tensor {
	v := make([]float64, tensor.NumElements(shape))
	for i := range v {
		v[i] = float64(i)
	}
	return ewF32(shape, v...)
}

func TestReshapeFamily(t *testing.T) {
	s := func(v ...int) []int { return v }
	x := ewIota(2, 3, 4)
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	// Reshapes keep the data; only the shape changes.
	re := func(shape ...int) []*tensor.Tensor { return ts(ewIota(shape...)) }
	ewRunCases(t, []ewCase{
		{name: "flatten default", op: "Flatten", in: ts(x), want: re(2, 12)},
		{name: "flatten axis 0", op: "Flatten", attrs: []*onnx.Attribute{ewInt("axis", 0)}, in: ts(x), want: re(1, 24)},
		{name: "flatten axis rank", op: "Flatten", attrs: []*onnx.Attribute{ewInt("axis", 3)}, in: ts(x), want: re(24, 1)},
		{name: "flatten axis -1", op: "Flatten", attrs: []*onnx.Attribute{ewInt("axis", -1)}, in: ts(x), want: re(6, 4)},
		{name: "flatten axis 4", op: "Flatten", attrs: []*onnx.Attribute{ewInt("axis", 4)}, in: ts(x), err: "out of range"},

		// 0 copies the input dimension, -1 takes what is left: [2, 3, 4] -> [2, 12] -> [2, 3*4].
		{name: "reshape 0 -1", op: "Reshape", in: ts(x, ewI64(s(2), 0, -1)), want: re(2, 12)},
		{name: "reshape -1 first", op: "Reshape", in: ts(x, ewI64(s(3), -1, 2, 2)), want: re(6, 2, 2)},
		{name: "reshape int32 shape", op: "Reshape", in: ts(x, ewT(tensor.Int32, s(1), 24)), want: re(24)},
		{name: "reshape bad count", op: "Reshape", in: ts(x, ewI64(s(2), 5, -1)), err: "cannot reshape"},
		{name: "reshape two -1", op: "Reshape", in: ts(x, ewI64(s(2), -1, -1)), err: "more than one -1"},
		{name: "reshape -2", op: "Reshape", in: ts(x, ewI64(s(2), -2, 12)), err: "invalid dimension"},
		{name: "reshape 0 past rank", op: "Reshape", in: ts(x, ewI64(s(4), 2, 3, 4, 0)), err: "lacks"},
		// allowzero=1: 0 is a real zero dimension (test_reshape_allowzero_reordered).
		{name: "allowzero", op: "Reshape", opset: 14, attrs: []*onnx.Attribute{ewInt("allowzero", 1)},
			in: ts(ewF32(s(0, 3)), ewI64(s(3), 3, 0, 1)), want: ts(ewF32(s(3, 0, 1)))},
		{name: "allowzero infer", op: "Reshape", opset: 14, attrs: []*onnx.Attribute{ewInt("allowzero", 1)},
			in: ts(ewF32(s(0, 3)), ewI64(s(2), 0, -1)), err: "cannot reshape"},
		// Without allowzero the 0 copies the 0 of the input.
		{name: "zero dim copied", op: "Reshape", in: ts(ewF32(s(0, 3)), ewI64(s(2), 0, 3)), want: ts(ewF32(s(0, 3)))},

		{name: "squeeze all", op: "Squeeze", in: ts(ewIota(1, 3, 1, 2)), want: re(3, 2)},
		{name: "squeeze attr", op: "Squeeze", opset: 11, attrs: []*onnx.Attribute{ewInts("axes", -2)}, in: ts(ewIota(1, 3, 1, 2)), want: re(1, 3, 2)},
		{name: "squeeze input", op: "Squeeze", opset: 13, in: ts(ewIota(1, 3, 1, 2), ewI64(s(2), 0, 2)), want: re(3, 2)},
		{name: "squeeze non-1", op: "Squeeze", opset: 13, in: ts(ewIota(1, 3), ewI64(s(1), 1)), err: "size is not 1"},
		{name: "unsqueeze attr", op: "Unsqueeze", opset: 11, attrs: []*onnx.Attribute{ewInts("axes", 0, 3)}, in: ts(ewIota(3, 2)), want: re(1, 3, 2, 1)},
		// Axes are positions in the output, in any order (test_unsqueeze_unsorted_axes).
		{name: "unsqueeze input", op: "Unsqueeze", opset: 13, in: ts(ewIota(3, 2), ewI64(s(2), -1, 1)), want: re(3, 1, 2, 1)},
		{name: "unsqueeze scalar", op: "Unsqueeze", opset: 13, in: ts(ewF32(nil, 7), ewI64(s(1), 0)), want: ts(ewF32(s(1), 7))},
		{name: "unsqueeze repeated", op: "Unsqueeze", opset: 13, in: ts(ewIota(3), ewI64(s(2), 0, -3)), err: "repeated"},
		{name: "unsqueeze no axes", op: "Unsqueeze", opset: 13, in: ts(ewIota(3)), err: "want 2 inputs"},

		{name: "identity", op: "Identity", in: ts(ewI64(s(2), 4, 5)), want: ts(ewI64(s(2), 4, 5))},
	})
}

func TestDropout(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	x := ewF32(s(3), 1, 2, 3)
	ewRunCases(t, []ewCase{
		{name: "opset 7", op: "Dropout", opset: 7, attrs: []*onnx.Attribute{ewFloat("ratio", 0.2)}, in: ts(x), want: ts(x)},
		// Before opset 10 the mask has the input's dtype, all ones.
		{name: "opset 7 mask", op: "Dropout", opset: 7, in: ts(x), want: ts(x, ewF32(s(3), 1, 1, 1))},
		{name: "opset 12 mask", op: "Dropout", opset: 12, in: ts(x, ewF32(nil, 0.5)), want: ts(x, ewBool(s(3), true, true, true))},
		{name: "training off", op: "Dropout", opset: 13, in: ts(x, ewF32(nil, 0.5), ewBool(nil, false)), want: ts(x)},
		// Training with ratio 0 keeps everything.
		{name: "training ratio 0", op: "Dropout", opset: 13, in: ts(x, ewF32(nil, 0), ewBool(nil, true)), want: ts(x)},
		{name: "training", op: "Dropout", opset: 13, in: ts(x, nil, ewBool(nil, true)), err: "training mode is not supported"},
		{name: "three inputs at opset 7", op: "Dropout", opset: 7, in: ts(x, x, x), err: "want 1 inputs, got 3"},
	})
}

func TestConstants(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	ewRunCases(t, []ewCase{
		{name: "value", op: "Constant", attrs: []*onnx.Attribute{ewTensorAttr("value", ewI64(s(2), 1, 2))}, want: ts(ewI64(s(2), 1, 2))},
		{name: "value_float", op: "Constant", attrs: []*onnx.Attribute{ewFloat("value_float", 1.5)}, want: ts(ewF32(nil, 1.5))},
		{name: "value_floats", op: "Constant", attrs: []*onnx.Attribute{{Name: "value_floats", Type: onnx.AttrFloats, Floats: []float32{1, 2}}},
			want: ts(ewF32(s(2), 1, 2))},
		{name: "value_int", op: "Constant", attrs: []*onnx.Attribute{ewInt("value_int", -3)}, want: ts(ewI64(nil, -3))},
		{name: "value_ints", op: "Constant", attrs: []*onnx.Attribute{ewInts("value_ints", 4, 5, 6)}, want: ts(ewI64(s(3), 4, 5, 6))},
		{name: "sparse", op: "Constant", attrs: []*onnx.Attribute{{Name: "sparse_value", Type: onnx.AttrUndefined}}, err: "not supported"},
		{name: "strings", op: "Constant", attrs: []*onnx.Attribute{{Name: "value_strings", Type: onnx.AttrStrings}}, err: "not supported"},
		{name: "none", op: "Constant", err: "want exactly one"},
		{name: "wrong type", op: "Constant", attrs: []*onnx.Attribute{ewInt("value_float", 1)}, err: "want type float"},
		{name: "bad tensor", op: "Constant", attrs: []*onnx.Attribute{ewTensorAttr("value", &tensor.Tensor{DType: tensor.Float32, Shape: s(2)})},
			err: "invalid"},

		// Default: float32 zeros.
		{name: "of shape default", op: "ConstantOfShape", in: ts(ewI64(s(2), 2, 1)), want: ts(ewF32(s(2, 1), 0, 0))},
		{name: "of shape int", op: "ConstantOfShape", attrs: []*onnx.Attribute{ewTensorAttr("value", ewI64(s(1), 7))},
			in: ts(ewI64(s(1), 3)), want: ts(ewI64(s(3), 7, 7, 7))},
		{name: "of shape zero", op: "ConstantOfShape", in: ts(ewI64(s(1), 0)), want: ts(ewF32(s(0)))},
		{name: "of shape scalar", op: "ConstantOfShape", in: ts(ewI64(s(0))), want: ts(ewF32(nil, 0))},
		{name: "of shape negative", op: "ConstantOfShape", in: ts(ewI64(s(1), -1)), err: "invalid dimension"},
		{name: "of shape huge", op: "ConstantOfShape", in: ts(ewI64(s(3), 1<<20, 1<<20, 1<<20)), err: "more than"},

		// Range examples from Operators.md: (3, 9, 3) -> [3, 6]; (10, 4, -2) -> [10, 8, 6].
		{name: "range int", op: "Range", in: ts(ewI64(nil, 3), ewI64(nil, 9), ewI64(nil, 3)), want: ts(ewI64(s(2), 3, 6))},
		{name: "range int32 negative", op: "Range", in: ts(ewT(tensor.Int32, nil, 10), ewT(tensor.Int32, nil, 4), ewT(tensor.Int32, nil, -2)),
			want: ts(ewT(tensor.Int32, s(3), 10, 8, 6))},
		{name: "range float", op: "Range", in: ts(ewF32(nil, 1), ewF32(nil, 2), ewF32(nil, 0.25)), want: ts(ewF32(s(4), 1, 1.25, 1.5, 1.75))},
		{name: "range empty", op: "Range", in: ts(ewI64(nil, 5), ewI64(nil, 1), ewI64(nil, 1)), want: ts(ewI64(s(0)))},
		{name: "range delta 0", op: "Range", in: ts(ewI64(nil, 1), ewI64(nil, 5), ewI64(nil, 0)), err: "delta"},
		{name: "range huge", op: "Range", in: ts(ewI64(nil, -9e18), ewI64(nil, 9e18), ewI64(nil, 1)), err: "too large"},
		{name: "range mixed", op: "Range", in: ts(ewI64(nil, 1), ewF32(nil, 5), ewI64(nil, 1)), err: "scalars"},
	})
}

func TestShapeOp(t *testing.T) {
	s := func(v ...int) []int { return v }
	x := ewF32(s(3, 4, 5, 0))
	at := func(a ...*onnx.Attribute) []*onnx.Attribute { return a }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	ewRunCases(t, []ewCase{
		{name: "all", op: "Shape", in: ts(x), want: ts(ewI64(s(4), 3, 4, 5, 0))},
		{name: "scalar", op: "Shape", in: ts(ewF32(nil, 1)), want: ts(ewI64(s(0)))},
		{name: "start 1", op: "Shape", opset: 15, attrs: at(ewInt("start", 1)), in: ts(x), want: ts(ewI64(s(3), 4, 5, 0))},
		{name: "end -1", op: "Shape", opset: 15, attrs: at(ewInt("end", -1)), in: ts(x), want: ts(ewI64(s(3), 3, 4, 5))},
		// Out-of-range start and end clamp (test_shape_clip_start, test_shape_clip_end).
		{name: "clip", op: "Shape", opset: 15, attrs: at(ewInt("start", -10), ewInt("end", 10)), in: ts(x), want: ts(ewI64(s(4), 3, 4, 5, 0))},
		{name: "start after end", op: "Shape", opset: 15, attrs: at(ewInt("start", 3), ewInt("end", 1)), in: ts(x), want: ts(ewI64(s(0)))},
		// Before opset 15 the attributes do not exist and are ignored.
		{name: "opset 13 ignores start", op: "Shape", opset: 13, attrs: at(ewInt("start", 1)), in: ts(x), want: ts(ewI64(s(4), 3, 4, 5, 0))},
	})
}

func TestTransposeGatherConcat(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	x := ewIota(2, 3) // [[0 1 2] [3 4 5]]
	y := ewIota(2, 3, 4)
	ewRunCases(t, []ewCase{
		{name: "transpose default", op: "Transpose", in: ts(x), want: ts(ewF32(s(3, 2), 0, 3, 1, 4, 2, 5))},
		// perm [1,2,0] on [2,3,4]: out[j][k][i] = y[i][j][k] = 12i + 4j + k.
		{name: "transpose perm", op: "Transpose", attrs: []*onnx.Attribute{ewInts("perm", 1, 2, 0)}, in: ts(y),
			want: ts(ewF32(s(3, 4, 2), 0, 12, 1, 13, 2, 14, 3, 15, 4, 16, 5, 17, 6, 18, 7, 19, 8, 20, 9, 21, 10, 22, 11, 23))},
		{name: "transpose bool", op: "Transpose", in: ts(ewBool(s(1, 2), true, false)), want: ts(ewBool(s(2, 1), true, false))},
		{name: "transpose bad perm", op: "Transpose", attrs: []*onnx.Attribute{ewInts("perm", 0, 0)}, in: ts(x), err: "not a permutation"},
		{name: "transpose short perm", op: "Transpose", attrs: []*onnx.Attribute{ewInts("perm", 0)}, in: ts(x), err: "want 2 values"},

		// Rows 1 and 0 (negative index -2 = 0).
		{name: "gather axis 0", op: "Gather", in: ts(x, ewI64(s(2), 1, -2)), want: ts(ewF32(s(2, 3), 3, 4, 5, 0, 1, 2))},
		// Columns [[2,0]] of each row: indices shape [1,2] goes in place of axis 1.
		{name: "gather axis 1", op: "Gather", attrs: []*onnx.Attribute{ewInt("axis", -1)}, in: ts(x, ewT(tensor.Int32, s(1, 2), 2, 0)),
			want: ts(ewF32(s(2, 1, 2), 2, 0, 5, 3))},
		// A scalar index drops the axis (how PyTorch exports x[:, 1]).
		{name: "gather scalar index", op: "Gather", attrs: []*onnx.Attribute{ewInt("axis", 1)}, in: ts(x, ewI64(nil, 1)),
			want: ts(ewF32(s(2), 1, 4))},
		{name: "gather int64 data", op: "Gather", in: ts(ewI64(s(4), 3, 4, 5, 6), ewI64(s(1), 0)), want: ts(ewI64(s(1), 3))},
		{name: "gather out of range", op: "Gather", in: ts(x, ewI64(s(1), 2)), err: "index 2 out of range"},
		{name: "gather negative out of range", op: "Gather", in: ts(x, ewI64(s(1), -3)), err: "out of range"},
		{name: "gather float indices", op: "Gather", in: ts(x, ewF32(s(1), 0)), err: "indices"},
		{name: "gather scalar data", op: "Gather", in: ts(ewF32(nil, 1), ewI64(s(1), 0)), err: "out of range"},

		// Concat along axis 1: [[0 1 2 0 1 2] [3 4 5 3 4 5]]... with a second input of ones.
		{name: "concat axis 1", op: "Concat", attrs: []*onnx.Attribute{ewInt("axis", 1)}, in: ts(x, ewF32(s(2, 1), 9, 8)),
			want: ts(ewF32(s(2, 4), 0, 1, 2, 9, 3, 4, 5, 8))},
		{name: "concat axis -2", op: "Concat", attrs: []*onnx.Attribute{ewInt("axis", -2)}, in: ts(x, ewF32(s(1, 3), 7, 8, 9), x),
			want: ts(ewF32(s(5, 3), 0, 1, 2, 3, 4, 5, 7, 8, 9, 0, 1, 2, 3, 4, 5))},
		{name: "concat int64 1d", op: "Concat", attrs: []*onnx.Attribute{ewInt("axis", 0)}, in: ts(ewI64(s(1), 1), ewI64(s(0)), ewI64(s(2), 2, 3)),
			want: ts(ewI64(s(3), 1, 2, 3))},
		{name: "concat mismatch", op: "Concat", attrs: []*onnx.Attribute{ewInt("axis", 0)}, in: ts(x, ewF32(s(1, 2), 1, 2)), err: "differ outside axis"},
		{name: "concat dtypes", op: "Concat", attrs: []*onnx.Attribute{ewInt("axis", 0)}, in: ts(x, ewI64(s(1, 3), 1, 2, 3)), err: "dtypes differ"},
		{name: "concat no axis", op: "Concat", in: ts(x, x), err: `"axis" is required`},
	})
}

func TestSliceExpand(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	x := ewIota(3, 4) // rows [0..3], [4..7], [8..11]
	i := func(v ...float64) *tensor.Tensor { return ewI64(s(len(v)), v...) }
	ewRunCases(t, []ewCase{
		// Rows 0..1, columns 1..2: [[1 2] [5 6]].
		{name: "basic", op: "Slice", in: ts(x, i(0, 1), i(2, 3)), want: ts(ewF32(s(2, 2), 1, 2, 5, 6))},
		// Only axis 1 from -2 to the end (INT64_MAX as PyTorch writes it).
		{name: "axes end max", op: "Slice", in: ts(x, i(-2), ewI64(s(1), 9.2e18), i(1)), want: ts(ewF32(s(3, 2), 2, 3, 6, 7, 10, 11))},
		// Step 2 over columns: 0, 2.
		{name: "step", op: "Slice", in: ts(x, i(0), i(4), i(1), i(2)), want: ts(ewF32(s(3, 2), 0, 2, 4, 6, 8, 10))},
		// Reverse rows: start -1, end INT64_MIN, step -1 (how x.flip is exported).
		{name: "reverse", op: "Slice", in: ts(x, i(-1), ewI64(s(1), -9.2e18), i(0), i(-1)),
			want: ts(ewF32(s(3, 4), 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3))},
		// Columns 3, 1 (start 3, end 0 exclusive, step -2).
		{name: "negative step", op: "Slice", in: ts(x, i(3), i(0), i(1), i(-2)), want: ts(ewF32(s(3, 2), 3, 1, 7, 5, 11, 9))},
		{name: "empty", op: "Slice", in: ts(x, i(2), i(1), i(0)), want: ts(ewF32(s(0, 4)))},
		{name: "start past end", op: "Slice", in: ts(x, i(10), i(20), i(0)), want: ts(ewF32(s(0, 4)))},
		{name: "huge step", op: "Slice", in: ts(x, i(0), i(4), i(1), ewI64(s(1), 9e18)), want: ts(ewF32(s(3, 1), 0, 4, 8))},
		{name: "huge negative step", op: "Slice", in: ts(x, i(-1), i(-10), i(1), ewI64(s(1), -9e18)), want: ts(ewF32(s(3, 1), 3, 7, 11))},
		{name: "opset 9 attrs", op: "Slice", opset: 9, attrs: []*onnx.Attribute{ewInts("starts", 1), ewInts("ends", 100), ewInts("axes", 0)},
			in: ts(x), want: ts(ewF32(s(2, 4), 4, 5, 6, 7, 8, 9, 10, 11))},
		{name: "step 0", op: "Slice", in: ts(x, i(0), i(1), i(0), i(0)), err: "step 0"},
		{name: "length mismatch", op: "Slice", in: ts(x, i(0, 0), i(1)), err: "has 1 values"},
		{name: "repeated axis", op: "Slice", in: ts(x, i(0, 0), i(1, 1), i(0, -2)), err: "repeated"},

		// Expand [3,1] to [2,3,4]... via shape [2,1,4]: bidirectional broadcast gives [2,3,4].
		{name: "expand", op: "Expand", in: ts(ewF32(s(3, 1), 1, 2, 3), i(2, 1, 4)),
			want: ts(ewF32(s(2, 3, 4), 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3))},
		// A shape smaller than the input keeps the input's shape (test_expand_dim_unchanged).
		{name: "expand unchanged", op: "Expand", in: ts(ewF32(s(1, 2), 1, 2), i(2, 1)), want: ts(ewF32(s(2, 2), 1, 2, 1, 2))},
		{name: "expand bool", op: "Expand", in: ts(ewBool(nil, true), i(2)), want: ts(ewBool(s(2), true, true))},
		{name: "expand mismatch", op: "Expand", in: ts(ewF32(s(3), 1, 2, 3), i(2)), err: "not broadcastable"},
	})
}
