package infer

import (
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

func TestPad(t *testing.T) {
	// The first four cases are Examples 1-4 of Pad in Operators.md.
	data := tensor.FromFloat32([]float32{1.0, 1.2, 2.3, 3.4, 4.5, 5.7}, 3, 2)
	i64 := func(v ...int64) *tensor.Tensor { return tensor.FromInt64(v, len(v)) }
	tests := []struct {
		name  string
		opset int64
		attrs []*onnx.Attribute
		ins   []*tensor.Tensor
		want  *tensor.Tensor
	}{
		{"spec constant", 11, nil, []*tensor.Tensor{data, i64(0, 2, 0, 0), tensor.FromFloat32([]float32{0})},
			tensor.FromFloat32([]float32{0, 0, 1.0, 1.2, 0, 0, 2.3, 3.4, 0, 0, 4.5, 5.7}, 3, 4)},
		{"spec reflect", 11, []*onnx.Attribute{aString("mode", "reflect")}, []*tensor.Tensor{data, i64(0, 2, 0, 0)},
			tensor.FromFloat32([]float32{1.0, 1.2, 1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7, 4.5, 5.7}, 3, 4)},
		{"spec edge", 11, []*onnx.Attribute{aString("mode", "edge")}, []*tensor.Tensor{data, i64(0, 2, 0, 0)},
			tensor.FromFloat32([]float32{1.0, 1.0, 1.0, 1.2, 2.3, 2.3, 2.3, 3.4, 4.5, 4.5, 4.5, 5.7}, 3, 4)},
		{"spec wrap", 19, []*onnx.Attribute{aString("mode", "wrap")}, []*tensor.Tensor{data, i64(2, 1, 1, 1)},
			tensor.FromFloat32([]float32{
				3.4, 2.3, 3.4, 2.3,
				5.7, 4.5, 5.7, 4.5,
				1.2, 1.0, 1.2, 1.0,
				3.4, 2.3, 3.4, 2.3,
				5.7, 4.5, 5.7, 4.5,
				1.2, 1.0, 1.2, 1.0,
			}, 6, 4)},
		// Opset 2: pads and value from attributes; one row before and after,
		// filled with 9.
		{"attributes", 2, []*onnx.Attribute{aInts("pads", 1, 0, 1, 0), aFloat("value", 9)}, []*tensor.Tensor{data},
			tensor.FromFloat32([]float32{9, 9, 1.0, 1.2, 2.3, 3.4, 4.5, 5.7, 9, 9}, 5, 2)},
		// Negative pads crop: drop the first row and the last column.
		{"negative", 11, nil, []*tensor.Tensor{data, i64(-1, 0, 0, -1)},
			tensor.FromFloat32([]float32{2.3, 4.5}, 2, 1)},
		// Crop then edge-extend: rows 2.3 and 4.5 of column 0 remain.
		{"negative edge", 11, []*onnx.Attribute{aString("mode", "edge")}, []*tensor.Tensor{data, i64(-1, 0, 1, -1)},
			tensor.FromFloat32([]float32{2.3, 4.5, 4.5}, 3, 1)},
		// Reflect beyond the axis size repeats the mirror image, as numpy.pad
		// does by reflecting in steps of at most size-1: [1 2 3] -> 3 2 | 1 2 3
		// -> 1 2 | 3 2 1 2 3, so 4 before gives [1 2 3 2 1 2 3].
		{"reflect wide", 11, []*onnx.Attribute{aString("mode", "reflect")}, []*tensor.Tensor{tensor.FromFloat32([]float32{1, 2, 3}, 3), i64(4, 0)},
			tensor.FromFloat32([]float32{1, 2, 3, 2, 1, 2, 3}, 7)},
		// Axes input (opset 18): pad only axis -1 by one on each side.
		{"axes", 18, nil, []*tensor.Tensor{data, i64(1, 1), tensor.FromFloat32([]float32{7}), i64(-1)},
			tensor.FromFloat32([]float32{7, 1.0, 1.2, 7, 7, 2.3, 3.4, 7, 7, 4.5, 5.7, 7}, 3, 4)},
		{"int64 constant", 13, nil, []*tensor.Tensor{tensor.FromInt64([]int64{1, 2}, 2), i64(1, 0), tensor.FromInt64([]int64{-1})},
			tensor.FromInt64([]int64{-1, 1, 2}, 3)},
		{"scalar", 13, nil, []*tensor.Tensor{tensor.FromFloat32([]float32{5}), i64()}, tensor.FromFloat32([]float32{5})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runOp("Pad", tt.opset, tt.attrs, 1, tt.ins...)
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, "Pad", got[0], tt.want, 0)
		})
	}
}

