package infer

import (
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// fuseLayerNorms replaces each layer normalization over the last axis
// written out as PyTorch exports F.layer_norm before opset 17,
//
//	m = ReduceMean(x, axes [-1]); d = Sub(x, m)
//	v = ReduceMean(Pow(d, 2), axes [-1]); s = Sqrt(Add(v, eps))
//	y = Add(Mul(Div(d, s), scale), bias)
//
// (eps a constant scalar, scale and bias constant vectors, Add and Mul in
// either operand order), by one LayerNormalization (axis -1): one pass
// over each row instead of nine over the whole tensor. Nothing else may
// read a value in between, nor may it be a graph output. The fused node
// reports errors under the first ReduceMean's name.
func (p *plan) fuseLayerNorms() {
	uses := p.uses()
	drop := make([]bool, len(p.nodes))
	for i := range p.nodes {
		if m, ok := p.matchLayerNorm(i, uses); ok {
			for _, j := range m.nodes[:len(m.nodes)-1] {
				drop[j] = true
			}
			last := &p.nodes[m.nodes[len(m.nodes)-1]]
			first := p.nodes[i].node
			last.node = &onnx.Node{Name: first.Name, OpType: "LayerNormalization", Inputs: first.Inputs[:1], Outputs: last.node.Outputs}
			last.op = &layerNormOp{axis: -1, epsilon: m.eps}
			last.in = []int{m.x, m.scale, m.bias}
		}
	}
	p.dropNodes(drop)
}

// layerNormMatch is a written-out layer normalization: its nodes in
// order (the last one writes y), its input x, and its constants.
type layerNormMatch struct {
	nodes       []int
	x           int
	scale, bias int
	eps         float32
}

// matchLayerNorm reports whether node i is the first ReduceMean of a
// written-out layer normalization (see fuseLayerNorms).
func (p *plan) matchLayerNorm(i int, uses []int) (layerNormMatch, bool) {
	var m layerNormMatch
	isMeanLast := func(j int) bool {
		r, ok := p.nodes[j].op.(*reduceOp)
		return ok && r.kind == rMean && !r.axesInput && len(r.axes) == 1 && r.axes[0] == -1 && r.keepdims && len(p.nodes[j].in) == 1
	}
	// other returns the operand of a commutative node j besides s.
	other := func(a, b, s int) int {
		if a == s {
			return b
		}
		if b == s {
			return a
		}
		return -1
	}
	scalar := func(s int) (float32, bool) {
		t := p.constant(s)
		if t == nil || t.DType != tensor.Float32 || t.Len() != 1 {
			return 0, false
		}
		return t.F32[0], true
	}
	vector := func(s int) *tensor.Tensor {
		t := p.constant(s)
		if t == nil || t.DType != tensor.Float32 || t.Rank() != 1 || t.Len() == 0 {
			return nil
		}
		return t
	}
	if !isMeanLast(i) {
		return m, false
	}
	m.x = p.nodes[i].in[0]
	mean := p.nodes[i].out[0]
	sub := p.soleReader(mean, uses)
	if a, b, _, ok := p.arithNode(sub, opSub); !ok || a != m.x || b != mean {
		return m, false
	}
	d := p.nodes[sub].out[0]
	if uses[d] != 2 || p.isOutput(d) {
		return m, false
	}
	pow := -1
	for j := sub + 1; j < len(p.nodes) && pow < 0; j++ {
		if _, ok := p.nodes[j].op.(*powOp); ok && len(p.nodes[j].in) == 2 && p.nodes[j].in[0] == d {
			pow = j
		}
	}
	if pow < 0 || len(p.nodes[pow].out) != 1 {
		return m, false
	}
	if two, ok := scalar(p.nodes[pow].in[1]); !ok || two != 2 {
		return m, false
	}
	mean2 := p.soleReader(p.nodes[pow].out[0], uses)
	if mean2 < 0 || !isMeanLast(mean2) {
		return m, false
	}
	addEps := p.soleReader(p.nodes[mean2].out[0], uses)
	a, b, _, ok := p.arithNode(addEps, opAdd)
	if !ok {
		return m, false
	}
	if m.eps, ok = scalar(other(a, b, p.nodes[mean2].out[0])); !ok {
		return m, false
	}
	sqrt := p.soleReader(p.nodes[addEps].out[0], uses)
	if sqrt < 0 || p.nodes[sqrt].node.OpType != "Sqrt" || len(p.nodes[sqrt].out) != 1 {
		return m, false
	}
	div := p.soleReader(p.nodes[sqrt].out[0], uses)
	if a, b, _, ok := p.arithNode(div, opDiv); !ok || a != d || b != p.nodes[sqrt].out[0] {
		return m, false
	}
	mul := p.soleReader(p.nodes[div].out[0], uses)
	a, b, _, ok = p.arithNode(mul, opMul)
	if !ok {
		return m, false
	}
	m.scale = other(a, b, p.nodes[div].out[0])
	addB := p.soleReader(p.nodes[mul].out[0], uses)
	a, b, _, ok = p.arithNode(addB, opAdd)
	if !ok {
		return m, false
	}
	m.bias = other(a, b, p.nodes[mul].out[0])
	scale, bias := vector(m.scale), vector(m.bias)
	if scale == nil || bias == nil || scale.Len() != bias.Len() {
		return m, false
	}
	m.nodes = []int{i, sub, pow, mean2, addEps, sqrt, div, mul, addB}
	// Every node of the pattern comes before the last, which then sees
	// all of its inputs written.
	for _, j := range m.nodes[:len(m.nodes)-1] {
		if j >= addB {
			return m, false
		}
	}
	return m, true
}
