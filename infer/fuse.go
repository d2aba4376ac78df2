package infer

import (
	"math"
	"slices"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/tensor"
)

// optimizePlans is cleared by tests that compare optimized plans with
// plain ones.
var optimizePlans = true

// optimize rewrites a checked plan into one that computes the same outputs
// with less work:
//   - a Pad whose pads are constant zeros is dropped, its consumers reading
//     its input instead (PyTorch exports AvgPool2d as such a Pad and an
//     AveragePool);
//   - an elementwise activation or math op (Relu, Tanh, Sigmoid, HardSwish,
//     Gelu, ...: any unaryOp) that is the only consumer of a Conv's or
//     Gemm's output, a Clip with constant bounds that is the only consumer
//     of a Conv's, and a SiLU or HardSwish written as Mul(Y, Sigmoid(Y))
//     or Mul(Y, HardSigmoid(Y)) of either's output Y, are applied by that
//     node to each block of output while it is still in cache;
//   - a MaxPool or AveragePool that is the only consumer of a Conv's
//     output (after its activation) is applied by the Conv: when the Conv
//     reads its im2col matrix in place (constant weights, stride 1) and
//     the pool is a 2x2 average at stride 2 or maximum at column stride
//     1, from each sample's output while it is in cache, otherwise by the
//     pool op after the whole output;
//   - the constant weights of Conv, Gemm, LSTM, GRU and RNN are packed
//     once for the matrix kernel (a Gemm's B stored transposed and the
//     recurrent ops' W and R are transposed first);
//   - a QDQ Conv, Gemm or MatMul (DequantizeLinear inputs, QuantizeLinear
//     output) becomes a QLinearConv or QLinearMatMul, and a DequantizeLinear of constants becomes a constant
//     (quantfuse.go);
//   - Flatten, Reshape, Squeeze and Unsqueeze share their input's
//     elements instead of copying them (no op writes into its inputs;
//     graph outputs are copied out of the run).
//
// A value that is a graph output is never removed. The node names in
// errors stay those of the file: a fused activation or pool reports as its
// Conv or Gemm.
func (p *plan) optimize() {
	p.dropPassThroughs()
	p.fuseQDQConvs()
	p.fuseQDQGemms()
	p.foldDequantize()
	p.fuseGelus()
	p.fuseActivations()
	p.fuseSiLU()
	p.fuseLayerNorms()
	p.fusePools()
	p.prepareGemmB()
	p.packConvWeights()
	p.packRecurrentWeights()
	p.markViews()
}

// markViews lets the ops that only change a shape share their input's
// elements, and records their outputs for Session.release.
func (p *plan) markViews() {
	for _, pn := range p.nodes {
		if v, ok := pn.op.(interface{ markView() }); ok && len(pn.out) == 1 && pn.out[0] >= 0 {
			v.markView()
			p.views = append(p.views, pn.out[0])
		}
	}
}

// uses counts the readers of each slot: node inputs and graph outputs.
func (p *plan) uses() []int {
	n := make([]int, p.nslots)
	for _, pn := range p.nodes {
		for _, s := range pn.in {
			if s >= 0 {
				n[s]++
			}
		}
	}
	for _, o := range p.outputs {
		n[o.slot]++
	}
	return n
}

// soleReader returns the one node reading slot s, or -1 when s is
// unset, has other readers or is a graph output.
func (p *plan) soleReader(s int, uses []int) int {
	if s < 0 || uses[s] != 1 || p.isOutput(s) {
		return -1
	}
	for j := range p.nodes {
		if slices.Contains(p.nodes[j].in, s) {
			return j
		}
	}
	return -1
}

// arithNode returns the operands and output of node j when it is a
// two-input arithmetic node of the given kind with one output.
func (p *plan) arithNode(j int, kind arithKind) (a, b, out int, ok bool) {
	if j < 0 {
		return 0, 0, 0, false
	}
	pn := p.nodes[j]
	o, isArith := pn.op.(*arithOp)
	if !isArith || o.kind != kind || o.legacy != nil || len(pn.in) != 2 || len(pn.out) != 1 || pn.out[0] < 0 {
		return 0, 0, 0, false
	}
	return pn.in[0], pn.in[1], pn.out[0], true
}

