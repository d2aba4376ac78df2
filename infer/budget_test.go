package infer

import (
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestOptionsLimits checks the session's memory limits on a model whose
// sizes come from values: a ConstantOfShape of the shape fed, then Concats
// of it with itself. Before, a 200-byte model of this kind took 8 GB, and
// chained Concats ended in a fatal out-of-memory.
func TestOptionsLimits(t *testing.T) {
	g := &onnx.Graph{
		Inputs: []*onnx.ValueInfo{{Name: "shape", DType: tensor.Int64}},
		Nodes: []*onnx.Node{
			{Name: "fill", OpType: "ConstantOfShape", Inputs: []string{"shape"}, Outputs: []string{"a"}},
			{Name: "cat1", OpType: "Concat", Inputs: []string{"a", "a"}, Outputs: []string{"b"}, Attrs: []*onnx.Attribute{aInt("axis", 0)}},
			{Name: "cat2", OpType: "Concat", Inputs: []string{"b", "b"}, Outputs: []string{"c"}, Attrs: []*onnx.Attribute{aInt("axis", 0)}},
		},
		Outputs: []*onnx.ValueInfo{{Name: "c"}},
	}
	m := model(13, g)
	feed := func(rows int64) map[string]*tensor.Tensor {
		return map[string]*tensor.Tensor{"shape": tensor.FromInt64([]int64{rows, 1024}, 2)}
	}
	for _, tc := range []struct {
		name string
		opt  Options
		rows int64
		want string // "" for success
	}{
		{"defaults", Options{}, 64, ""},
		// 256 x 1024 float32 is 1 MiB: cat1 makes 2 MiB.
		{"tensor limit", Options{MaxTensorBytes: 1 << 20}, 256, `node "cat1" (Concat): output 0 is float32[512x1024], 2097152 bytes, more than the session's limit of 1048576 per tensor`},
		// 1 + 2 + 4 MiB: over 6 MiB at cat2.
		{"session limit", Options{MaxSessionBytes: 6 << 20}, 256, `node "cat2" (Concat): the run holds 7340032 bytes after this node, more than the session's limit of 6291456`},
		{"session limit not reached", Options{MaxSessionBytes: 7 << 20}, 256, ""},
	} {
		s, err := tc.opt.NewSession(m)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Run(feed(tc.rows))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Run = %v, want %q", tc.name, err, tc.want)
		}
		// A run that failed leaves the session usable.
		if _, err := s.Run(feed(1)); err != nil {
			t.Errorf("%s: a small run after it = %v", tc.name, err)
		}
	}
	if _, err := (Options{MaxSessionBytes: -1}).NewSession(m); err == nil {
		t.Error("NewSession with a negative limit succeeded")
	}
}

// TestValueSizedOutputBytes checks that an output whose size comes from
// values is refused by its bytes before it is allocated: a ConstantOfShape
// of 2^30 float64s (8 GiB) from a 135-byte model took 8 GB before.
func TestValueSizedOutputBytes(t *testing.T) {
	g := &onnx.Graph{
		Inputs: []*onnx.ValueInfo{{Name: "shape", DType: tensor.Int64}},
		Nodes: []*onnx.Node{{Name: "fill", OpType: "ConstantOfShape", Inputs: []string{"shape"}, Outputs: []string{"a"},
			Attrs: []*onnx.Attribute{{Name: "value", Type: onnx.AttrTensor, T: &tensor.Tensor{DType: tensor.Float64, Shape: []int{1}, F64: []float64{1}}}}}},
		Outputs: []*onnx.ValueInfo{{Name: "a"}},
	}
	s, err := NewSession(model(13, g))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Run(map[string]*tensor.Tensor{"shape": tensor.FromInt64([]int64{1 << 30}, 1)})
	want := `node "fill" (ConstantOfShape): output float64[1073741824]: 8589934592 bytes, more than 4294967296`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Run = %v, want %q", err, want)
	}
}
