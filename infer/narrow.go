package infer

import "github.com/onnxkit/onnxkit/tensor"

// Float16 and bfloat16 are computed as onnxruntime computes them: an op
// without kernels of its own for them gets its float16 and bfloat16 inputs
// converted to float32, runs its float32 kernel, and has its float32
// outputs rounded (to nearest, ties to even) back to the narrow type. This
// file is that one place: at load, constant narrow inputs are widened once
// (so that weight packing sees float32); at run, runNode hands the rest to
// runNarrow.

// narrowNative is implemented by the ops that take float16 and bfloat16
// themselves: those that only move elements, Cast, and EyeLike (whose
// output type may be set apart from its input's).
type narrowNative interface{ takesNarrow() }

func (*castOp) takesNarrow()      {}
func (*castLikeOp) takesNarrow()  {}
func (*bitCastOp) takesNarrow()   {}
func (*constantOp) takesNarrow()  {}
func (*identityOp) takesNarrow()  {}
func (*shapeOp) takesNarrow()     {}
func (*reshapeOp) takesNarrow()   {}
func (*flattenOp) takesNarrow()   {}
func (*squeezeOp) takesNarrow()   {}
func (*transposeOp) takesNarrow() {}
func (*gatherOp) takesNarrow()    {}
func (*concatOp) takesNarrow()    {}
func (*sliceOp) takesNarrow()     {}
func (*expandOp) takesNarrow()    {}
func (*eyeLikeOp) takesNarrow()   {}

// isNarrow reports whether dt is computed through float32.
func isNarrow(dt tensor.DType) bool { return dt == tensor.Float16 || dt == tensor.BFloat16 }

// narrowBufs is a node's memory for runNarrow: the widened inputs and the
// float32 outputs, reused from run to run.
type narrowBufs struct {
	ins  []*tensor.Tensor
	outs []*tensor.Tensor
	wide []tensor.Tensor // by input
	tmp  []tensor.Tensor // by output
}

func (b *narrowBufs) bytes() int64 {
	if b == nil {
		return 0
	}
	var n int64
	for i := range b.wide {
		n += b.wide[i].CapBytes()
	}
	for i := range b.tmp {
		n += b.tmp[i].CapBytes()
	}
	return n
}

// needsNarrow reports whether the node must run through runNarrow.
func needsNarrow(pn *planNode, ins []*tensor.Tensor) bool {
	if _, ok := pn.op.(narrowNative); ok {
		return false
	}
	if pn.narrow != tensor.Invalid {
		return true
	}
	for _, t := range ins {
		if t != nil && isNarrow(t.DType) {
			return true
		}
	}
	return false
}

// runNarrow runs a node with float16 or bfloat16 inputs on its float32
// kernel, rounding its float32 outputs back to the narrow type (the first
// narrow input's, or the one its widened constants had).
func runNarrow(pn *planNode, sc *scratch, ins, outs []*tensor.Tensor) error {
	b := sc.narrow
	if b == nil {
		b = &narrowBufs{
			ins: make([]*tensor.Tensor, len(ins)), outs: make([]*tensor.Tensor, len(outs)),
			wide: make([]tensor.Tensor, len(ins)), tmp: make([]tensor.Tensor, len(outs)),
		}
		sc.narrow = b
	}
	to := pn.narrow
	for j, t := range ins {
		b.ins[j] = t
		if t == nil || !isNarrow(t.DType) {
			continue
		}
		if to == tensor.Invalid {
			to = t.DType
		}
		w := &b.wide[j]
		w.Resize(tensor.Float32, t.Shape...)
		widen(w.F32, t)
		b.ins[j] = w
	}
	for j := range outs {
		b.outs[j] = &b.tmp[j]
	}
	err := pn.op.run(sc, b.ins, b.outs)
	clear(b.ins)
	if err != nil {
		return err
	}
	for j, t := range b.outs {
		d := outs[j]
		if t.DType != tensor.Float32 {
			d.CopyFrom(t)
			continue
		}
		d.Resize(to, t.Shape...)
		if to == tensor.BFloat16 {
			tensor.Float32ToBFloat16(data[uint16](d), t.F32)
		} else {
			tensor.Float32ToFloat16(data[uint16](d), t.F32)
		}
	}
	return nil
}

// widen sets d to the values of the float16 or bfloat16 tensor t.
func widen(d []float32, t *tensor.Tensor) {
	if t.DType == tensor.BFloat16 {
		tensor.BFloat16ToFloat32(d, data[uint16](t))
	} else {
		tensor.Float16ToFloat32(d, data[uint16](t))
	}
}

// widenConsts gives each node that computes narrow types through float32
// a float32 copy of its constant float16 and bfloat16 inputs, in a slot of
// its own, and records the narrow type its outputs are rounded to.
func (p *plan) widenConsts() {
	widened := map[int]int{} // narrow slot -> its float32 slot
	for i := range p.nodes {
		pn := &p.nodes[i]
		if _, ok := pn.op.(narrowNative); ok {
			continue
		}
		for j, s := range pn.in {
			c := p.constant(s)
			if c == nil || !isNarrow(c.DType) {
				continue
			}
			if pn.narrow == tensor.Invalid {
				pn.narrow = c.DType
			}
			w, ok := widened[s]
			if !ok {
				t := tensor.New(tensor.Float32, c.Shape...)
				widen(t.F32, c)
				w = p.nslots
				p.nslots++
				p.consts = append(p.consts, t)
				widened[s] = w
			}
			pn.in[j] = w
		}
	}
}
