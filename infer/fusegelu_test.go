package infer

import (
	"math"
	"math/rand"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestFuseGelu builds the GELU PyTorch writes out before opset 20 and
// checks that it becomes one Gelu node with the written-out nodes'
// outputs bit for bit, in either operand order, and that it
// is left alone when a value in between is a graph output or a constant
// is not the GELU's.
func TestFuseGelu(t *testing.T) {
	rng := rand.New(rand.NewSource(10))
	for _, tc := range []struct {
		name    string
		swapped bool
		extra   string
		root2   float32
		nodes   int // after optimizing, the three Constants included
	}{
		{name: "plain", root2: math.Sqrt2, nodes: 4},
		{name: "swapped operands", swapped: true, root2: math.Sqrt2, nodes: 4},
		{name: "erf an output", extra: "e", root2: math.Sqrt2, nodes: 8},
		{name: "divided by 1.5", root2: 1.5, nodes: 8},
	} {
		pair := func(a, b string) []string {
			if tc.swapped {
				return []string{b, a}
			}
			return []string{a, b}
		}
		konst := func(name string, v float32) *onnx.Node {
			n := namedNode("Constant", nil, name)
			n.Attrs = []*onnx.Attribute{{Name: "value", Type: onnx.AttrTensor, T: tensor.FromFloat32([]float32{v})}}
			return n
		}
		g := &onnx.Graph{
			Nodes: []*onnx.Node{
				konst("r2", tc.root2), konst("one", 1), konst("half", 0.5),
				namedNode("Div", []string{"x", "r2"}, "q"),
				namedNode("Erf", []string{"q"}, "e"),
				namedNode("Add", pair("e", "one"), "a"),
				namedNode("Mul", pair("x", "a"), "m"),
				namedNode("Mul", pair("m", "half"), "y"),
			},
			Inputs:  []*onnx.ValueInfo{floatInfo("x")},
			Outputs: []*onnx.ValueInfo{floatInfo("y")},
		}
		if tc.extra != "" {
			g.Outputs = append(g.Outputs, floatInfo(tc.extra))
		}
		x := randTensor(rng, 3, 50)
		for i := range x.F32 {
			x.F32[i] *= 6
		}
		m := model(13, g)
		opt, err := NewSession(m)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := len(opt.plan.nodes); got != tc.nodes {
			t.Errorf("%s: %d nodes after optimizing, want %d", tc.name, got, tc.nodes)
		}
		compareRuns(t, tc.name, opt, plainSession(t, m), map[string]*tensor.Tensor{"x": x}, 0, 0) // the same operations in the same order
	}
}