func (p *plan) isOutput(slot int) bool {
	for _, o := range p.outputs {
		if o.slot == slot {
			return true
		}
	}
	return false
}

// constant returns the value of a slot known at load time: an initializer
// that is not also a graph input (which a caller may override), or the
// output of a Constant node.
func (p *plan) constant(slot int) *tensor.Tensor {
	if slot < 0 {
		return nil
	}
	for _, in := range p.inputs {
		if in.slot == slot {
			return nil
		}
	}
	if t := p.consts[slot]; t != nil {
		return t
	}
	for _, pn := range p.nodes {
		if len(pn.out) == 1 && pn.out[0] == slot {
			if c, ok := pn.op.(*constantOp); ok {
				return c.t
			}
			return nil
		}
	}
	return nil
}

// dropPassThroughs removes the Pads that pad nothing and the Identity
// nodes, wiring their readers to their input, unless their output is a
// graph output.
func (p *plan) dropPassThroughs() {
	var kept []planNode
	for _, pn := range p.nodes {
		if !(p.padsNothing(pn) || isIdentity(pn)) || p.isOutput(pn.out[0]) {
			kept = append(kept, pn)
			continue
		}
		from, to := pn.out[0], pn.in[0]
		for i := range p.nodes {
			for j, s := range p.nodes[i].in {
				if s == from {
					p.nodes[i].in[j] = to
				}
			}
		}
	}
	p.nodes = kept
}

// isIdentity reports whether pn is an Identity of a tensor. Exporters
// write one for each weight that several names share; bypassing it lets
// the consumers see the weight as a constant (packed once at load) instead
// of a copy made at every run.
func isIdentity(pn planNode) bool {
	_, ok := pn.op.(*identityOp)
	return ok && len(pn.in) == 1 && pn.in[0] >= 0 && len(pn.out) == 1 && pn.out[0] >= 0
}

// padsNothing reports whether pn is a Pad with all-zero constant pads and
// no axes input.
func (p *plan) padsNothing(pn planNode) bool {
	o, ok := pn.op.(*padOp)
	if !ok || len(pn.out) != 1 || pn.out[0] < 0 || pn.in[0] < 0 || len(pn.in) > 3 {
		return false
	}
	pads := o.pads
	if !o.fromAttr {
		t := p.constant(pn.in[1])
		if t == nil || t.DType != tensor.Int64 || t.Rank() != 1 {
			return false
		}
		pads = t.I64
	}
	for _, v := range pads {
		if v != 0 {
			return false
		}
	}
	return true
}

// actSlot is where a Conv or Gemm keeps the activation applied to its
// output, or nil for other ops.
func actSlot(o op) **unaryOp {
	switch o := o.(type) {
	case *convOp:
		return &o.act
	case *gemmOp:
		return &o.act
	}
	return nil
}

// fuseActivations moves each unaryOp (Relu, Tanh, Sigmoid, HardSwish, Gelu,
// ...) that alone reads a Conv's or Gemm's output into that node, and each
// Clip with constant float32 bounds that alone reads a Conv's output into
// the Conv.
func (p *plan) fuseActivations() {
	uses := p.uses()
	drop := make([]bool, len(p.nodes))
	for i := range p.nodes {
		pn := &p.nodes[i]
		_, isConv := pn.op.(*convOp)
		act := actSlot(pn.op)
		if act == nil {
			continue
		}
		y := pn.out[0]
		if *act != nil || y < 0 || uses[y] != 1 {
			continue
		}
		for j := i + 1; j < len(p.nodes); j++ {
			next := &p.nodes[j]
			if !slices.Contains(next.in, y) {
				continue
			}
			if len(next.out) != 1 || next.out[0] < 0 || next.in[0] != y {
				break
			}
			var a *unaryOp
			switch u := next.op.(type) {
			case *unaryOp:
				if len(next.in) == 1 {
					a = u
				}
			case *clipOp:
				if isConv {
					a = p.constantClip(next, u)
				}
			}
			if a != nil {
				*act = a
				pn.out = []int{next.out[0]}
				drop[j] = true
			}
			break
		}
	}
	p.dropNodes(drop)
}

