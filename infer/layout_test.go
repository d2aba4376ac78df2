package infer

import (
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Expected values: scripts/ref_index_ops.py (PyTorch: torch.chunk for
// Split's num_outputs parts, pixel_shuffle for CRD DepthToSpace, the spec's
// SpaceToDepth reshape and permute, tril/triu, repeat, nonzero), on the
// same inputs, and the ONNX node cases of these ops (conformance.txt).
func TestLayoutOps(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	at := func(v ...*onnx.Attribute) []*onnx.Attribute { return v }
	str := func(name, v string) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: []byte(v)}
	}
	cases := []ewCase{
		{name: "split num_outputs uneven", op: "Split", opset: 18, attrs: at(ewInt("num_outputs", 3)), in: ts(ewIota(7, 1)),
			want: ts(ewF32(s(3, 1), 0, 1, 2), ewF32(s(3, 1), 3, 4, 5), ewF32(s(1, 1), 6))},
		{name: "split input axis -1", op: "Split", opset: 13, attrs: at(ewInt("axis", -1)), in: ts(ewIota(2, 3), ewI64(s(2), 1, 2)),
			want: ts(ewF32(s(2, 1), 0, 3), ewF32(s(2, 2), 1, 2, 4, 5))},
		{name: "split attribute with empty part", op: "Split", opset: 11, attrs: at(ewInts("split", 0, 3)), in: ts(ewIota(3)),
			want: ts(ewF32(s(0)), ewF32(s(3), 0, 1, 2))},
		{name: "split opset 1 float input", op: "Split", opset: 1, in: ts(ewIota(3), ewF32(s(2), 2, 1)),
			want: ts(ewF32(s(2), 0, 1), ewF32(s(1), 2))},
		{name: "split equal bool", op: "Split", opset: 2, in: ts(ewBool(s(2), true, false)),
			want: ts(ewBool(s(1), true), ewBool(s(1), false))},
		{name: "depth to space CRD", op: "DepthToSpace", opset: 13, attrs: at(ewInt("blocksize", 2), str("mode", "CRD")), in: ts(ewIota(1, 8, 1, 2)),
			want: ts(ewF32(s(1, 2, 2, 4), 0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15))},
		{name: "space to depth", op: "SpaceToDepth", attrs: at(ewInt("blocksize", 2)), in: ts(ewIota(1, 2, 4, 4)),
			want: ts(ewF32(s(1, 8, 2, 2), 0, 2, 8, 10, 16, 18, 24, 26, 1, 3, 9, 11, 17, 19, 25, 27, 4, 6, 12, 14, 20, 22, 28, 30, 5, 7, 13, 15, 21, 23, 29, 31))},
		{name: "tril k -1", op: "Trilu", attrs: at(ewInt("upper", 0)), in: ts(ewIota(3, 4), ewI64(nil, -1)),
			want: ts(ewF32(s(3, 4), 0, 0, 0, 0, 4, 0, 0, 0, 8, 9, 0, 0))},
		{name: "triu k 1 int64 batch", op: "Trilu", in: ts(ewT(tensor.Int64, s(2, 3, 3), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17), ewI64(nil, 1)),
			want: ts(ewI64(s(2, 3, 3), 0, 1, 2, 0, 0, 5, 0, 0, 0, 0, 10, 11, 0, 0, 14, 0, 0, 0))},
		{name: "tile", op: "Tile", in: ts(ewIota(1, 2, 1), ewI64(s(3), 2, 1, 3)),
			want: ts(ewF32(s(2, 2, 3), 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1))},
		{name: "tile opset 1", op: "Tile", opset: 1, in: ts(ewIota(2), ewI64(nil, 2), ewI64(nil, 0)), want: ts(ewF32(s(4), 0, 1, 0, 1))},
		{name: "nonzero", op: "NonZero", in: ts(ewI64(s(2, 3), 0, 1, 0, 2, 0, 3)), want: ts(ewI64(s(2, 3), 0, 1, 1, 1, 0, 2))},
		{name: "eyelike k -1 to int32", op: "EyeLike", attrs: at(ewInt("k", -1), ewInt("dtype", 6)), in: ts(ewIota(3, 2)),
			want: ts(ewT(tensor.Int32, s(3, 2), 0, 0, 1, 0, 0, 1))},
		{name: "size", op: "Size", in: ts(ewIota(2, 0, 3)), want: ts(ewI64(nil, 0))},
		{name: "compress short condition", op: "Compress", attrs: at(ewInt("axis", -1)), in: ts(ewIota(2, 3), ewBool(s(2), false, true)),
			want: ts(ewF32(s(2, 1), 1, 4))},
		{name: "compress flat", op: "Compress", in: ts(ewIota(2, 2), ewBool(s(4), true, false, false, true)), want: ts(ewF32(s(2), 0, 3))},
		{name: "reverse sequence batch axis 0", op: "ReverseSequence", attrs: at(ewInt("batch_axis", 0), ewInt("time_axis", 1)),
			in: ts(ewIota(2, 3), ewI64(s(2), 2, 0)), want: ts(ewF32(s(2, 3), 1, 0, 2, 3, 4, 5))},
		{name: "onehot negative opset 11", op: "OneHot", opset: 11, in: ts(ewI64(s(3), -1, 5, 0), ewF32(nil, 3), ewI64(s(2), 0, 7)),
			want: ts(ewI64(s(3, 3), 0, 0, 7, 0, 0, 0, 7, 0, 0))},
		{name: "onehot negative opset 9 axis 0", op: "OneHot", opset: 9, attrs: at(ewInt("axis", 0)), in: ts(ewI64(s(2), -1, 1), ewI64(nil, 2), ewF32(s(2), 0, 1)),
			want: ts(ewF32(s(2, 2), 0, 0, 0, 1))},
		// onnxruntime-node 1.30 on the same single-node model.
		{name: "onehot float indices", op: "OneHot", opset: 11, in: ts(ewF32(s(8), -0.5, 1.7, -1.2, 2.9, 0, 1, -1, 2), ewF32(nil, 3), ewF32(s(2), 0, 1)),
			want: ts(ewF32(s(8, 3), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1))},
		{name: "mean", op: "Mean", in: ts(ewF32(s(2), 1, 2), ewF32(nil, 4), ewF32(s(1), 0)), want: ts(ewF32(s(2), 5.0/3, 2))},
	}
	ewRunCases(t, cases)
}

