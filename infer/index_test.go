package infer

import (
	"math"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Expected values: scripts/ref_index_ops.py (PyTorch: torch.sort with
// stable=True for TopK's tie order, argmax, scatter_reduce, gather,
// index_put_ with accumulate, advanced indexing), on the same inputs.
func TestIndexOps(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	at := func(v ...*onnx.Attribute) []*onnx.Attribute { return v }
	str := func(name, v string) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: []byte(v)}
	}
	x6 := ewF32(s(6), 3, 1, 3, 2, 1, 3)
	xnan := ewF32(s(5), 1, math.NaN(), 3, 2, math.NaN())
	y := ewF32(s(2, 3), 1, 5, 5, 2, 2, 0)
	data := ewIota(3, 3)
	idx2 := ewI64(s(3, 2), 1, 1, 0, 0, 2, 2)
	upd2 := ewF32(s(3, 2), 4, 9, -1, 1, 7, 7)
	cases := []ewCase{
		{name: "topk largest ties", op: "TopK", opset: 11, in: ts(x6, ewI64(s(1), 3)),
			want: ts(ewF32(s(3), 3, 3, 3), ewI64(s(3), 0, 2, 5))},
		{name: "topk smallest ties", op: "TopK", opset: 11, attrs: at(ewInt("largest", 0)), in: ts(x6, ewI64(s(1), 2)),
			want: ts(ewF32(s(2), 1, 1), ewI64(s(2), 1, 4))},
		{name: "topk attribute k axis 1", op: "TopK", opset: 1, attrs: at(ewInt("k", 2), ewInt("axis", 1)), in: ts(ewIota(2, 3, 2)),
			want: ts(ewF32(s(2, 2, 2), 4, 5, 2, 3, 10, 11, 8, 9), ewI64(s(2, 2, 2), 2, 2, 1, 1, 2, 2, 1, 1))},
		{name: "topk k 0", op: "TopK", opset: 10, in: ts(x6, ewI64(s(1), 0)), want: ts(ewF32(s(0)), ewI64(s(0)))},
		// torch.topk, argmax and argmin on [1, NaN, 3, 2, NaN]: NaN is the largest and smallest.
		{name: "topk nan largest", op: "TopK", in: ts(xnan, ewI64(s(1), 3)),
			want: ts(ewF32(s(3), math.NaN(), math.NaN(), 3), ewI64(s(3), 1, 4, 2))},
		{name: "topk nan smallest", op: "TopK", attrs: at(ewInt("largest", 0)), in: ts(xnan, ewI64(s(1), 3)),
			want: ts(ewF32(s(3), 1, 2, 3), ewI64(s(3), 0, 3, 2))},
		{name: "argmax nan", op: "ArgMax", attrs: at(ewInt("keepdims", 0)), in: ts(xnan), want: ts(ewI64(nil, 1))},
		{name: "argmin nan", op: "ArgMin", attrs: at(ewInt("keepdims", 0)), in: ts(xnan), want: ts(ewI64(nil, 1))},
		{name: "argmax first", op: "ArgMax", attrs: at(ewInt("axis", 1)), in: ts(y), want: ts(ewI64(s(2, 1), 1, 0))},
		{name: "argmax last", op: "ArgMax", attrs: at(ewInt("axis", -1), ewInt("select_last_index", 1)), in: ts(y),
			want: ts(ewI64(s(2, 1), 2, 1))},
		{name: "argmin no keepdims", op: "ArgMin", attrs: at(ewInt("keepdims", 0)), in: ts(y), want: ts(ewI64(s(3), 0, 1, 1))},
		{name: "scatter elements add negative", op: "ScatterElements", opset: 16, attrs: at(str("reduction", "add")),
			in:   ts(data, ewI64(s(2, 3), 1, -3, 2, 0, -1, 1), ewF32(s(2, 3), 10, 20, 30, 40, 50, 60)),
			want: ts(ewF32(s(3, 3), 40, 21, 2, 13, 4, 65, 6, 57, 38))},
		{name: "scatter elements max duplicates", op: "ScatterElements", opset: 18, attrs: at(ewInt("axis", 1), str("reduction", "max")),
			in: ts(data, idx2, upd2), want: ts(ewF32(s(3, 3), 0, 9, 2, 3, 4, 5, 6, 7, 8))},
		{name: "scatter elements mul duplicates", op: "ScatterElements", opset: 16, attrs: at(ewInt("axis", 1), str("reduction", "mul")),
			in: ts(data, idx2, upd2), want: ts(ewF32(s(3, 3), 0, 36, 2, -3, 4, 5, 6, 7, 392))},
		{name: "gather elements", op: "GatherElements", attrs: at(ewInt("axis", 1)), in: ts(data, idx2),
			want: ts(ewF32(s(3, 2), 1, 1, 3, 3, 8, 8))},
		{name: "scatter nd add duplicate rows", op: "ScatterND", opset: 16, attrs: at(str("reduction", "add")),
			in:   ts(ewIota(2, 3), ewI64(s(3, 1), 1, -2, 1), ewF32(s(3, 3), 1, 1, 1, 2, 2, 2, 3, 3, 3)),
			want: ts(ewF32(s(2, 3), 2, 3, 4, 7, 8, 9))},
		{name: "gather nd batch dims", op: "GatherND", opset: 12, attrs: at(ewInt("batch_dims", 1)),
			in: ts(ewIota(2, 3, 4), ewI64(s(2, 1, 2), 2, 1, 0, -1)), want: ts(ewF32(s(2, 1), 9, 15))},
	}
	ewRunCases(t, cases)
}

