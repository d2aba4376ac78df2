package infer

import (
	"slices"

	"github.com/onnxkit/onnxkit/tensor"
)

// fuseQDQConvs rewrites each QDQ convolution into a QLinearConv: a Conv
// whose input is a DequantizeLinear (per-tensor), whose weights are a
// DequantizeLinear of constant 8-bit weights (per tensor or per output
// channel, axis 0), whose bias, if any, is a DequantizeLinear of a
// constant int32 bias with scale input scale x weight scale and zero point
// 0, and whose output alone feeds a per-tensor QuantizeLinear. The product
// is then computed on the integers with int32 accumulation and
// requantized once, as onnxruntime does with such models; the float path
// rounds the sum of float products instead, so the two may differ by one
// quantization step. Every zero point must be given, and the scales and
// zero points must be constants. The weights' DequantizeLinear nodes are
// dropped when nothing else reads them.
func (p *plan) fuseQDQConvs() {
	producer := p.producers()
	dq := func(slot int) (*planNode, *quantLinearOp) { return p.dequantAt(producer, slot) }
	uses := p.uses()
	drop := make([]bool, len(p.nodes))
	for qi := range p.nodes {
		qn := &p.nodes[qi]
		qo, ok := qn.op.(*quantLinearOp)
		if !ok || qo.dequant || len(qn.in) != 3 || qo.outType != tensor.Invalid {
			continue
		}
		ci, ok := producer[qn.in[0]]
		if !ok || uses[qn.in[0]] != 1 || p.isOutput(qn.in[0]) {
			continue
		}
		cn := &p.nodes[ci]
		co, ok := cn.op.(*convOp)
		if !ok || co.act != nil || co.pool != nil || len(cn.out) != 1 {
			continue
		}
		xn, _ := dq(cn.in[0])
		wn, wo := dq(cn.in[1])
		if xn == nil || wn == nil || len(cn.in) > 3 {
			continue
		}
		xs, xz := p.constant(xn.in[1]), p.constant(xn.in[2])
		ys, yz := p.constant(qn.in[1]), p.constant(qn.in[2])
		w, ws, wz := p.constant(wn.in[0]), p.constant(wn.in[1]), p.constant(wn.in[2])
		if !scalar8(xs, xz) || !scalar8(ys, yz) || w == nil || !is8bit(w) || w.Rank() < 3 ||
			ws == nil || wz == nil || ws.DType != tensor.Float32 || wz.DType != w.DType || !slices.Equal(ws.Shape, wz.Shape) {
			continue
		}
		m := w.Shape[0]
		if ws.Len() != 1 && (ws.Rank() != 1 || ws.Len() != m || (wo.axis != 0 && wo.axis != -int64(w.Rank()))) {
			continue
		}
		in := []int{xn.in[0], xn.in[1], xn.in[2], wn.in[0], wn.in[1], wn.in[2], qn.in[1], qn.in[2]}
		var bn *planNode
		if len(cn.in) == 3 && cn.in[2] >= 0 {
			bn, _ = dq(cn.in[2])
			if bn == nil || !biasFits(p.constant(bn.in[0]), p.constant(bn.in[1]), p.constant(bn.in[2]), xs.F32[0], ws, m) {
				continue
			}
			in = append(in, bn.in[0])
		}
		p.installFused(qn, &qconvOp{w: co.w, group: co.group, qlinear: true}, in, ci, []*planNode{wn, bn}, uses, drop)
	}
	p.dropNodes(drop)
}

// producers maps each slot to the index of the node that writes it.
func (p *plan) producers() map[int]int {
	producer := map[int]int{}
	for i, pn := range p.nodes {
		for _, s := range pn.out {
			if s >= 0 {
				producer[s] = i
			}
		}
	}
	return producer
}

