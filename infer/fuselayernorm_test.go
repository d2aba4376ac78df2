package infer

import (
	"math/rand"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestFuseLayerNorm builds the layer normalization PyTorch writes out
// before opset 17 and checks that it becomes one LayerNormalization node
// with the written-out nodes' outputs (within float32 rounding), in
// either operand order of the Adds and the Mul, and that it is left alone
// when a value in between is a graph output or the epsilon is fed.
func TestFuseLayerNorm(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for _, tc := range []struct {
		name    string
		swapped bool
		extra   string // a graph output besides y
		fedEps  bool
		nodes   int // after optimizing, the Constants (two, and eps unless fed) included
	}{
		{name: "plain", nodes: 3},
		{name: "swapped operands", swapped: true, nodes: 3},
		{name: "difference an output", extra: "d", nodes: 11},
		{name: "variance an output", extra: "v", nodes: 11},
		{name: "epsilon fed", fedEps: true, nodes: 10},
	} {
		pair := func(a, b string) []string {
			if tc.swapped {
				return []string{b, a}
			}
			return []string{a, b}
		}
		g := &onnx.Graph{
			Nodes: []*onnx.Node{
				namedNode("ReduceMean", []string{"x"}, "m", aInts("axes", -1)),
				namedNode("Sub", []string{"x", "m"}, "d"),
				namedNode("Constant", nil, "two", &onnx.Attribute{Name: "value", Type: onnx.AttrTensor, T: tensor.FromFloat32([]float32{2})}),
				namedNode("Pow", []string{"d", "two"}, "p"),
				namedNode("ReduceMean", []string{"p"}, "v", aInts("axes", -1)),
				namedNode("Add", pair("v", "eps"), "ve"),
				namedNode("Sqrt", []string{"ve"}, "s"),
				namedNode("Div", []string{"d", "s"}, "n"),
				namedNode("Mul", pair("n", "scale"), "ns"),
				namedNode("Add", pair("ns", "bias"), "y"),
			},
			Inputs:  []*onnx.ValueInfo{floatInfo("x")},
			Outputs: []*onnx.ValueInfo{floatInfo("y")},
			Initializers: []*onnx.Initializer{
				{Name: "scale", Tensor: randTensor(rng, 8)},
				{Name: "bias", Tensor: randTensor(rng, 8)},
			},
		}
		feeds := map[string]*tensor.Tensor{"x": randTensor(rng, 2, 3, 8)}
		for i := range feeds["x"].F32 {
			feeds["x"].F32[i] = 3*feeds["x"].F32[i] + 1 // a mean away from 0
		}
		eps := tensor.FromFloat32([]float32{1e-5})
		if tc.fedEps {
			g.Inputs = append(g.Inputs, floatInfo("eps"))
			feeds["eps"] = eps
		} else {
			g.Nodes = append([]*onnx.Node{namedNode("Constant", nil, "eps", &onnx.Attribute{Name: "value", Type: onnx.AttrTensor, T: eps})}, g.Nodes...)
		}
		if tc.extra != "" {
			g.Outputs = append(g.Outputs, floatInfo(tc.extra))
		}
		m := model(13, g)
		opt, err := NewSession(m)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := len(opt.plan.nodes); got != tc.nodes {
			t.Errorf("%s: %d nodes after optimizing, want %d", tc.name, got, tc.nodes)
		}
		compareRuns(t, tc.name, opt, plainSession(t, m), feeds, 1e-5, 1e-6)
	}
}
