package infer

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// plainSession loads m without the plan optimizations.
func plainSession(t *testing.T, m *onnx.Model) *Session {
	t.Helper()
	optimizePlans = false
	defer func() { optimizePlans = true }()
	s, err := NewSession(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOptimizeLeNet5 checks what the optimizations do to PyTorch's LeNet5
// export (its two Pads pad nothing; each Tanh follows a Conv or Gemm), and
// that the optimized plan gives the plain plan's outputs: bit for bit, but
// for the Gemms, whose B is transposed once at load (tolerance).
func TestOptimizeLeNet5(t *testing.T) {
	for _, name := range []string{"lenet5", "cnn", "mlp"} {
		m, err := onnx.ReadFile(filepath.Join("..", "testdata", "pytorch", name, "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		opt, err := NewSession(m)
		if err != nil {
			t.Fatal(err)
		}
		plain := plainSession(t, m)
		if name == "lenet5" {
			var got []string
			for _, pn := range opt.plan.nodes {
				got = append(got, pn.node.OpType)
			}
			want := []string{"Conv", "Constant", "AveragePool", "Conv", "Constant", "AveragePool", "Conv", "Flatten", "Gemm", "Gemm"}
			if len(got) != len(want) || len(plain.plan.nodes) != 16 {
				t.Fatalf("optimized nodes %v, want %v (plain plan: %d nodes, want 16)", got, want, len(plain.plan.nodes))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("optimized nodes %v, want %v", got, want)
				}
			}
		}
		rng := rand.New(rand.NewSource(1))
		for _, batch := range []int{1, 7, 64} {
			x := randTensor(rng, append([]int{batch}, inputDims(opt)...)...)
			feeds := map[string]*tensor.Tensor{opt.Inputs()[0].Name: x}
			compareRuns(t, fmt.Sprintf("%s batch %d", name, batch), opt, plain, feeds, 1e-4, 1e-5)
		}
	}
}

// compareRuns runs got and want on feeds and fails t unless every output
// of got is within the tolerance of want's.
func compareRuns(t *testing.T, what string, got, want *Session, feeds map[string]*tensor.Tensor, rtol, atol float64) {
	t.Helper()
	a, err := got.Run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	b, err := want.Run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range b {
		if d := compareTensors(a[k], w, rtol, atol); d != "" {
			t.Errorf("%s: output %q: %s", what, k, d)
		}
	}
}

// inputDims is the fixed dimensions after the batch of s's first input.
func inputDims(s *Session) []int {
	var dims []int
	for _, d := range s.Inputs()[0].Shape[1:] {
		dims = append(dims, int(d.Value))
	}
	return dims
}

// TestOptimizeKeepsOutputs builds Conv -> Relu -> Pad(0) -> AveragePool
// with every value a graph output, and Gemm -> Tanh where the Gemm's B is
// an initializer the caller may override: only the Tanh may be fused, B
// must not be transposed, and the outputs must equal the plain plan's bit
// for bit.
func TestOptimizeKeepsOutputs(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	f32 := func(name string) *onnx.ValueInfo { return &onnx.ValueInfo{Name: name, DType: tensor.Float32} }
	g := &onnx.Graph{
		Nodes: []*onnx.Node{
			{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"c"}, Attrs: []*onnx.Attribute{aInts("pads", 1, 1, 1, 1)}},
			{Name: "relu", OpType: "Relu", Inputs: []string{"c"}, Outputs: []string{"r"}},
			{Name: "pad", OpType: "Pad", Inputs: []string{"r", "zeros"}, Outputs: []string{"p"}},
			{Name: "pool", OpType: "AveragePool", Inputs: []string{"p"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{aInts("kernel_shape", 2, 2)}},
			{Name: "fc", OpType: "Gemm", Inputs: []string{"v", "fw"}, Outputs: []string{"z"}, Attrs: []*onnx.Attribute{aInt("transB", 1)}},
			{Name: "tanh", OpType: "Tanh", Inputs: []string{"z"}, Outputs: []string{"zt"}},
		},
		Initializers: []*onnx.Initializer{
			{Name: "w", Tensor: randTensor(rng, 4, 2, 3, 3)},
			{Name: "zeros", Tensor: tensor.FromInt64(make([]int64, 8), 8)},
			{Name: "fw", Tensor: randTensor(rng, 5, 6)},
		},
		Inputs:  []*onnx.ValueInfo{f32("x"), f32("v"), f32("fw")},
		Outputs: []*onnx.ValueInfo{f32("c"), f32("r"), f32("p"), f32("y"), f32("zt")},
	}
	m := model(13, g)
	opt, err := NewSession(m)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pn := range opt.plan.nodes {
		got = append(got, pn.node.OpType)
		if o, ok := pn.op.(*gemmOp); ok && (!o.transB || o.act == nil) {
			t.Errorf("Gemm: transB %v, fused activation %v; want B left as it is and the Tanh fused", o.transB, o.act != nil)
		}
	}
	if want := "[Conv Relu Pad AveragePool Gemm]"; fmt.Sprint(got) != want {
		t.Errorf("optimized nodes %v, want %s", got, want)
	}
	plain := plainSession(t, m)
	feeds := map[string]*tensor.Tensor{"x": randTensor(rng, 2, 2, 5, 5), "v": randTensor(rng, 3, 6)}
	for _, override := range []bool{false, true} {
		if override {
			feeds["fw"] = randTensor(rng, 5, 6)
		}
		compareRuns(t, fmt.Sprintf("override %v", override), opt, plain, feeds, 0, 0)
	}
}
