package infer

import (
	"math/rand"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestBuffersChain checks that a chain of elementwise nodes runs in two
// buffers, handed back and forth, with the right result.
func TestBuffersChain(t *testing.T) {
	var nodes []*onnx.Node
	prev := "x"
	for i, op := range []string{"Neg", "Relu", "Neg", "Abs", "Neg", "Sigmoid"} {
		out := "y"
		if i < 5 {
			out = "t" + string(rune('a'+i))
		}
		nodes = append(nodes, &onnx.Node{Name: op + out, OpType: op, Inputs: []string{prev}, Outputs: []string{out}})
		prev = out
	}
	g := &onnx.Graph{Nodes: nodes,
		Inputs:  []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32}},
		Outputs: []*onnx.ValueInfo{{Name: "y"}}}
	s, err := NewSession(model(13, g))
	if err != nil {
		t.Fatal(err)
	}
	if s.plan.nbufs != 2 {
		t.Errorf("%d buffers, want 2", s.plan.nbufs)
	}
	x := tensor.FromFloat32([]float32{-2, -1, 0, 1, 2}, 5)
	checkAgainstNodes(t, s, g, map[string]*tensor.Tensor{"x": x})
}

// checkAgainstNodes runs s twice and compares its outputs with those of
// g's nodes run one at a time, each in a session of its own.
func checkAgainstNodes(t *testing.T, s *Session, g *onnx.Graph, feeds map[string]*tensor.Tensor) {
	t.Helper()
	vals := map[string]*tensor.Tensor{}
	for k, v := range feeds {
		vals[k] = v
	}
	for _, in := range g.Initializers {
		vals[in.Name] = in.Tensor
	}
	for _, n := range g.Nodes {
		var ins []*tensor.Tensor
		for _, name := range n.Inputs {
			ins = append(ins, vals[name])
		}
		outs, err := runOp(n.OpType, 13, n.Attrs, len(n.Outputs), ins...)
		if err != nil {
			t.Fatalf("node %s: %v", n.Name, err)
		}
		for i, name := range n.Outputs {
			vals[name] = outs[i]
		}
	}
	for run := range 2 {
		got, err := s.Run(feeds)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range g.Outputs {
			if !equalTensors(got[o.Name], vals[o.Name]) {
				t.Errorf("run %d: %s = %v, want %v", run, o.Name, got[o.Name], vals[o.Name])
			}
		}
	}
}

// TestBuffersKeepLiveValues runs graphs where a value stays live across
// later nodes (through a view, as a graph output read again, and next to
// integer values) and checks the optimized plan against the plain one.
func TestBuffersKeepLiveValues(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	x := tensor.New(tensor.Float32, 2, 3, 4)
	for i := range x.F32 {
		x.F32[i] = rng.Float32()*2 - 1
	}
	shape := tensor.FromInt64([]int64{6, 4}, 2)
	g := &onnx.Graph{
		Nodes: []*onnx.Node{
			{Name: "a", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"a"}},
			{Name: "v", OpType: "Reshape", Inputs: []string{"a", "shape"}, Outputs: []string{"v"}},
			{Name: "b", OpType: "Neg", Inputs: []string{"v"}, Outputs: []string{"b"}},
			{Name: "c", OpType: "Sigmoid", Inputs: []string{"b"}, Outputs: []string{"c"}},
			{Name: "d", OpType: "Tanh", Inputs: []string{"c"}, Outputs: []string{"d"}},
			{Name: "sh", OpType: "Shape", Inputs: []string{"d"}, Outputs: []string{"sh"}},
			{Name: "e", OpType: "Add", Inputs: []string{"v", "d"}, Outputs: []string{"e"}},
			{Name: "f", OpType: "Mul", Inputs: []string{"e", "c"}, Outputs: []string{"f"}},
			{Name: "g", OpType: "Exp", Inputs: []string{"f"}, Outputs: []string{"g"}},
			{Name: "h", OpType: "Add", Inputs: []string{"g", "e"}, Outputs: []string{"h"}},
		},
		Initializers: []*onnx.Initializer{{Name: "shape", Tensor: shape}},
		Inputs:       []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32}},
		Outputs:      []*onnx.ValueInfo{{Name: "h"}, {Name: "e"}, {Name: "sh"}, {Name: "v"}},
	}
	s, err := NewSession(model(13, g))
	if err != nil {
		t.Fatal(err)
	}
	if s.plan.nbufs >= len(g.Nodes)-1 {
		t.Errorf("%d buffers for %d nodes: nothing shared", s.plan.nbufs, len(g.Nodes))
	}
	checkAgainstNodes(t, s, g, map[string]*tensor.Tensor{"x": x})
}

// equalTensors reports whether a and b have the same dtype, shape and
// elements.
func equalTensors(a, b *tensor.Tensor) bool {
	if a.DType != b.DType || a.Len() != b.Len() || len(a.Shape) != len(b.Shape) {
		return false
	}
	for i := range a.Shape {
		if a.Shape[i] != b.Shape[i] {
			return false
		}
	}
	for i := range a.Len() {
		if a.Float64At(i) != b.Float64At(i) {
			return false
		}
	}
	return true
}