// constantClip returns the float32 activation of a Clip whose bounds are
// known at load (attributes, or constant float32 scalars), or nil.
func (p *plan) constantClip(pn *planNode, o *clipOp) *unaryOp {
	lo, hi := o.lo, o.hi
	if o.fromInputs {
		lo, hi = float32(math.Inf(-1)), float32(math.Inf(1))
		for i, b := range []*float32{&lo, &hi} {
			if len(pn.in) <= i+1 || pn.in[i+1] < 0 {
				continue
			}
			t := p.constant(pn.in[i+1])
			if t == nil || t.DType != tensor.Float32 || t.Len() != 1 {
				return nil
			}
			*b = t.F32[0]
		}
	}
	return &unaryOp{n: o.n,
		f32: func(d, x []float32) { kernel.Clip(d, x, lo, hi) },
		f64: func(x float64) float64 { return float64(kernel.ClipOne(float32(x), lo, hi)) }}
}

// fuseSiLU moves each SiLU written as Mul(Y, Sigmoid(Y)) (either order)
// of a Conv's or Gemm's output Y that nothing else reads into that node,
// as kernel.SiLU, which gives the bits of the Sigmoid and the Mul; and
// likewise Mul(Y, HardSigmoid(Y)) (PyTorch's HardSwish before opset 14)
// as kernel.MulHardSigmoid.
func (p *plan) fuseSiLU() {
	uses := p.uses()
	drop := make([]bool, len(p.nodes))
	for i := range p.nodes {
		pn := &p.nodes[i]
		act := actSlot(pn.op)
		if act == nil {
			continue
		}
		y := pn.out[0]
		if *act != nil || y < 0 || uses[y] != 2 || p.isOutput(y) {
			continue
		}
		sig, mul := -1, -1
		for j := i + 1; j < len(p.nodes) && mul < 0; j++ {
			next := &p.nodes[j]
			switch {
			case sig < 0 && (next.node.OpType == "Sigmoid" || next.node.OpType == "HardSigmoid") && len(next.in) == 1 && next.in[0] == y:
				if s := next.out[0]; s < 0 || uses[s] != 1 || p.isOutput(s) {
					j = len(p.nodes)
				} else {
					sig = j
				}
			case sig >= 0 && slices.Contains(next.in, p.nodes[sig].out[0]):
				a, b, _, ok := p.arithNode(j, opMul)
				s := p.nodes[sig].out[0]
				if ok && (a == y && b == s || a == s && b == y) {
					mul = j
				} else {
					j = len(p.nodes)
				}
			case slices.Contains(next.in, y):
				j = len(p.nodes)
			}
		}
		if mul < 0 {
			continue
		}
		*act = &unaryOp{n: p.nodes[mul].node, f32: kernel.SiLU, f64: func(x float64) float64 { return x * sigmoid(x) }}
		if g, ok := p.nodes[sig].op.(*unaryOp); ok && p.nodes[sig].node.OpType == "HardSigmoid" {
			a := attrs{n: g.n}
			alpha, beta := a.float("alpha", 0.2), a.float("beta", 0.5)
			*act = &unaryOp{n: p.nodes[mul].node,
				f32: func(d, x []float32) { kernel.MulHardSigmoid(d, x, alpha, beta) },
				f64: func(x float64) float64 { return x * g.f64(x) }}
		}
		pn.out = []int{p.nodes[mul].out[0]}
		drop[sig], drop[mul] = true, true
	}
	p.dropNodes(drop)
}