// dequantAt returns the DequantizeLinear node (not blocked, zero point
// given) that writes slot, or nil.
func (p *plan) dequantAt(producer map[int]int, slot int) (*planNode, *quantLinearOp) {
	i, ok := producer[slot]
	if !ok {
		return nil, nil
	}
	o, ok := p.nodes[i].op.(*quantLinearOp)
	if !ok || !o.dequant || o.block != 0 || len(p.nodes[i].in) != 3 {
		return nil, nil
	}
	return &p.nodes[i], o
}

// fuseQDQGemms rewrites each QDQ Gemm (transA 0, alpha 1, beta 1, C
// absent or a 1-D int32 bias dequantized at scale x_scale*w_scale with
// zero point 0) and QDQ MatMul of 2-D constant weights into a
// QLinearMatMul-like op that adds the bias to the int32 sums before
// requantizing, under the conditions of fuseQDQConvs. A Gemm's B stored
// N x K (transB) is transposed once into a new constant.
func (p *plan) fuseQDQGemms() {
	producer := p.producers()
	uses := p.uses()
	drop := make([]bool, len(p.nodes))
	for qi := range p.nodes {
		qn := &p.nodes[qi]
		qo, ok := qn.op.(*quantLinearOp)
		if !ok || qo.dequant || len(qn.in) != 3 || qo.outType != tensor.Invalid {
			continue
		}
		gi, ok := producer[qn.in[0]]
		if !ok || uses[qn.in[0]] != 1 || p.isOutput(qn.in[0]) {
			continue
		}
		gn := &p.nodes[gi]
		transB, withC := false, false
		switch o := gn.op.(type) {
		case *gemmOp:
			if o.alpha != 1 || o.transA || o.act != nil || o.exactC || (len(gn.in) == 3 && gn.in[2] >= 0 && o.beta != 1) {
				continue
			}
			transB, withC = o.transB, len(gn.in) == 3 && gn.in[2] >= 0
		case matMulOp:
		default:
			continue
		}
		xn, _ := p.dequantAt(producer, gn.in[0])
		wn, wo := p.dequantAt(producer, gn.in[1])
		if xn == nil || wn == nil {
			continue
		}
		xs, xz := p.constant(xn.in[1]), p.constant(xn.in[2])
		ys, yz := p.constant(qn.in[1]), p.constant(qn.in[2])
		w, ws, wz := p.constant(wn.in[0]), p.constant(wn.in[1]), p.constant(wn.in[2])
		if !scalar8(xs, xz) || !scalar8(ys, yz) || w == nil || !is8bit(w) || w.Rank() != 2 ||
			ws == nil || wz == nil || ws.DType != tensor.Float32 || wz.DType != w.DType || !slices.Equal(ws.Shape, wz.Shape) {
			continue
		}
		n, axis := w.Shape[1], int64(1)
		if transB {
			n, axis = w.Shape[0], 0
		}
		if ws.Len() != 1 && (ws.Rank() != 1 || ws.Len() != n || (wo.axis != axis && wo.axis != axis-2)) {
			continue
		}
		wslot := wn.in[0]
		if transB {
			t := tensor.New(w.DType, w.Shape[1], w.Shape[0])
			for r := 0; r < w.Shape[0]; r++ {
				for c := 0; c < w.Shape[1]; c++ {
					if w.DType == tensor.Uint8 {
						t.U8[c*w.Shape[0]+r] = w.U8[r*w.Shape[1]+c]
					} else {
						t.I8[c*w.Shape[0]+r] = w.I8[r*w.Shape[1]+c]
					}
				}
			}
			wslot = p.nslots
			p.nslots++
			p.consts = append(p.consts, t)
		}
		in := []int{xn.in[0], xn.in[1], xn.in[2], wslot, wn.in[1], wn.in[2], qn.in[1], qn.in[2]}
		var bn *planNode
		if withC {
			bn, _ = p.dequantAt(producer, gn.in[2])
			if bn == nil || !biasFits(p.constant(bn.in[0]), p.constant(bn.in[1]), p.constant(bn.in[2]), xs.F32[0], ws, n) {
				continue
			}
			in = append(in, bn.in[0])
		}
		p.installFused(qn, &qmatMulOp{qlinear: true, gemm: true}, in, gi, []*planNode{wn, bn}, uses, drop)
	}
	p.dropNodes(drop)
}

