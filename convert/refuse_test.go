package convert_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/convert"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
	"github.com/onnxkit/onnxkit/verify"
)

func f32Input(name string, dims ...int64) *onnx.ValueInfo {
	v := &onnx.ValueInfo{Name: name, DType: tensor.Float32, ElemType: onnx.ElemTypeOf(tensor.Float32), HasShape: dims != nil}
	for _, d := range dims {
		if d < 0 {
			v.Shape = append(v.Shape, onnx.Dim{Value: -1, Param: "N"})
		} else {
			v.Shape = append(v.Shape, onnx.Dim{Value: d})
		}
	}
	return v
}

func i64Input(name string) *onnx.ValueInfo {
	return &onnx.ValueInfo{Name: name, DType: tensor.Int64, ElemType: onnx.ElemTypeOf(tensor.Int64), HasShape: true, Shape: []onnx.Dim{{Value: 1}}}
}

// model builds a one-graph model whose outputs are the last node's.
func model(opset int64, inputs []*onnx.ValueInfo, inits []*onnx.Initializer, nodes ...*onnx.Node) *onnx.Model {
	g := &onnx.Graph{Name: "g", Nodes: nodes, Inputs: inputs, Initializers: inits}
	for _, o := range nodes[len(nodes)-1].Outputs {
		g.Outputs = append(g.Outputs, &onnx.ValueInfo{Name: o, DType: tensor.Float32, ElemType: onnx.ElemTypeOf(tensor.Float32)})
	}
	return &onnx.Model{IRVersion: 7, OpsetImports: []onnx.OpsetImport{{Version: opset}}, Graph: g}
}

func node(name, op string, in, out []string, attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{Name: name, OpType: op, Inputs: in, Outputs: out, Attrs: attrs}
}

func ints(name string, v ...int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
}

func intA(name string, v int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInt, I: v}
}

