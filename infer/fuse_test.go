package infer

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
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
// export (its two Pads pad nothing; each Tanh follows a Conv or Gemm, each
// AveragePool a Conv's Tanh), and
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
			want := []string{"Conv", "Constant", "Conv", "Constant", "Conv", "Flatten", "Gemm", "Gemm"}
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
		Inputs:  []*onnx.ValueInfo{floatInfo("x"), floatInfo("v"), floatInfo("fw")},
		Outputs: []*onnx.ValueInfo{floatInfo("c"), floatInfo("r"), floatInfo("p"), floatInfo("y"), floatInfo("zt")},
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

// TestFusedPool checks Conv with a pool fused into it against the plain
// plan, bit for bit: the pools the Conv computes from each sample's output
// (2x2 average at stride 2, 2x2 maximum at stride 1) and the ones it hands
// to the pool op (other windows, padding, ceil mode, weights that are not
// constant), with and without a fused activation.
func TestFusedPool(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	type poolCase struct {
		name   string
		op     string
		attrs  []*onnx.Attribute
		inConv bool // computed by the Conv itself (with constant weights)
	}
	k2 := aInts("kernel_shape", 2, 2)
	for _, pc := range []poolCase{
		{"avg 2x2 stride 2", "AveragePool", []*onnx.Attribute{k2, aInts("strides", 2, 2)}, true},
		{"max 2x2 stride 1", "MaxPool", []*onnx.Attribute{k2}, true},
		{"avg 2x2 stride 2 ceil", "AveragePool", []*onnx.Attribute{k2, aInts("strides", 2, 2), aInt("ceil_mode", 1)}, false},
		{"max 2x2 stride 2", "MaxPool", []*onnx.Attribute{k2, aInts("strides", 2, 2)}, false},
		{"avg 3x3 pads", "AveragePool", []*onnx.Attribute{aInts("kernel_shape", 3, 3), aInts("pads", 1, 1, 1, 1), aInt("count_include_pad", 1)}, false},
	} {
		for _, act := range []string{"", "Tanh", "Relu", "Elu", "Softplus", "HardSigmoid"} {
			for _, constW := range []bool{true, false} {
				nodes := []*onnx.Node{{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w", "b"}, Outputs: []string{"c"}, Attrs: []*onnx.Attribute{aInts("pads", 1, 1, 1, 1)}}}
				if act != "" {
					nodes = append(nodes, &onnx.Node{Name: "act", OpType: act, Inputs: []string{"c"}, Outputs: []string{"a"}})
					nodes[0].Outputs[0] = "pre"
					nodes[1].Inputs[0] = "pre"
					nodes[1].Outputs[0] = "c"
				}
				nodes = append(nodes, &onnx.Node{Name: "pool", OpType: pc.op, Inputs: []string{"c"}, Outputs: []string{"y"}, Attrs: pc.attrs})
				g := &onnx.Graph{Nodes: nodes, Inputs: []*onnx.ValueInfo{floatInfo("x")}, Outputs: []*onnx.ValueInfo{floatInfo("y")}}
				w, b := randTensor(rng, 7, 3, 3, 3), randTensor(rng, 7)
				feeds := map[string]*tensor.Tensor{"x": randTensor(rng, 3, 3, 9, 11)}
				if constW {
					g.Initializers = []*onnx.Initializer{{Name: "w", Tensor: w}, {Name: "b", Tensor: b}}
				} else {
					g.Inputs = append(g.Inputs, floatInfo("w"), floatInfo("b"))
					feeds["w"], feeds["b"] = w, b
				}
				m := model(13, g)
				opt, err := NewSession(m)
				if err != nil {
					t.Fatal(err)
				}
				if len(opt.plan.nodes) != 1 {
					t.Fatalf("%s %s: %d nodes after optimizing, want the pool and activation fused into the Conv", pc.name, act, len(opt.plan.nodes))
				}
				what := fmt.Sprintf("%s, act %q, constant weights %v", pc.name, act, constW)
				compareRuns(t, what, opt, plainSession(t, m), feeds, 0, 0)
				var s scratch
				if _, err := opt.plan.nodes[0].op.(*convOp).conv(&s, []*tensor.Tensor{feeds["x"], w, b}, new(tensor.Tensor), new(tensor.Tensor)); err != nil {
					t.Fatal(err)
				}
				if pooled, _ := opt.plan.nodes[0].op.(*convOp).conv(&s, []*tensor.Tensor{feeds["x"], w, b}, new(tensor.Tensor), new(tensor.Tensor)); pooled != (pc.inConv && constW) {
					t.Errorf("%s: pooled by the Conv %v, want %v", what, pooled, pc.inConv && constW)
				}
			}
		}
	}
}

// TestPoolNotFused checks that a pool stays a node of its own when the
// Conv's output has another reader or is a graph output, or when MaxPool
// writes Indices.
func TestPoolNotFused(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	k2 := aInts("kernel_shape", 2, 2)
	for name, g := range map[string]*onnx.Graph{
		"graph output": {Nodes: []*onnx.Node{
			{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"c"}},
			{Name: "pool", OpType: "MaxPool", Inputs: []string{"c"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{k2}},
		}, Outputs: []*onnx.ValueInfo{floatInfo("y"), floatInfo("c")}},
		"two readers": {Nodes: []*onnx.Node{
			{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"c"}},
			{Name: "pool", OpType: "MaxPool", Inputs: []string{"c"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{k2}},
			{Name: "relu", OpType: "Relu", Inputs: []string{"c"}, Outputs: []string{"r"}},
		}, Outputs: []*onnx.ValueInfo{floatInfo("y"), floatInfo("r")}},
		"indices": {Nodes: []*onnx.Node{
			{Name: "conv", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"c"}},
			{Name: "pool", OpType: "MaxPool", Inputs: []string{"c"}, Outputs: []string{"y", "i"}, Attrs: []*onnx.Attribute{k2}},
		}, Outputs: []*onnx.ValueInfo{floatInfo("y"), {Name: "i", DType: tensor.Int64}}},
	} {
		g.Inputs = []*onnx.ValueInfo{floatInfo("x")}
		g.Initializers = []*onnx.Initializer{{Name: "w", Tensor: randTensor(rng, 2, 1, 3, 3)}}
		s, err := NewSession(model(13, g))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.plan.nodes) < 2 {
			t.Errorf("%s: %d nodes, want the pool kept", name, len(s.plan.nodes))
		}
	}
}

