package infer

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestQuantOnnxruntime runs one-node models of the quantization ops on
// the cases the node suite leaves out (ties and saturation, negative axes,
// ragged blocks, per-column zero points and scales, batch broadcasting,
// groups with per-channel scales, padding, strides, dilations, 1-D and 3-D
// convolutions, DynamicQuantizeLinear of zeros) against onnxruntime 1.30's
// outputs, exactly (fixtures from scripts/make_quant_ort_cases.py and
// scripts/ort_expect.js).
func TestQuantOnnxruntime(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "quant_ort", "*"))
	if len(dirs) != 24 {
		t.Fatalf("found %d cases under testdata/quant_ort, want 24", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { runNodeCaseTol(t, dir, 0, 0) })
	}
}

// TestQuantErrors checks that bad scales, zero points, axes and types are
// refused with errors naming the problem, and that the element types the
// tensor lacks are refused at load as unsupported.
func TestQuantErrors(t *testing.T) {
	f32 := func(shape []int, v ...float64) *tensor.Tensor { return ewT(tensor.Float32, shape, v...) }
	u8 := func(shape []int, v ...float64) *tensor.Tensor { return ewT(tensor.Uint8, shape, v...) }
	i8 := func(shape []int, v ...float64) *tensor.Tensor { return ewT(tensor.Int8, shape, v...) }
	x := f32([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	tests := []struct {
		c           ewCase
		unsupported bool
	}{
		{ewCase{name: "per-axis before 13", op: "QuantizeLinear", opset: 10, in: []*tensor.Tensor{x, f32([]int{3}, 1, 1, 1)}, err: "want a scalar (per-axis scales need opset 13)"}, false},
		{ewCase{name: "axis range", op: "QuantizeLinear", opset: 13, attrs: []*onnx.Attribute{ewInt("axis", 2)}, in: []*tensor.Tensor{x, f32([]int{3}, 1, 1, 1)}, err: `attribute "axis": 2 out of range`}, false},
		{ewCase{name: "scale length", op: "DequantizeLinear", opset: 13, in: []*tensor.Tensor{u8([]int{2, 3}, 1, 2, 3, 4, 5, 6), f32([]int{2}, 1, 1)}, err: "want a scalar or 3 values for axis 1"}, false},
		{ewCase{name: "zero point shape", op: "QuantizeLinear", opset: 13, in: []*tensor.Tensor{x, f32([]int{3}, 1, 1, 1), u8([]int{1}, 0)}, err: "differ in shape"}, false},
		{ewCase{name: "zero point type", op: "DequantizeLinear", opset: 13, in: []*tensor.Tensor{u8([]int{1}, 1), f32(nil, 1), i8(nil, 0)}, err: "want the type of x"}, false},
		{ewCase{name: "blocked scale shape", op: "QuantizeLinear", opset: 21, attrs: []*onnx.Attribute{ewInt("axis", 1), ewInt("block_size", 2)}, in: []*tensor.Tensor{x, f32([]int{2, 1}, 1, 1)}, err: "axis 1 of size ceil(3/block_size 2) = 2"}, false},
		{ewCase{name: "negative block_size", op: "DequantizeLinear", opset: 21, attrs: []*onnx.Attribute{ewInt("block_size", -1)}, in: []*tensor.Tensor{u8(nil, 1), f32(nil, 1)}, err: `attribute "block_size": want a non-negative value`}, false},
		{ewCase{name: "output_dtype vs zero point", op: "QuantizeLinear", opset: 21, attrs: []*onnx.Attribute{ewInt("output_dtype", 3)}, in: []*tensor.Tensor{x, f32(nil, 1), u8(nil, 0)}, err: "zero point is uint8, output_dtype int8"}, false},
		{ewCase{name: "float scale only", op: "DequantizeLinear", opset: 13, in: []*tensor.Tensor{u8(nil, 1), ewT(tensor.Float64, nil, 1)}, err: "scale: want float32"}, false},
		{ewCase{name: "output_dtype float32", op: "QuantizeLinear", opset: 21, attrs: []*onnx.Attribute{ewInt("output_dtype", 1)}, in: []*tensor.Tensor{x, f32(nil, 1)}, err: `attribute "output_dtype": float32`}, true},
		{ewCase{name: "precision bfloat16", op: "QuantizeLinear", opset: 23, attrs: []*onnx.Attribute{ewInt("precision", 16)}, in: []*tensor.Tensor{x, f32(nil, 1)}, err: `attribute "precision": bfloat16`}, true},
		{ewCase{name: "dequantize to float16", op: "DequantizeLinear", opset: 23, attrs: []*onnx.Attribute{ewInt("output_dtype", 10)}, in: []*tensor.Tensor{u8(nil, 1), f32(nil, 1)}, err: `attribute "output_dtype": float16`}, true},
		{ewCase{name: "matmul shapes", op: "MatMulInteger", opset: 10, in: []*tensor.Tensor{u8([]int{2, 3}, 1, 2, 3, 4, 5, 6), u8([]int{2, 1}, 1, 2)}, err: "do not multiply"}, false},
		{ewCase{name: "matmul zero points", op: "MatMulInteger", opset: 10, in: []*tensor.Tensor{u8([]int{1, 2}, 1, 2), u8([]int{2, 1}, 1, 2), u8([]int{3}, 0, 0, 0)}, err: "a_zero_point is uint8[3], want 1 or 1 values"}, false},
		{ewCase{name: "matmul types", op: "MatMulInteger", opset: 10, in: []*tensor.Tensor{x, u8([]int{3, 1}, 1, 2, 3)}, err: "want int8 or uint8 A and B"}, false},
		{ewCase{name: "conv group", op: "ConvInteger", opset: 10, attrs: []*onnx.Attribute{ewInt("group", 0)}, in: []*tensor.Tensor{u8([]int{1, 1, 1, 1}, 1), u8([]int{1, 1, 1, 1}, 1)}, err: `attribute "group": want a positive value`}, false},
		{ewCase{name: "conv channels", op: "ConvInteger", opset: 10, in: []*tensor.Tensor{u8([]int{1, 2, 1, 1}, 1, 1), u8([]int{1, 1, 1, 1}, 1)}, err: "do not match group 1"}, false},
		{ewCase{name: "conv weight zero points", op: "ConvInteger", opset: 10, in: []*tensor.Tensor{u8([]int{1, 1, 1, 1}, 1), u8([]int{2, 1, 1, 1}, 1, 1), u8(nil, 0), u8([]int{3}, 0, 0, 0)}, err: "want 1 or 2 values"}, false},
		{ewCase{name: "qlinearconv bias", op: "QLinearConv", opset: 10, in: []*tensor.Tensor{u8([]int{1, 1, 1, 1}, 1), f32(nil, 1), u8(nil, 0), u8([]int{1, 1, 1, 1}, 1), f32(nil, 1), u8(nil, 0), f32(nil, 1), u8(nil, 0), f32([]int{1}, 1)}, err: "B is float32[1], want int32[M]"}, false},
		{ewCase{name: "qlinearmatmul y_zero_point", op: "QLinearMatMul", opset: 10, in: []*tensor.Tensor{u8([]int{1, 1}, 1), f32(nil, 1), u8(nil, 0), u8([]int{1, 1}, 1), f32(nil, 1), u8(nil, 0), f32(nil, 1), u8([]int{2}, 0, 0)}, err: "want one float32 and one int8 or uint8 value"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.c.name, func(t *testing.T) {
			_, err := ewRun(tc.c, 1)
			if err == nil || !strings.Contains(err.Error(), tc.c.err) {
				t.Fatalf("%s-%d: error = %v, want one containing %q", tc.c.op, tc.c.opset, err, tc.c.err)
			}
			var ue *unsupportedError
			if got := errors.As(err, &ue); got != tc.unsupported {
				t.Errorf("%s-%d: error %q: unsupported = %v, want %v", tc.c.op, tc.c.opset, err, got, tc.unsupported)
			}
			if tc.unsupported && !strings.Contains(err.Error(), `node "n_`+tc.c.op+`"`) {
				t.Errorf("error %q does not name the node", err)
			}
		})
	}
}

// TestFuseQDQ checks that the QDQ convolutions and Gemms of onnxkit
// quantize's LeNet5 and CNN models become QLinearConvs and QLinearMatMuls
// (with bias) at load, that no
// DequantizeLinear of constants (the Gemms' weights) is left, and that their
// quantized outputs are within one step of the unfused float path's
// (which rounds a float sum of products where the fused op sums integers).
func TestFuseQDQ(t *testing.T) {
	for _, tc := range []struct {
		name         string
		convs, gemms int
	}{{"lenet5_qdq", 3, 2}, {"cnn_qdq", 1, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("..", "quantize", "testdata", tc.name)
			m, err := onnx.ReadFile(filepath.Join(dir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			// Make each Conv's and Gemm's QuantizeLinear output a graph output.
			convOut := map[string]bool{}
			for _, n := range m.Graph.Nodes {
				if n.OpType == "Conv" || n.OpType == "Gemm" {
					convOut[n.Outputs[0]] = true
				}
			}
			var watched []string
			for _, n := range m.Graph.Nodes {
				if n.OpType == "QuantizeLinear" && convOut[n.Inputs[0]] {
					watched = append(watched, n.Outputs[0])
					m.Graph.Outputs = append(m.Graph.Outputs, &onnx.ValueInfo{Name: n.Outputs[0], DType: tensor.Uint8, ElemType: 2})
				}
			}
			if len(watched) != tc.convs+tc.gemms {
				t.Fatalf("found %d quantized Conv and Gemm outputs, want %d", len(watched), tc.convs+tc.gemms)
			}
			fused, err := NewSession(m)
			if err != nil {
				t.Fatal(err)
			}
			convs, gemms := 0, 0
			for _, pn := range fused.plan.nodes {
				switch o := pn.op.(type) {
				case *qconvOp:
					convs++
				case *qmatMulOp:
					if o.gemm && len(pn.in) == 9 {
						gemms++
					}
				}
			}
			if convs != tc.convs || gemms != tc.gemms {
				t.Errorf("%d QLinearConvs and %d QLinearMatMuls with bias after fusion, want %d and %d", convs, gemms, tc.convs, tc.gemms)
			}
			for _, pn := range fused.plan.nodes {
				if o, ok := pn.op.(*quantLinearOp); ok && o.dequant && fused.plan.allConstant(pn.in) {
					t.Errorf("node %q: DequantizeLinear of constants not folded", pn.node.Name)
				}
			}
			plain := plainSession(t, m)
			_, x, err := onnx.ReadTensorFile(filepath.Join(dir, "test_data_set_0", "input_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			feeds := map[string]*tensor.Tensor{fused.Inputs()[0].Name: x}
			got, err := fused.Run(feeds)
			if err != nil {
				t.Fatal(err)
			}
			want, err := plain.Run(feeds)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range watched {
				g, w := got[name], want[name]
				diff := 0
				for i := range w.U8 {
					d := int(g.U8[i]) - int(w.U8[i])
					if d > 1 || d < -1 {
						t.Fatalf("%s element %d: fused %d, float path %d", name, i, g.U8[i], w.U8[i])
					}
					if d != 0 {
						diff++
					}
				}
				t.Logf("%s: %d of %d values one step from the float path's", name, diff, len(w.U8))
			}
		})
	}
}