// installFused makes the QuantizeLinear node qn run fused on the inputs
// in, and marks for dropping the node at index consumer that it replaces
// and each of the weight and bias DequantizeLinear nodes deqs (nil for
// none) that nothing else reads.
func (p *plan) installFused(qn *planNode, fused interface {
	op
	constChecker
}, in []int, consumer int, deqs []*planNode, uses []int, drop []bool) {
	consts := make([]*tensor.Tensor, len(in))
	for i, s := range in {
		consts[i] = p.constant(s)
	}
	fused.checkConsts(consts)
	qn.op, qn.in = fused, in
	drop[consumer] = true
	for _, d := range deqs {
		if d != nil && uses[d.out[0]] == 1 && !p.isOutput(d.out[0]) {
			drop[slicesIndex(p.nodes, d)] = true
		}
	}
}

// scalar8 reports whether s and z are a float32 scale and an 8-bit zero
// point of one element each.
func scalar8(s, z *tensor.Tensor) bool {
	return s != nil && z != nil && s.DType == tensor.Float32 && s.Len() == 1 && is8bit(z) && z.Len() == 1
}

// biasFits reports whether b is m int32 values with scales bs equal to
// xs times the weight scales ws (per tensor or per channel) and zero
// points zero, as QLinearConv's bias must be.
func biasFits(b, bs, bz *tensor.Tensor, xs float32, ws *tensor.Tensor, m int) bool {
	if b == nil || bs == nil || b.DType != tensor.Int32 || b.Rank() != 1 || b.Len() != m || bs.DType != tensor.Float32 {
		return false
	}
	if bz != nil {
		if bz.DType != tensor.Int32 {
			return false
		}
		for _, v := range bz.I32 {
			if v != 0 {
				return false
			}
		}
	}
	if bs.Len() != 1 && bs.Len() != m {
		return false
	}
	for c := 0; c < m; c++ {
		if bs.F32[min(c, bs.Len()-1)] != xs*ws.F32[min(c, ws.Len()-1)] {
			return false
		}
	}
	return true
}

// slicesIndex returns the index of the element of nodes that n points to.
func slicesIndex(nodes []planNode, n *planNode) int {
	for i := range nodes {
		if &nodes[i] == n {
			return i
		}
	}
	return -1
}

// foldDequantize computes at load each DequantizeLinear whose inputs are
// all constants (the weights of a QDQ Gemm or MatMul, say), which then
// become constants for the later rewrites (a Gemm packs such a B once).
// A node whose output is a graph output, or that fails, is kept.
func (p *plan) foldDequantize() {
	var kept []planNode
	for _, pn := range p.nodes {
		o, ok := pn.op.(*quantLinearOp)
		if !ok || !o.dequant || len(pn.out) != 1 || pn.out[0] < 0 || p.isOutput(pn.out[0]) || !p.allConstant(pn.in) {
			kept = append(kept, pn)
			continue
		}
		in := make([]*tensor.Tensor, len(pn.in))
		for i, s := range pn.in {
			in[i] = p.constant(s)
		}
		out := []*tensor.Tensor{{}}
		if err := o.run(&scratch{}, in, out); err != nil {
			kept = append(kept, pn)
			continue
		}
		p.consts[pn.out[0]] = out[0]
	}
	p.nodes = kept
}

// allConstant reports whether every present input slot is a constant.
func (p *plan) allConstant(slots []int) bool {
	for _, s := range slots {
		if s >= 0 && p.constant(s) == nil {
			return false
		}
	}
	return true
}