// TestReshapeViews checks that Flatten and Reshape share their input's
// elements, that their results are right run after run, and that a run
// keeps no reference to the caller's input once it returns.
func TestReshapeViews(t *testing.T) {
	g := &onnx.Graph{
		Nodes: []*onnx.Node{
			{Name: "flat", OpType: "Flatten", Inputs: []string{"x"}, Outputs: []string{"f"}},
			{Name: "relu", OpType: "Relu", Inputs: []string{"f"}, Outputs: []string{"r"}},
			{Name: "neg", OpType: "Neg", Inputs: []string{"f"}, Outputs: []string{"n"}},
			{Name: "shape", OpType: "Reshape", Inputs: []string{"x", "s"}, Outputs: []string{"y"}},
		},
		Initializers: []*onnx.Initializer{{Name: "s", Tensor: tensor.FromInt64([]int64{-1}, 1)}},
		Inputs:       []*onnx.ValueInfo{floatInfo("x")},
		Outputs:      []*onnx.ValueInfo{floatInfo("r"), floatInfo("n"), floatInfo("y")},
	}
	s, err := NewSession(model(13, g))
	if err != nil {
		t.Fatal(err)
	}
	for _, pn := range s.plan.nodes {
		if r, ok := pn.op.(interface{ isView() bool }); ok && !r.isView() {
			t.Errorf("%s copies its input", pn.node.OpType)
		}
	}
	if len(s.plan.views) != 2 {
		t.Errorf("views %v, want the outputs of Flatten and Reshape", s.plan.views)
	}
	for _, x := range []*tensor.Tensor{
		tensor.FromFloat32([]float32{1, -2, 3, -4, 5, -6}, 1, 2, 3),
		tensor.FromFloat32([]float32{-1, 2, -3, 4}, 1, 4, 1),
	} {
		res, err := s.Run(map[string]*tensor.Tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		var relu, neg []float32
		for _, v := range x.F32 {
			relu, neg = append(relu, max(v, 0)), append(neg, -v)
		}
		if got, want := fmt.Sprint(res["r"].Shape, res["r"].F32, res["n"].F32, res["y"].Shape, res["y"].F32),
			fmt.Sprint([]int{1, len(x.F32)}, relu, neg, []int{len(x.F32)}, x.F32); got != want {
			t.Errorf("through the views: %s, want %s", got, want)
		}
	}
	st := s.pool.Get().(*runState)
	for _, v := range s.plan.views {
		if st.vals[v].F32 != nil {
			t.Errorf("slot %d still shares the caller's input after the run", v)
		}
	}
	s.pool.Put(st)
}

// TestFusedEpilogues checks which activations after a Conv or Gemm become
// its epilogue (Sigmoid; Clip with constant bounds, after a Conv; SiLU as
// Mul(Y, Sigmoid(Y)) and HardSwish as Mul(Y, HardSigmoid(Y)) in either
// order) and which stay nodes, and that the fused plan gives the plain
// plan's outputs bit for bit: the fused kernels (kernel.Sigmoid,
// kernel.Clip, kernel.SiLU, kernel.MulHardSigmoid) are the ones the plain
// nodes run, SiLU and HardSwish with the bits of their two nodes (within
// 1e-5 after a Gemm, whose B is transposed at load).
func TestFusedEpilogues(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	scalar := func(name string, v float32) *onnx.Initializer {
		return &onnx.Initializer{Name: name, Tensor: tensor.FromFloat32([]float32{v})}
	}
	for _, tc := range []struct {
		name   string
		opset  int64
		tail   []*onnx.Node // reading "c", writing "y"
		inits  []*onnx.Initializer
		inputs []string // graph inputs besides x
		extra  []string // graph outputs besides y
		nodes  int      // nodes left after optimizing, the producer included
	}{
		{name: "Sigmoid", opset: 13, tail: []*onnx.Node{namedNode("Sigmoid", []string{"c"}, "y")}, nodes: 1},
		{name: "Clip 6 attrs", opset: 6, tail: []*onnx.Node{namedNode("Clip", []string{"c"}, "y", aFloat("min", 0), aFloat("max", 6))}, nodes: 1},
		{name: "Clip 13 consts", opset: 13, tail: []*onnx.Node{namedNode("Clip", []string{"c", "lo", "hi"}, "y")},
			inits: []*onnx.Initializer{scalar("lo", -0.5), scalar("hi", 0.25)}, nodes: 1},
		{name: "Clip 13 max only", opset: 13, tail: []*onnx.Node{namedNode("Clip", []string{"c", "", "hi"}, "y")},
			inits: []*onnx.Initializer{scalar("hi", 0.25)}, nodes: 1},
		{name: "Clip 13 fed bound", opset: 13, tail: []*onnx.Node{namedNode("Clip", []string{"c", "lo"}, "y")},
			inputs: []string{"lo"}, nodes: 2},
		{name: "SiLU", opset: 13, tail: []*onnx.Node{namedNode("Sigmoid", []string{"c"}, "s"), namedNode("Mul", []string{"c", "s"}, "y")}, nodes: 1},
		{name: "SiLU swapped", opset: 13, tail: []*onnx.Node{namedNode("Sigmoid", []string{"c"}, "s"), namedNode("Mul", []string{"s", "c"}, "y")}, nodes: 1},
		{name: "SiLU with c an output", opset: 13, tail: []*onnx.Node{namedNode("Sigmoid", []string{"c"}, "s"), namedNode("Mul", []string{"c", "s"}, "y")},
			extra: []string{"c"}, nodes: 3},
		{name: "HardSwish", opset: 13, tail: []*onnx.Node{namedNode("HardSigmoid", []string{"c"}, "s", aFloat("alpha", 1.0/6)), namedNode("Mul", []string{"c", "s"}, "y")}, nodes: 1},
		{name: "HardSigmoid 0.3,0.4 swapped", opset: 13, tail: []*onnx.Node{namedNode("HardSigmoid", []string{"c"}, "s", aFloat("alpha", 0.3), aFloat("beta", 0.4)), namedNode("Mul", []string{"s", "c"}, "y")}, nodes: 1},
		{name: "HardSigmoid times another", opset: 13, tail: []*onnx.Node{namedNode("HardSigmoid", []string{"c"}, "s"), namedNode("Mul", []string{"x2", "s"}, "y")},
			inputs: []string{"x2"}, nodes: 2},
		{name: "Sigmoid times another", opset: 13, tail: []*onnx.Node{namedNode("Sigmoid", []string{"c"}, "s"), namedNode("Mul", []string{"x2", "s"}, "y")},
			inputs: []string{"x2"}, nodes: 2},
	} {
		for _, producer := range []string{"Conv", "Gemm"} {
			if producer == "Gemm" && (strings.HasSuffix(tc.name, "times another") || tc.opset < 7) {
				continue
			}
			var first *onnx.Node
			var xshape, wshape []int
			if producer == "Conv" {
				first = namedNode("Conv", []string{"x", "w", "b"}, "c", aInts("pads", 1, 1, 1, 1))
				xshape, wshape = []int{2, 3, 6, 7}, []int{5, 3, 3, 3}
			} else {
				first = namedNode("Gemm", []string{"x", "w", "b"}, "c", aInt("transB", 1))
				xshape, wshape = []int{4, 9}, []int{5, 9}
			}
			g := &onnx.Graph{Nodes: append([]*onnx.Node{first}, tc.tail...), Inputs: []*onnx.ValueInfo{floatInfo("x")},
				Outputs: []*onnx.ValueInfo{floatInfo("y")}}
			w, b := randTensor(rng, wshape...), randTensor(rng, 5)
			for i := range w.F32 {
				w.F32[i] *= 3 // outputs beyond the clip bounds and sigmoid's linear part
			}
			g.Initializers = append([]*onnx.Initializer{{Name: "w", Tensor: w}, {Name: "b", Tensor: b}}, tc.inits...)
			feeds := map[string]*tensor.Tensor{"x": randTensor(rng, xshape...)}
			for _, in := range tc.inputs {
				g.Inputs = append(g.Inputs, floatInfo(in))
				if in == "lo" {
					feeds[in] = tensor.FromFloat32([]float32{-0.1})
				} else {
					feeds[in] = randTensor(rng, 2, 5, 6, 7)
				}
			}
			for _, out := range tc.extra {
				g.Outputs = append(g.Outputs, floatInfo(out))
			}
			m := model(tc.opset, g)
			opt, err := NewSession(m)
			if err != nil {
				t.Fatalf("%s after %s: %v", tc.name, producer, err)
			}
			want := tc.nodes
			if producer == "Gemm" && tc.name[:4] == "Clip" {
				want = 2 // a Clip is fused into Convs only
			}
			if len(opt.plan.nodes) != want {
				t.Errorf("%s after %s: %d nodes after optimizing, want %d", tc.name, producer, len(opt.plan.nodes), want)
			}
			tol := 0.0
			if producer == "Gemm" {
				tol = 1e-5 // B is transposed at load: other sums
			}
			compareRuns(t, tc.name+" after "+producer, opt, plainSession(t, m), feeds, tol, tol)
		}
	}
}

// floatInfo is a float32 graph input or output of unknown shape.
func floatInfo(name string) *onnx.ValueInfo {
	return &onnx.ValueInfo{Name: name, DType: tensor.Float32}
}

// namedNode is a node with one output, named after its op and output.
func namedNode(op string, in []string, out string, attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{Name: op + "_" + out, OpType: op, Inputs: in, Outputs: []string{out}, Attrs: attrs}
}