// TestLayoutErrors checks the error paths: each names the node.
func TestLayoutErrors(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	at := func(v ...*onnx.Attribute) []*onnx.Attribute { return v }
	str := func(name, v string) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: []byte(v)}
	}
	x := ewIota(2, 3)
	big := float64(maxElements) + 1
	cases := []ewCase{
		{name: "split sum", op: "Split", in: ts(x, ewI64(s(1), 1)), err: "does not add up"},
		{name: "split negative", op: "Split", in: ts(x, ewI64(s(1), -1)), err: "does not add up"},
		{name: "split uneven", op: "Split", attrs: at(ewInt("axis", 1)), in: ts(x), want: ts(x, x), err: "into 2 equal parts"},
		{name: "split num_outputs count", op: "Split", opset: 18, attrs: at(ewInt("num_outputs", 3)), in: ts(x), err: "num_outputs"},
		{name: "split num_outputs too many", op: "Split", opset: 18, attrs: at(ewInt("num_outputs", 4)), in: ts(ewIota(5)),
			want: ts(x, x, x, x), err: "cannot split"},
		{name: "split attribute count", op: "Split", opset: 11, attrs: at(ewInts("split", 1, 1, 1)), in: ts(x), err: "3 values for 1 outputs"},
		{name: "split axis", op: "Split", attrs: at(ewInt("axis", 2)), in: ts(x), err: "axis 2 out of range"},
		{name: "tile repeats count", op: "Tile", in: ts(x, ewI64(s(1), 2)), err: "want 2 values"},
		{name: "tile negative", op: "Tile", in: ts(x, ewI64(s(2), 1, -1)), err: "invalid count"},
		{name: "tile empty with a huge dimension", op: "Tile", in: ts(ewF32(s(0, 1<<40)), ewI64(s(2), 1, 1<<29)), err: "invalid count"},
		{name: "tile huge", op: "Tile", in: ts(x, ewI64(s(2), 1<<20, 1<<20)), err: "more than"},
		{name: "depth to space channels", op: "DepthToSpace", attrs: at(ewInt("blocksize", 2)), in: ts(ewIota(1, 3, 1, 1)), err: "not a multiple"},
		{name: "depth to space mode", op: "DepthToSpace", opset: 11, attrs: at(ewInt("blocksize", 2), str("mode", "XYZ")), in: ts(ewIota(1, 4, 1, 1)), err: "attribute \"mode\""},
		{name: "depth to space no blocksize", op: "DepthToSpace", in: ts(ewIota(1, 4, 1, 1)), err: "\"blocksize\" is required"},
		{name: "depth to space blocksize 0", op: "DepthToSpace", attrs: at(ewInt("blocksize", 0)), in: ts(ewIota(1, 4, 1, 1)), err: "invalid value 0"},
		{name: "space to depth rank", op: "SpaceToDepth", attrs: at(ewInt("blocksize", 2)), in: ts(x), err: "want a 4-D input"},
		{name: "trilu rank", op: "Trilu", in: ts(ewIota(3)), err: "rank >= 2"},
		{name: "eyelike dtype", op: "EyeLike", attrs: at(ewInt("dtype", 14)), in: ts(x), err: "data type 14"},
		{name: "eyelike rank", op: "EyeLike", in: ts(ewIota(3)), err: "want a 2-D input"},
		{name: "compress condition dtype", op: "Compress", in: ts(x, ewI64(s(1), 1)), err: "want a 1-D bool"},
		{name: "compress long condition", op: "Compress", attrs: at(ewInt("axis", 0)), in: ts(x, ewBool(s(3), true, true, true)), err: "3 values for dimension 2"},
		{name: "reverse sequence length", op: "ReverseSequence", in: ts(x, ewI64(s(3), 1, 2, 3)), err: "out of range"},
		{name: "reverse sequence count", op: "ReverseSequence", in: ts(x, ewI64(s(2), 1, 1)), err: "2 values for batch size 3"},
		{name: "reverse sequence axes", op: "ReverseSequence", attrs: at(ewInt("batch_axis", 0)), in: ts(x, ewI64(s(2), 1, 1)), err: "batch_axis 0 and time_axis 0"},
		{name: "onehot depth huge", op: "OneHot", in: ts(ewI64(s(2), 0, 1), ewI64(nil, big), ewF32(s(2), 0, 1)), err: "invalid depth"},
		{name: "onehot output huge", op: "OneHot", in: ts(ewIota(1<<11), ewI64(nil, 1<<20), ewF32(s(2), 0, 1)), err: "more than"},
		{name: "onehot values", op: "OneHot", in: ts(ewI64(s(2), 0, 1), ewI64(nil, 2), ewF32(s(3), 0, 1, 2)), err: "want 2 values"},
		{name: "mean int", op: "Mean", in: ts(ewI64(s(1), 1)), err: "unsupported dtype"},
	}
	ewRunCases(t, cases)
}