// Every conversion that cannot keep the meaning is refused, with every
// offending node named in one error.
func TestRefusals(t *testing.T) {
	x := []*onnx.ValueInfo{f32Input("x", 2, 3, 4)}
	xAxes := []*onnx.ValueInfo{f32Input("x", 2, 1, 4), i64Input("axes")}
	xUnknown := []*onnx.ValueInfo{f32Input("x")}
	tests := []struct {
		name string
		m    *onnx.Model
		o    convert.Options
		want []string // substrings of the error, each node's name among them
	}{
		{"squeeze axes from an input", model(13, xAxes, nil, node("sq", "Squeeze", []string{"x", "axes"}, []string{"y"})),
			convert.Options{Opset: 11}, []string{`node "sq" (Squeeze)`, `input "axes"`, "not a constant"}},
		{"op newer than the target", model(12, x, nil, node("ge", "GreaterOrEqual", []string{"x", "x"}, []string{"y"})),
			convert.Options{Opset: 11}, []string{`node "ge" (GreaterOrEqual)`, "does not exist before opset 12"}},
		{"removed op", model(9, x, []*onnx.Initializer{{Name: "i", Tensor: tensor.FromInt64([]int64{0}, 1, 1, 1)}},
			node("sc", "Scatter", []string{"x", "i", "x"}, []string{"y"})),
			convert.Options{Opset: 11}, []string{`node "sc" (Scatter)`, "removed at opset 11"}},
		{"softmax axis of unknown rank", model(13, xUnknown, nil, node("sm", "Softmax", []string{"x"}, []string{"y"}, intA("axis", 1))),
			convert.Options{Opset: 12}, []string{`node "sm" (Softmax)`, "rank"}},
		{"two nodes at once", model(13, xAxes, nil,
			node("sq", "Squeeze", []string{"x", "axes"}, []string{"a"}),
			node("un", "Unsqueeze", []string{"a", "axes"}, []string{"y"})),
			convert.Options{Opset: 12}, []string{`node "sq" (Squeeze)`, `node "un" (Unsqueeze)`, "2 problems"}},
		{"ceil_mode before 10", model(11, []*onnx.ValueInfo{f32Input("x", 1, 1, 5, 5)}, nil,
			node("mp", "MaxPool", []string{"x"}, []string{"y"}, ints("kernel_shape", 2, 2), intA("ceil_mode", 1))),
			convert.Options{Opset: 9}, []string{`node "mp" (MaxPool)`, `"ceil_mode"`}},
		{"no adapter", model(21, x, nil, node("gn", "GroupNormalization", []string{"x", "x", "x"}, []string{"y"}, intA("num_groups", 1))),
			convert.Options{Opset: 18}, []string{`node "gn" (GroupNormalization)`, "no conversion from GroupNormalization-21 to GroupNormalization-18"}},
		{"resize half_pixel before 11", model(13, x, []*onnx.Initializer{{Name: "s", Tensor: tensor.FromFloat32([]float32{1, 1, 2}, 3)}},
			node("rs", "Resize", []string{"x", "", "s"}, []string{"y"})),
			convert.Options{Opset: 10}, []string{`node "rs" (Resize)`, "coordinate_transformation_mode"}},
		{"onnx-go lacks the op", model(11, x, nil, node("lrn", "LRN", []string{"x"}, []string{"y"}, intA("size", 3))),
			convert.Options{Target: "onnx-go"}, []string{`node "lrn" (LRN)`, "onnx-go has no LRN"}},
		{"average with a varying count", model(11, []*onnx.ValueInfo{f32Input("x", 1, 2, 5, 5)}, nil,
			node("ap", "AveragePool", []string{"x"}, []string{"y"}, ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1))),
			convert.Options{Target: "onnx-go"}, []string{`node "ap" (AveragePool)`, "count_include_pad=0"}},
		{"reshape -1 of unknown shape", model(11, xUnknown, []*onnx.Initializer{{Name: "s", Tensor: tensor.FromInt64([]int64{-1, 4}, 2)}},
			node("r", "Reshape", []string{"x", "s"}, []string{"y"})),
			convert.Options{Target: "onnx-go"}, []string{`node "r" (Reshape)`, "batch size"}},
		{"float Equal before 11", model(13, x, nil, node("eq", "Equal", []string{"x", "x"}, []string{"y"})),
			convert.Options{Opset: 10}, []string{`node "eq" (Equal)`, `input "x" of type float32`}},
		{"negative Gather index of unknown dimension", model(13, xUnknown, []*onnx.Initializer{{Name: "i", Tensor: tensor.FromInt64([]int64{-1}, 1)}},
			node("ga", "Gather", []string{"x", "i"}, []string{"y"})),
			convert.Options{Opset: 10}, []string{`node "ga" (Gather)`, "negative indices"}},
		{"a node without inputs", model(13, x, nil, node("n", "Relu", nil, []string{"y"})),
			convert.Options{Opset: 11}, []string{`node "n" (Relu)`, "too few"}},
		{"a Gemm with one input", model(13, x, nil, node("g", "Gemm", []string{"x"}, []string{"y"})),
			convert.Options{Target: "onnx-go"}, []string{`node "g" (Gemm)`, "too few"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := convert.Convert(tt.m, tt.o)
			var ce *convert.Error
			if !errors.As(err, &ce) {
				t.Fatalf("Convert = %v, want a *convert.Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Convert error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// Options that make no sense are errors, not conversions.
func TestBadOptions(t *testing.T) {
	m := model(13, []*onnx.ValueInfo{f32Input("x", 2)}, nil, node("r", "Relu", []string{"x"}, []string{"y"}))
	for _, o := range []convert.Options{{Opset: 6}, {Opset: 22}, {Target: "tflite"}, {Batch: -1}, {Target: "onnx-go", Opset: 13}} {
		if _, err := convert.Convert(m, o); err == nil {
			t.Errorf("Convert(%+v) = nil error", o)
		}
	}
	if _, err := convert.Convert(&onnx.Model{}, convert.Options{}); err == nil {
		t.Error("Convert(empty model) = nil error")
	}
}

// Rewrites that change the graph's structure compute what the original
// does. Expected values by hand from the spec's definitions.
func TestRewrites(t *testing.T) {
	x := tensor.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 1, 2, 3)
	tests := []struct {
		name string
		m    *onnx.Model
		o    convert.Options
		want []float32
	}{
		// Softmax-11 axis 1 of [1,2,3] normalizes all six values together:
		// exp(v)/sum(exp(1..6)), sum = 636.633 (Python's math.exp).
		{"softmax-11 axis 1 up to 13", model(11, []*onnx.ValueInfo{f32Input("x", 1, 2, 3)}, nil,
			node("sm", "Softmax", []string{"x"}, []string{"y"}, intA("axis", 1))),
			convert.Options{Opset: 13}, []float32{0.0042698, 0.0116065, 0.0315496, 0.0857608, 0.2331220, 0.6336913}},
		// Softmax-13 axis 1 normalizes pairs (1,4), (2,5), (3,6):
		// 1/(1+e^3) = 0.0474259 and e^3/(1+e^3) = 0.9525741.
		{"softmax-13 axis 1 down to 11", model(13, []*onnx.ValueInfo{f32Input("x", 1, 2, 3)}, nil,
			node("sm", "Softmax", []string{"x"}, []string{"y"}, intA("axis", 1))),
			convert.Options{Opset: 11}, []float32{0.0474259, 0.0474259, 0.0474259, 0.9525741, 0.9525741, 0.9525741}},
		// Softmax-11 of unknown rank up to 13: Flatten, Softmax, Reshape.
		{"softmax-11 unknown rank up to 13", model(11, []*onnx.ValueInfo{f32Input("x")}, nil,
			node("sm", "Softmax", []string{"x"}, []string{"y"}, intA("axis", 1))),
			convert.Options{Opset: 13}, []float32{0.0042698, 0.0116065, 0.0315496, 0.0857608, 0.2331220, 0.6336913}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := convert.Convert(tt.m, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			got := run(t, c, x)
			if _, err := verify.Compare(got, tensor.FromFloat32(tt.want, 1, 2, 3), verify.Tolerance{Atol: 1e-6}); err != nil {
				t.Errorf("converted: %v (got %v)", err, got.F32)
			}
			orig := run(t, tt.m, x)
			if _, err := verify.Compare(orig, tensor.FromFloat32(tt.want, 1, 2, 3), verify.Tolerance{Atol: 1e-6}); err != nil {
				t.Errorf("original: %v", err)
			}
		})
	}
}

// The onnx-go pool rewrites (a zero Pad folded into the next pool or Conv,
// AveragePool as a Conv) compute what the original computes in infer, for
// pads, strides and both count_include_pad values.
func TestOnnxGoPools(t *testing.T) {
	in := []*onnx.ValueInfo{f32Input("x", -1, 3, 6, 7)}
	x := tensor.New(tensor.Float32, 2, 3, 6, 7)
	for i := range x.F32 {
		x.F32[i] = float32((i*29)%17) - 8
	}
	pads := &onnx.Initializer{Name: "p", Tensor: tensor.FromInt64([]int64{0, 0, 1, 2, 0, 0, 1, 2}, 8)}
	w := &onnx.Initializer{Name: "w", Tensor: tensor.New(tensor.Float32, 4, 3, 2, 2)}
	for i := range w.Tensor.F32 {
		w.Tensor.F32[i] = float32(i%5) / 5
	}
	tests := []struct {
		name string
		m    *onnx.Model
		gone string // an op that must not be left
	}{
		{"pad + average pool", model(13, in, []*onnx.Initializer{pads},
			node("pad", "Pad", []string{"x", "p"}, []string{"xp"}),
			node("ap", "AveragePool", []string{"xp"}, []string{"y"}, ints("kernel_shape", 3, 2), ints("strides", 2, 1))), "Pad"},
		{"pad + conv", model(13, in, []*onnx.Initializer{pads, w},
			node("pad", "Pad", []string{"x", "p"}, []string{"xp"}),
			node("c", "Conv", []string{"xp", "w"}, []string{"y"}, ints("pads", 1, 0, 1, 0))), "Pad"},
		{"average pool counting pads", model(11, in, nil,
			node("ap", "AveragePool", []string{"x"}, []string{"y"}, ints("kernel_shape", 2, 3), ints("pads", 1, 1, 1, 1),
				intA("count_include_pad", 1))), "AveragePool"},
		{"average pool, stride 2", model(9, in, nil,
			node("ap", "AveragePool", []string{"x"}, []string{"y"}, ints("kernel_shape", 2, 2), ints("strides", 2, 2))), "AveragePool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := convert.Convert(tt.m, convert.Options{Target: "onnx-go"})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range c.Graph.Nodes {
				if n.OpType == tt.gone {
					t.Errorf("%s left", tt.gone)
				}
			}
			want, got := run(t, tt.m, x), run(t, c, x)
			if _, err := verify.Compare(got, want, verify.Tolerance{Atol: 1e-5}); err != nil {
				t.Errorf("converted differs from the original: %v", err)
			}
		})
	}
}

// Upsample at opset 10, where it is deprecated, converts as the Resize-10
// that replaced it.
func TestUpsample10(t *testing.T) {
	m := model(10, []*onnx.ValueInfo{f32Input("x", 1, 1, 2, 2)},
		[]*onnx.Initializer{{Name: "s", Tensor: tensor.FromFloat32([]float32{1, 1, 2, 2}, 4)}},
		node("up", "Upsample", []string{"x", "s"}, []string{"y"}))
	for _, to := range []int64{9, 11} {
		c, err := convert.Convert(m, convert.Options{Opset: to})
		if err != nil {
			t.Fatalf("to %d: %v", to, err)
		}
		want := map[int64]string{9: "Upsample", 11: "Resize"}[to]
		if got := c.Graph.Nodes[0].OpType; got != want {
			t.Errorf("to %d: %s, want %s", to, got, want)
		}
	}
}
