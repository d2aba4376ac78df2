package infer

import (
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Expected values: scripts/ref_index_ops.py (torch.unique with
// return_inverse and return_counts; the cache update written out with
// PyTorch indexing). Unique's first-occurrence indices are read off the
// input, and its unsorted case is the sorted one's groups in order of first
// occurrence, as the spec defines it. CenterCropPad is checked by the ONNX
// node cases (conformance.txt).
func TestSelectOps(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	at := func(v ...*onnx.Attribute) []*onnx.Attribute { return v }
	str := func(name, v string) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: []byte(v)}
	}
	u := ewI64(s(4, 2), 2, 1, 0, 1, 2, 1, 0, 0)
	cases := []ewCase{
		{name: "unique rows sorted", op: "Unique", attrs: at(ewInt("axis", 0)), in: ts(u),
			want: ts(ewI64(s(3, 2), 0, 0, 0, 1, 2, 1), ewI64(s(3), 3, 1, 0), ewI64(s(4), 2, 1, 2, 0), ewI64(s(3), 1, 1, 2))},
		{name: "unique rows unsorted", op: "Unique", attrs: at(ewInt("axis", -2), ewInt("sorted", 0)), in: ts(u),
			want: ts(ewI64(s(3, 2), 2, 1, 0, 1, 0, 0), ewI64(s(3), 0, 1, 3), ewI64(s(4), 0, 1, 0, 2), ewI64(s(3), 2, 1, 1))},
		{name: "unique flat", op: "Unique", in: ts(ewF32(s(2, 2), 3, -1, 3, 0.5)),
			want: ts(ewF32(s(3), -1, 0.5, 3), ewI64(s(3), 1, 3, 0), ewI64(s(4), 2, 0, 2, 1), ewI64(s(3), 1, 1, 2))},
		{name: "tensorscatter circular", op: "TensorScatter", opset: 24, attrs: at(ewInt("axis", 1), str("mode", "circular")),
			in:   ts(ewIota(2, 3, 2), ewF32(s(2, 2, 2), -1, -2, -3, -4, -5, -6, -7, -8), ewI64(s(2), 2, 0)),
			want: ts(ewF32(s(2, 3, 2), -3, -4, 2, 3, -1, -2, -5, -6, -7, -8, 10, 11))},
	}
	ewRunCases(t, cases)
}

func TestSelectErrors(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	at := func(v ...*onnx.Attribute) []*onnx.Attribute { return v }
	str := func(name, v string) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: []byte(v)}
	}
	x := ewIota(2, 3)
	cases := []ewCase{
		{name: "crop shape count", op: "CenterCropPad", opset: 18, in: ts(x, ewI64(s(1), 2)), err: "1 values for 2 axes"},
		{name: "crop negative", op: "CenterCropPad", opset: 18, in: ts(x, ewI64(s(2), 2, -1)), err: "invalid dimension"},
		{name: "crop huge", op: "CenterCropPad", opset: 18, in: ts(x, ewI64(s(2), 1<<20, 1<<20)), err: "more than"},
		{name: "crop axis repeated", op: "CenterCropPad", opset: 18, attrs: at(ewInts("axes", 0, -2)), in: ts(x, ewI64(s(2), 1, 1)), err: "repeated"},
		{name: "scatter batch axis", op: "TensorScatter", opset: 24, attrs: at(ewInt("axis", 0)), in: ts(x, x), err: "batch axis"},
		{name: "scatter linear overflow", op: "TensorScatter", opset: 24, attrs: at(ewInt("axis", 1)),
			in: ts(x, ewIota(2, 2), ewI64(s(2), 0, 2)), err: "exceeds the cache length"},
		{name: "scatter update shape", op: "TensorScatter", opset: 24, attrs: at(ewInt("axis", 1)), in: ts(x, ewIota(2, 4)), err: "does not fit"},
		{name: "scatter mode", op: "TensorScatter", opset: 24, attrs: at(str("mode", "ring")), in: ts(x, x), err: "attribute \"mode\""},
		{name: "scatter indices count", op: "TensorScatter", opset: 24, attrs: at(ewInt("axis", 1)), in: ts(x, x, ewI64(s(1), 0)), err: "1 values for batch size 2"},
		{name: "unique axis", op: "Unique", attrs: at(ewInt("axis", 2)), in: ts(x), err: "axis 2 out of range"},
	}
	ewRunCases(t, cases)
}

// Expected values: onnxruntime-node 1.30 on single-node models with the
// same inputs (a score equal to score_threshold is dropped; equal scores
// are taken in index order; the IoU of boxes 0 and 1 is 1/3).
func TestNonMaxSuppression(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	at := func(v ...*onnx.Attribute) []*onnx.Attribute { return v }
	corners := ewF32(s(1, 3, 4), 0, 0, 1, 1, 0, 0, 1, 1, 0, 2, 1, 3)
	centers := ewF32(s(1, 4, 4), 0.5, 0.5, 1, 1, 1.0, 0.5, 1, 1, 5, 5, 2, 2, 0.5, 0.5, 1, 1)
	scores2 := ewF32(s(1, 2, 4), 0.9, 0.8, 0.7, 0.9, 0.1, 0.2, 0.3, 0.3)
	cases := []ewCase{
		{name: "score threshold boundary", op: "NonMaxSuppression", opset: 11,
			in:   ts(corners, ewF32(s(1, 1, 3), 0.4, 0.9, 0.4), ewI64(s(1), 5), ewF32(s(1), 0.5), ewF32(s(1), 0.4)),
			want: ts(ewI64(s(1, 3), 0, 0, 1))},
		{name: "center limit", op: "NonMaxSuppression", opset: 11, attrs: at(ewInt("center_point_box", 1)),
			in:   ts(centers, scores2, ewI64(s(1), 2), ewF32(s(1), 0.3)),
			want: ts(ewI64(s(4, 3), 0, 0, 0, 0, 0, 2, 0, 1, 2, 0, 1, 3))},
		{name: "center iou 0.34", op: "NonMaxSuppression", opset: 10, attrs: at(ewInt("center_point_box", 1)),
			in:   ts(centers, scores2, ewI64(s(1), 3), ewF32(s(1), 0.34)),
			want: ts(ewI64(s(6, 3), 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 1, 2, 0, 1, 3, 0, 1, 1))},
		{name: "no max output", op: "NonMaxSuppression", opset: 11, in: ts(corners, ewF32(s(1, 1, 3), 1, 2, 3)), want: ts(ewI64(s(0, 3)))},
		{name: "scores shape", op: "NonMaxSuppression", in: ts(corners, ewF32(s(1, 1, 2), 1, 2)), err: "want boxes"},
		{name: "int boxes", op: "NonMaxSuppression", in: ts(ewI64(s(1, 1, 4), 0, 0, 1, 1), ewF32(s(1, 1, 1), 1)), err: "want float tensors"},
		{name: "max output not scalar", op: "NonMaxSuppression", in: ts(corners, ewF32(s(1, 1, 3), 1, 2, 3), ewI64(s(2), 1, 1)), err: "want a scalar"},
		{name: "center_point_box", op: "NonMaxSuppression", attrs: at(ewInt("center_point_box", 2)), in: ts(corners, ewF32(s(1, 1, 3), 1, 2, 3)), err: "center_point_box"},
	}
	ewRunCases(t, cases)
}