// TestIndexErrors checks that bad attributes, indices and shapes are errors
// naming the node, at load or at run time.
func TestIndexErrors(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	at := func(v ...*onnx.Attribute) []*onnx.Attribute { return v }
	str := func(name, v string) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: []byte(v)}
	}
	x := ewIota(2, 3)
	cases := []ewCase{
		{name: "topk k too large", op: "TopK", in: ts(x, ewI64(s(1), 4)), err: "k 4 out of range"},
		{name: "topk negative k", op: "TopK", in: ts(x, ewI64(s(1), -1)), err: "out of range"},
		{name: "topk two k", op: "TopK", in: ts(x, ewI64(s(2), 1, 1)), err: "want one value"},
		{name: "topk opset 1 without k", op: "TopK", opset: 1, in: ts(x), err: "\"k\" is required"},
		{name: "topk bool", op: "TopK", in: ts(ewBool(s(2), true, false), ewI64(s(1), 1)), err: "unsupported dtype"},
		{name: "argmax axis", op: "ArgMax", attrs: at(ewInt("axis", 2)), in: ts(x), err: "axis 2 out of range"},
		{name: "argmax empty axis", op: "ArgMax", in: ts(ewF32(s(0, 2))), err: "empty"},
		{name: "gather elements index", op: "GatherElements", in: ts(x, ewI64(s(1, 1), 2)), err: "index 2 out of range"},
		{name: "gather elements negative index", op: "GatherElements", in: ts(x, ewI64(s(1, 1), -3)), err: "index -3 out of range"},
		{name: "gather elements rank", op: "GatherElements", in: ts(x, ewI64(s(1), 0)), err: "differ in rank"},
		{name: "gather elements wide indices", op: "GatherElements", in: ts(x, ewI64(s(1, 4), 0, 0, 0, 0)), err: "exceed data"},
		{name: "gather elements float indices", op: "GatherElements", in: ts(x, ewF32(s(1, 1), 0)), err: "indices: want int64"},
		{name: "scatter elements index", op: "ScatterElements", in: ts(x, ewI64(s(1, 1), 5), ewF32(s(1, 1), 1)), err: "index 5 out of range"},
		{name: "scatter elements updates shape", op: "ScatterElements", in: ts(x, ewI64(s(1, 1), 0), ewF32(s(1, 2), 1, 2)), err: "differ in shape"},
		{name: "scatter elements updates dtype", op: "ScatterElements", in: ts(x, ewI64(s(1, 1), 0), ewI64(s(1, 1), 1)), err: "updates dtype"},
		{name: "scatter elements reduction", op: "ScatterElements", opset: 16, attrs: at(str("reduction", "max")), in: ts(x, ewI64(s(1, 1), 0), ewF32(s(1, 1), 1)), err: "attribute \"reduction\""},
		{name: "scatter elements bool add", op: "ScatterElements", opset: 16, attrs: at(str("reduction", "add")),
			in: ts(ewBool(s(1), true), ewI64(s(1), 0), ewBool(s(1), true)), err: "reduction on bool"},
		{name: "scatter nd index", op: "ScatterND", in: ts(x, ewI64(s(1, 2), 1, 3), ewF32(s(1), 1)), err: "index 3 out of range"},
		{name: "scatter nd tuple too long", op: "ScatterND", in: ts(x, ewI64(s(1, 3), 0, 0, 0), ewF32(s(1), 1)), err: "index tuples of 3"},
		{name: "scatter nd updates shape", op: "ScatterND", in: ts(x, ewI64(s(1, 1), 0), ewF32(s(1, 2), 1, 2)), err: "updates"},
		{name: "gather nd batch dims", op: "GatherND", opset: 12, attrs: at(ewInt("batch_dims", 2)), in: ts(x, ewI64(s(2, 1), 0, 0)), err: "batch_dims 2 invalid"},
		{name: "gather nd batch mismatch", op: "GatherND", opset: 12, attrs: at(ewInt("batch_dims", 1)), in: ts(x, ewI64(s(3, 1), 0, 0, 0)), err: "batch dimension 0"},
		{name: "gather nd index", op: "GatherND", in: ts(x, ewI64(s(1, 2), -3, 0)), err: "index -3 out of range"},
	}
	ewRunCases(t, cases)
}
