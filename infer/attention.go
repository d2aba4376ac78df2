package infer

import (
	"fmt"
	"math"
	"slices"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// attentionOp is Attention (versions 23 and 24; 24 adds nonpad_kv_seqlen):
// softmax(Q·Kᵀ·scale (softcapped) + mask)·V per head, over float32 inputs.
// K and V are the concatenation of past_key/past_value (when given) and the
// new tokens; the present outputs are that concatenation. is_causal masks
// key j for query i when j > i+past. A query head h
// reads key/value head h/(qHeads/kvHeads) (grouped-query attention).
type attentionOp struct {
	n               *onnx.Node
	causal          bool
	qHeads, kvHeads int // 0 for 4-D inputs
	mode            int // qk_matmul_output_mode
	scale, softcap  float32
	hasScale        bool
}

func buildAttention(n *onnx.Node, opset int64) (op, error) {
	maxIn := 6
	if opset >= 24 {
		maxIn = 7
	}
	if err := checkArity(n, 3, maxIn, 4); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &attentionOp{
		n:        n,
		causal:   a.int("is_causal", 0) != 0,
		qHeads:   int(a.int("q_num_heads", 0)),
		kvHeads:  int(a.int("kv_num_heads", 0)),
		mode:     int(a.int("qk_matmul_output_mode", 0)),
		scale:    a.float("scale", 0),
		hasScale: a.has("scale"),
		softcap:  a.float("softcap", 0),
	}
	a.int("softmax_precision", 1) // softmax is computed in float32 with a float64 sum
	if a.err != nil {
		return nil, a.err
	}
	if o.mode < 0 || o.mode > 3 {
		return nil, errorf(n, "attribute \"qk_matmul_output_mode\": want 0 to 3, got %d", o.mode)
	}
	if o.qHeads < 0 || o.kvHeads < 0 || o.qHeads > 1<<20 || o.kvHeads > 1<<20 {
		return nil, errorf(n, "attributes \"q_num_heads\", \"kv_num_heads\": want non-negative values")
	}
	return o, nil
}

// heads4 describes a Q, K or V input as (batch, heads, seq, size) with the
// strides of its 4-D or 3-D layout.
type heads4 struct {
	b, h, s, d int
	sb, sh, ss int // element strides of batch, head and sequence
	data       []float32
}

func attentionInput(t *tensor.Tensor, name string, heads int) (heads4, error) {
	if t.DType != tensor.Float32 {
		return heads4{}, fmt.Errorf("input %s: want float32, got %v", name, t.DType)
	}
	switch t.Rank() {
	case 4:
		b, h, s, d := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
		return heads4{b, h, s, d, h * s * d, s * d, d, t.F32}, nil
	case 3:
		if heads <= 0 || t.Shape[2]%heads != 0 {
			return heads4{}, fmt.Errorf("input %s: 3-D shape %v needs a num_heads attribute dividing its last dimension", name, t.Shape)
		}
		b, s, d := t.Shape[0], t.Shape[1], t.Shape[2]/heads
		return heads4{b, heads, s, d, s * heads * d, d, heads * d, t.F32}, nil
	}
	return heads4{}, fmt.Errorf("input %s: want a 3-D or 4-D tensor, got shape %v", name, t.Shape)
}

// concatKV writes past (may be nil) and x into dst as (b, h, past+s, d).
func concatKV(dst []float32, past *tensor.Tensor, x heads4) {
	ps := 0
	if past != nil {
		ps = past.Shape[2]
	}
	t := ps + x.s
	for b := range x.b {
		for h := range x.h {
			row := dst[(b*x.h+h)*t*x.d:]
			if ps > 0 {
				copy(row, past.F32[(b*x.h+h)*ps*x.d:(b*x.h+h+1)*ps*x.d])
			}
			for s := range x.s {
				src := x.data[b*x.sb+h*x.sh+s*x.ss:]
				copy(row[(ps+s)*x.d:(ps+s+1)*x.d], src[:x.d])
			}
		}
	}
}

func (o *attentionOp) run(s *scratch, in, out []*tensor.Tensor) error {
	q, err := attentionInput(in[0], "Q", o.qHeads)
	if err != nil {
		return err
	}
	k, err := attentionInput(in[1], "K", o.kvHeads)
	if err != nil {
		return err
	}
	v, err := attentionInput(in[2], "V", o.kvHeads)
	if err != nil {
		return err
	}
	if k.b != q.b || v.b != q.b || k.h != v.h || k.s != v.s || k.d != q.d {
		return fmt.Errorf("inputs Q %v, K %v, V %v: batch, heads, kv length or head size disagree", in[0].Shape, in[1].Shape, in[2].Shape)
	}
	if k.h == 0 || q.h%k.h != 0 {
		return fmt.Errorf("q_num_heads %d is not a multiple of kv_num_heads %d", q.h, k.h)
	}
	mask, pastK, pastV, nonpad := input(in, 3), input(in, 4), input(in, 5), input(in, 6)
	if (pastK == nil) != (pastV == nil) {
		return fmt.Errorf("inputs past_key and past_value: give both or neither")
	}
	past := 0
	if pastK != nil {
		if pastK.DType != tensor.Float32 || pastV.DType != tensor.Float32 {
			return fmt.Errorf("inputs past_key, past_value: want float32")
		}
		if pastK.Rank() != 4 || pastV.Rank() != 4 || pastK.Shape[0] != q.b || pastK.Shape[1] != k.h || pastK.Shape[3] != k.d ||
			pastV.Shape[0] != q.b || pastV.Shape[1] != k.h || pastV.Shape[2] != pastK.Shape[2] || pastV.Shape[3] != v.d {
			return fmt.Errorf("inputs past_key %v, past_value %v: want (batch, kv_num_heads, past, head_size)", pastK.Shape, pastV.Shape)
		}
		past = pastK.Shape[2]
	}
	t := past + k.s
	if err := checkSize(o.n, []int{q.b, q.h, q.s, t}); err != nil {
		return err
	}
	var lens []int64
	if nonpad != nil {
		if nonpad.DType != tensor.Int64 || nonpad.Rank() != 1 || nonpad.Shape[0] != q.b {
			return fmt.Errorf("input nonpad_kv_seqlen: want int64 of shape (%d), got %v", q.b, nonpad)
		}
		lens = nonpad.I64
	}
	// The mask, broadcast (right-aligned) to (b, qh, qs, mt), mt <= t.
	var mstr [4]int
	mt := t
	if mask != nil {
		if mask.DType != tensor.Float32 && mask.DType != tensor.Bool {
			return fmt.Errorf("input attn_mask: want bool or float32, got %v", mask.DType)
		}
		r := mask.Rank()
		if r < 1 || r > 4 {
			return fmt.Errorf("input attn_mask: want rank 1 to 4, got shape %v", mask.Shape)
		}
		mt = mask.Shape[r-1]
		if mt > t {
			return fmt.Errorf("input attn_mask: last dimension %d exceeds total sequence length %d", mt, t)
		}
		want := [4]int{q.b, q.h, q.s, mt}
		stride := 1
		for i := r - 1; i >= 0; i-- {
			d, w := mask.Shape[i], want[4-r+i]
			switch d {
			case w:
				mstr[4-r+i] = stride
			case 1:
			default:
				return fmt.Errorf("input attn_mask: shape %v does not broadcast to %v", mask.Shape, want)
			}
			stride *= d
		}
	}

	// Outputs and working memory.
	dv := v.d
	y := out[0]
	if in[0].Rank() == 3 {
		resize(y, tensor.Float32, q.b, q.s, q.h*dv)
	} else {
		resize(y, tensor.Float32, q.b, q.h, q.s, dv)
	}
	presK, presV, qkOut := output(out, 1), output(out, 2), output(out, 3)
	nk, nv := q.b*k.h*t*k.d, q.b*k.h*t*dv
	buf := s.floats(nk + nv + q.s*t)
	kt, vt, sc := buf[:nk], buf[nk:nk+nv], buf[nk+nv:]
	concatKV(kt, pastK, k)
	concatKV(vt, pastV, v)
	if presK != nil {
		resize(presK, tensor.Float32, q.b, k.h, t, k.d)
		copy(presK.F32, kt)
	}
	if presV != nil {
		resize(presV, tensor.Float32, q.b, k.h, t, dv)
		copy(presV.F32, vt)
	}
	if qkOut != nil {
		resize(qkOut, tensor.Float32, q.b, q.h, q.s, t)
	}
	scale := o.scale
	if !o.hasScale {
		scale = float32(1 / math.Sqrt(float64(q.d)))
	}
	negInf := float32(math.Inf(-1))
	group := q.h / k.h
	for b := range q.b {
		valid := t
		if lens != nil {
			valid = int(min(max(lens[b], 0), int64(t)))
		}
		for h := range q.h {
			kvh := h / group
			kh := kt[(b*k.h+kvh)*t*k.d:]
			vh := vt[(b*k.h+kvh)*t*dv:]
			kernel.Sgemm(false, true, q.s, t, q.d, scale, q.data[b*q.sb+h*q.sh:], q.ss, kh, k.d, 0, sc, t)
			var qk []float32
			if qkOut != nil {
				qk = qkOut.F32[(b*q.h+h)*q.s*t : (b*q.h+h+1)*q.s*t]
			}
			if o.mode == 0 && qk != nil {
				copy(qk, sc)
			}
			if o.softcap > 0 {
				for i, x := range sc {
					sc[i] = o.softcap * float32(math.Tanh(float64(x/o.softcap)))
				}
			}
			if o.mode == 1 && qk != nil {
				copy(qk, sc)
			}
			for i := range q.s {
				row := sc[i*t : (i+1)*t]
				for j := range row {
					if j >= mt || j >= valid || (o.causal && j > i+past) {
						row[j] = negInf
						continue
					}
					if mask != nil {
						mi := b*mstr[0] + h*mstr[1] + i*mstr[2] + j*mstr[3]
						if mask.DType == tensor.Bool {
							if !mask.B[mi] {
								row[j] = negInf
							}
						} else {
							row[j] += mask.F32[mi]
						}
					}
				}
			}
			if o.mode == 2 && qk != nil {
				copy(qk, sc)
			}
			sm := softmaxRows{d: sc, x: sc, size: t}
			sm.run(0, q.s, 0)
			if o.mode == 3 && qk != nil {
				copy(qk, sc)
			}
			var yo, ldy int
			if in[0].Rank() == 3 {
				yo, ldy = b*q.s*q.h*dv+h*dv, q.h*dv
			} else {
				yo, ldy = (b*q.h+h)*q.s*dv, dv
			}
			kernel.Sgemm(false, false, q.s, dv, t, 1, sc, t, vh, dv, 0, y.F32[yo:], ldy)
		}
	}
	return nil
}

// rotaryOp is RotaryEmbedding (version 23): the first rotary_embedding_dim
// elements of each head are rotated in pairs, (x1, x2) -> (c·x1 - s·x2,
// s·x1 + c·x2), the pairs being the two halves or (interleaved) adjacent
// elements; cos and sin come from the caches, indexed by position_ids when
// given, else by (batch, position).
type rotaryOp struct {
	interleaved   bool
	heads, rotDim int
}

func buildRotaryEmbedding(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 3, 4, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &rotaryOp{
		interleaved: a.int("interleaved", 0) != 0,
		heads:       int(a.int("num_heads", 0)),
		rotDim:      int(a.int("rotary_embedding_dim", 0)),
	}
	if a.err != nil {
		return nil, a.err
	}
	if o.heads < 0 || o.rotDim < 0 || o.heads > 1<<20 || o.rotDim > 1<<20 {
		return nil, errorf(n, "attributes \"num_heads\", \"rotary_embedding_dim\": want non-negative values")
	}
	return o, nil
}

func (o *rotaryOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, cc, sc, pos := in[0], in[1], in[2], input(in, 3)
	if x.DType != tensor.Float32 || cc.DType != tensor.Float32 || sc.DType != tensor.Float32 {
		return fmt.Errorf("inputs X, cos_cache, sin_cache: want float32, got %v, %v, %v", x.DType, cc.DType, sc.DType)
	}
	var in4 heads4
	var err error
	if x.Rank() == 4 {
		in4, err = attentionInput(x, "X", 0)
	} else {
		in4, err = attentionInput(x, "X", o.heads)
	}
	if err != nil {
		return err
	}
	rd := o.rotDim
	if rd == 0 {
		rd = in4.d
	}
	if rd > in4.d || rd%2 != 0 {
		return fmt.Errorf("rotary_embedding_dim %d: want an even value at most the head size %d", rd, in4.d)
	}
	half := rd / 2
	if !slices.Equal(cc.Shape, sc.Shape) || cc.Rank() < 2 || cc.Shape[cc.Rank()-1] != half {
		return fmt.Errorf("inputs cos_cache %v, sin_cache %v: want equal shapes ending in rotary_embedding_dim/2 = %d", cc.Shape, sc.Shape, half)
	}
	if pos != nil {
		if pos.DType != tensor.Int64 || pos.Rank() != 2 || pos.Shape[0] != in4.b || pos.Shape[1] != in4.s || cc.Rank() != 2 {
			return fmt.Errorf("input position_ids %v: want int64 (batch, sequence) with 2-D caches (got %v)", pos.Shape, cc.Shape)
		}
		for _, p := range pos.I64 {
			if p < 0 || p >= int64(cc.Shape[0]) {
				return fmt.Errorf("input position_ids: %d out of range [0, %d)", p, cc.Shape[0])
			}
		}
	} else if cc.Rank() != 3 || cc.Shape[0] != in4.b || cc.Shape[1] != in4.s {
		return fmt.Errorf("inputs cos_cache %v: want (batch, sequence, %d) without position_ids", cc.Shape, half)
	}
	resize(out[0], tensor.Float32, x.Shape...)
	y := out[0].F32
	copy(y, x.F32)
	for b := range in4.b {
		for s := range in4.s {
			row := b*in4.s + s
			if pos != nil {
				row = int(pos.I64[b*in4.s+s])
			}
			cs, sn := cc.F32[row*half:(row+1)*half], sc.F32[row*half:(row+1)*half]
			for h := range in4.h {
				base := b*in4.sb + h*in4.sh + s*in4.ss
				xs, ys := x.F32[base:base+rd], y[base:base+rd]
				for i := range half {
					i1, i2 := i, i+half
					if o.interleaved {
						i1, i2 = 2*i, 2*i+1
					}
					x1, x2 := xs[i1], xs[i2]
					ys[i1] = cs[i]*x1 - sn[i]*x2
					ys[i2] = sn[i]*x1 + cs[i]*x2
				}
			}
		}
	}
	return nil
}