// fusePools moves each MaxPool (without Indices) or AveragePool that
// alone reads a Conv's output into that Conv.
func (p *plan) fusePools() {
	uses := p.uses()
	drop := make([]bool, len(p.nodes))
	for i := range p.nodes {
		pn := &p.nodes[i]
		o, ok := pn.op.(*convOp)
		y := pn.out[0]
		if !ok || o.pool != nil || y < 0 || uses[y] != 1 {
			continue
		}
		for j := i + 1; j < len(p.nodes); j++ {
			next := &p.nodes[j]
			if len(next.in) != 1 || next.in[0] != y {
				continue
			}
			if pool, ok := next.op.(*poolOp); ok && len(next.out) == 1 && next.out[0] >= 0 {
				fused := *o
				fused.pool = pool
				pn.op = &fused
				pn.out = []int{next.out[0]}
				drop[j] = true
			}
			break
		}
	}
	p.dropNodes(drop)
}

// dropNodes removes the nodes marked in drop.
func (p *plan) dropNodes(drop []bool) {
	var kept []planNode
	for i, pn := range p.nodes {
		if !drop[i] {
			kept = append(kept, pn)
		}
	}
	p.nodes = kept
}

// prepareGemmB packs the constant 2-D float32 B of each Gemm for the
// matrix kernel, first giving a B stored transposed (transB=1) a
// transposed copy as a new constant slot, so that the product reads B row
// by row.
func (p *plan) prepareGemmB() {
	for i := range p.nodes {
		pn := &p.nodes[i]
		o, ok := pn.op.(*gemmOp)
		if !ok {
			continue
		}
		b := p.constant(pn.in[1])
		if b == nil || b.DType != tensor.Float32 || b.Rank() != 2 || !b.Valid() {
			continue
		}
		rows, cols := b.Shape[0], b.Shape[1]
		fused := *o
		if o.transB {
			t := tensor.FromFloat32(transpose(b.F32, rows, cols), cols, rows)
			fused.transB = false
			pn.in = append([]int(nil), pn.in...)
			pn.in[1] = p.nslots
			p.nslots++
			p.consts = append(p.consts, t)
			b, rows, cols = t, cols, rows
		}
		fused.bpack = kernel.PackB(rows, cols, b.F32, cols)
		pn.op = &fused
	}
}

// packConvWeights packs the constant float32 weights of each Conv: of
// group 1 as they are and transposed, and of other groups but depthwise
// ones (one input channel a group) group by group.
func (p *plan) packConvWeights() {
	for _, pn := range p.nodes {
		o, ok := pn.op.(*convOp)
		if !ok {
			continue
		}
		w := p.constant(pn.in[1])
		if w == nil || w.DType != tensor.Float32 || w.Rank() < 3 || !w.Valid() || w.Len() == 0 {
			continue
		}
		m := w.Shape[0]
		k := w.Len() / m
		switch {
		case o.group == 1:
			o.wpack = kernel.PackA(false, m, k, w.F32, k)
			o.wpackT = &lazyPackedT{m: m, k: k, w: w.F32}
		case w.Shape[1] > 1 && m%o.group == 0:
			mg := m / o.group
			o.gpacks = make([]*kernel.PackedA, o.group)
			for gi := range o.gpacks {
				o.gpacks[gi] = kernel.PackA(false, mg, k, w.F32[gi*mg*k:(gi+1)*mg*k], k)
			}
		}
	}
}

// transpose returns the cols x rows transpose of the row-major rows x
// cols matrix x.
func transpose(x []float32, rows, cols int) []float32 {
	t := make([]float32, rows*cols)
	for r := range rows {
		for c, v := range x[r*cols : (r+1)*cols] {
			t[c*rows+r] = v
		}
	}
	return t
}

// applyAct applies a fused activation (nil: none) to float32 values in
// place.
func applyAct(act *unaryOp, y []float32) {
	if act == nil {
		return
	}
	act.apply32(y, y)
}

// applyAct64 is applyAct for float64 values.
func applyAct64(act *unaryOp, y []float64) {
	if act == nil {
		return
	}
	for i, v := range y {
		y[i] = act.f64(v)
	}
}
