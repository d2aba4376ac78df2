package infer

import (
	"math"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// fuseGelus replaces each GELU written out as PyTorch exports F.gelu
// before opset 20,
//
//	y = Mul(Mul(x, Add(Erf(Div(x, c)), 1)), 0.5), c = sqrt 2
//
// (constant scalars; Add and the Muls in either operand order) by one
// node computing the same float32 operations in the same order, with
// kernel.Erf: one pass over the tensor instead of five, the bits of the
// written-out nodes. Nothing else may read a value in between, nor may it
// be a graph output. The fused node reports errors under the Div's name.
func (p *plan) fuseGelus() {
	uses := p.uses()
	drop := make([]bool, len(p.nodes))
	for i := range p.nodes {
		nodes, x, c, ok := p.matchGelu(i, uses)
		if !ok {
			continue
		}
		last := &p.nodes[nodes[len(nodes)-1]]
		n := &onnx.Node{Name: p.nodes[i].node.Name, OpType: "Gelu", Inputs: p.nodes[i].node.Inputs[:1], Outputs: last.node.Outputs}
		for _, j := range nodes[:len(nodes)-1] {
			drop[j] = true
		}
		last.node, last.in = n, []int{x}
		last.op = &unaryOp{n: n,
			f32: func(d, x []float32) {
				inChunks(d, x, func(d, x, _, u []float32) {
					for i, v := range x {
						u[i] = v / c
					}
					kernel.Erf(u, u)
					for i, v := range x {
						d[i] = v * (u[i] + 1) * 0.5
					}
				})
			},
			f64: func(v float64) float64 { return v * (math.Erf(v/float64(c)) + 1) * 0.5 }}
	}
	p.dropNodes(drop)
}

// matchGelu reports whether node i is the Div of a written-out GELU
// (see fuseGelus), with the pattern's nodes in order, its input x and
// its divisor c.
func (p *plan) matchGelu(i int, uses []int) (nodes []int, x int, c float32, ok bool) {
	near := func(s int, want float64) bool {
		t := p.constant(s)
		return t != nil && t.DType == tensor.Float32 && t.Len() == 1 && math.Abs(float64(t.F32[0])-want) <= 1e-6*want
	}
	// with reports whether {a, b} is {s, a constant near want}.
	with := func(a, b, s int, want float64) bool {
		return a == s && near(b, want) || b == s && near(a, want)
	}
	x, cs, q, ok := p.arithNode(i, opDiv)
	if !ok || !near(cs, math.Sqrt2) {
		return nil, 0, 0, false
	}
	erf := p.soleReader(q, uses)
	if erf < 0 || p.nodes[erf].node.OpType != "Erf" || len(p.nodes[erf].out) != 1 {
		return nil, 0, 0, false
	}
	add := p.soleReader(p.nodes[erf].out[0], uses)
	a, b, sum, ok := p.arithNode(add, opAdd)
	if !ok || !with(a, b, p.nodes[erf].out[0], 1) {
		return nil, 0, 0, false
	}
	mul := p.soleReader(sum, uses)
	a, b, prod, ok := p.arithNode(mul, opMul)
	if !ok || !(a == x && b == sum || a == sum && b == x) {
		return nil, 0, 0, false
	}
	half := p.soleReader(prod, uses)
	a, b, _, ok = p.arithNode(half, opMul)
	if !ok || !with(a, b, prod, 0.5) {
		return nil, 0, 0, false
	}
	nodes = []int{i, erf, add, mul, half}
	for _, j := range nodes[1:] {
		if j <= i {
			return nil, 0, 0, false
		}
	}
	return nodes, x, p.constant(cs).F32[0], true
}