func TestPadBool(t *testing.T) {
	x := &tensor.Tensor{DType: tensor.Bool, Shape: []int{2}, B: []bool{true, false}}
	got, err := runOp("Pad", 13, []*onnx.Attribute{aString("mode", "edge")}, 1, x, tensor.FromInt64([]int64{0, 2}, 2))
	if err != nil {
		t.Fatal(err)
	}
	if g := got[0].B; len(g) != 4 || !g[0] || g[1] || g[2] || g[3] {
		t.Errorf("Pad(bool, edge) = %v, want [true false false false]", g)
	}
}

func TestPadErrors(t *testing.T) {
	x := tensor.New(tensor.Float32, 3, 2)
	i64 := func(v ...int64) *tensor.Tensor { return tensor.FromInt64(v, len(v)) }
	tests := []struct {
		name  string
		opset int64
		attrs []*onnx.Attribute
		ins   []*tensor.Tensor
		want  string
	}{
		{"pads length", 11, nil, []*tensor.Tensor{x, i64(1, 1)}, "pads has 2 values, want 4"},
		{"pads dtype", 11, nil, []*tensor.Tensor{x, tensor.New(tensor.Float32, 4)}, "want 1-D int64"},
		{"crop too much", 11, nil, []*tensor.Tensor{x, i64(-2, 0, -2, 0)}, "remove more than the 3 elements of axis 0"},
		{"huge", 11, nil, []*tensor.Tensor{x, i64(1<<40, 0, 0, 0)}, "more than"},
		{"out of range", 11, nil, []*tensor.Tensor{x, i64(1<<62, 0, 0, 0)}, "out of range"},
		{"reflect empty", 11, []*onnx.Attribute{aString("mode", "reflect")}, []*tensor.Tensor{tensor.New(tensor.Float32, 0), i64(1, 1)}, "no elements to extend"},
		{"wrap before 19", 18, []*onnx.Attribute{aString("mode", "wrap")}, []*tensor.Tensor{x, i64(0, 0, 0, 0)}, `"wrap" needs opset 19`},
		{"mode", 11, []*onnx.Attribute{aString("mode", "mirror")}, []*tensor.Tensor{x, i64(0, 0, 0, 0)}, `unknown value "mirror"`},
		{"axis range", 18, nil, []*tensor.Tensor{x, i64(1, 1), nil, i64(2)}, "axis 2 out of range"},
		{"axis repeated", 18, nil, []*tensor.Tensor{x, i64(1, 1, 1, 1), nil, i64(0, -2)}, "axis 0 repeated"},
		{"constant dtype", 11, nil, []*tensor.Tensor{x, i64(0, 0, 0, 0), tensor.FromInt64([]int64{1})}, "want a float32 scalar"},
		{"attr pads missing", 2, nil, []*tensor.Tensor{x}, `attribute "pads" is required`},
		{"axes before 18", 13, nil, []*tensor.Tensor{x, i64(1, 1), nil, i64(0)}, "want 2 to 3 inputs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runOp("Pad", tt.opset, tt.attrs, 1, tt.ins...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), `node "n" (Pad): `) {
				t.Errorf("Pad error = %v, want one naming the node and containing %q", err, tt.want)
			}
		})
	}
}
