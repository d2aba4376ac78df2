package infer

import (
	"fmt"
	"math"
	"slices"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// The quantization family: QuantizeLinear, DequantizeLinear,
// DynamicQuantizeLinear, and the integer products QLinearMatMul,
// MatMulInteger, QLinearConv and ConvInteger. Quantized values of
// QuantizeLinear and DequantizeLinear are 16-, 8-, 4- and 2-bit integers,
// float8 and float4 (int32 too for DequantizeLinear's input); float16 and
// bfloat16 scales and inputs are computed as float32 (narrow.go). Integer products subtract
// the zero points into int16 operands and accumulate in int32
// (igemm); requantization rounds half to even and saturates.

// quantLinearOp is QuantizeLinear (opsets 10, 13, 19, 21, 23, 24, 25) and
// DequantizeLinear (opsets 10, 13, 19, 21, 23, 24, 25): per-tensor,
// per-axis (from 13) and blocked (from 21) scales.
type quantLinearOp struct {
	n       *onnx.Node
	dequant bool
	opset   int64
	axis    int64
	block   int
	outType tensor.DType // QuantizeLinear's output_dtype; Invalid: from the zero point
	noSat   bool         // QuantizeLinear's saturate=0 (float8 outputs only)
}

func buildQuantizeLinear(n *onnx.Node, opset int64) (op, error) {
	return buildQuantLinear(n, opset, false)
}

func buildDequantizeLinear(n *onnx.Node, opset int64) (op, error) {
	return buildQuantLinear(n, opset, true)
}

func buildQuantLinear(n *onnx.Node, opset int64, dequant bool) (op, error) {
	if err := checkArity(n, 2, 3, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &quantLinearOp{n: n, dequant: dequant, opset: opset, axis: 1}
	if opset >= 13 {
		o.axis = a.int("axis", 1)
	}
	if opset >= 19 && !dequant {
		if s := a.int("saturate", 1); s != 0 && s != 1 {
			a.fail("attribute \"saturate\": want 0 or 1, got %d", s)
		} else {
			o.noSat = s == 0 // it applies to float8 outputs only
		}
	}
	if opset >= 21 {
		b := a.int("block_size", 0)
		if b < 0 || b > math.MaxInt32 {
			a.fail("attribute \"block_size\": want a non-negative value, got %d", b)
		}
		o.block = int(b)
	}
	if a.err != nil {
		return nil, a.err
	}
	switch {
	case !dequant && opset >= 21:
		if dt := a.int("output_dtype", 0); dt != 0 {
			o.outType = onnx.DTypeOf(int32(dt))
			if !isQuantType(o.outType) {
				return nil, unsupportedf(n, "attribute \"output_dtype\": %s", onnx.ElemTypeName(int32(dt)))
			}
		}
		if opset >= 23 {
			if p := a.int("precision", 0); p != 0 && onnx.DTypeOf(int32(p)) != tensor.Float32 {
				return nil, unsupportedf(n, "attribute \"precision\": %s", onnx.ElemTypeName(int32(p)))
			}
		}
	case dequant && opset >= 23:
		if dt := a.int("output_dtype", 0); dt != 0 && onnx.DTypeOf(int32(dt)) != tensor.Float32 {
			return nil, unsupportedf(n, "attribute \"output_dtype\": %s", onnx.ElemTypeName(int32(dt)))
		}
	}
	if a.err != nil {
		return nil, a.err
	}
	return o, nil
}

// qlayout maps an element of x to its scale: x is seen as outer x d x
// inner around the quantization axis, and the scale index of element
// (o, i, j) is 0 (per tensor), i (per axis) or (o*sd + i/block)*inner + j
// (blocked, sd = ceil(d/block)).
type qlayout struct {
	perTensor           bool
	outer, d, inner, sd int
	block               int
}

// layout checks the scale and zero point against x and returns the mapping.
func (o *quantLinearOp) layout(x, scale, zp *tensor.Tensor) (qlayout, error) {
	if zp != nil && !slices.Equal(zp.Shape, scale.Shape) && (zp.Len() != 1 || scale.Len() != 1 || zp.Rank() > 1 || scale.Rank() > 1) {
		return qlayout{}, fmt.Errorf("zero point %v and scale %v differ in shape", zp, scale)
	}
	if o.block == 0 && scale.Len() == 1 && scale.Rank() <= 1 {
		return qlayout{perTensor: true}, nil
	}
	if o.opset < 13 {
		return qlayout{}, fmt.Errorf("scale is %v, want a scalar (per-axis scales need opset 13)", scale)
	}
	if x.Rank() == 0 {
		return qlayout{}, fmt.Errorf("scale is %v, want a scalar for a scalar input", scale)
	}
	axis := o.axis
	if axis < -int64(x.Rank()) || axis >= int64(x.Rank()) {
		return qlayout{}, fmt.Errorf("attribute \"axis\": %d out of range for input %v", o.axis, x)
	}
	if axis < 0 {
		axis += int64(x.Rank())
	}
	ax := int(axis)
	l := qlayout{outer: prod(x.Shape[:ax]), d: x.Shape[ax], inner: prod(x.Shape[ax+1:]), block: o.block}
	if o.block == 0 {
		if scale.Rank() != 1 || scale.Shape[0] != l.d {
			return l, fmt.Errorf("scale is %v, want a scalar or %d values for axis %d of %v", scale, l.d, ax, x)
		}
		return l, nil
	}
	l.sd = (l.d + o.block - 1) / o.block
	ok := scale.Rank() == x.Rank()
	for i := 0; ok && i < x.Rank(); i++ {
		if i == ax {
			ok = scale.Shape[i] == l.sd
		} else {
			ok = scale.Shape[i] == x.Shape[i]
		}
	}
	if !ok {
		return l, fmt.Errorf("scale is %v, want the shape of %v with axis %d of size ceil(%d/block_size %d) = %d", scale, x, ax, l.d, o.block, l.sd)
	}
	return l, nil
}

// each calls fn(element index, scale index) for every element of x.
func (l *qlayout) each(n int, fn func(i, s int)) {
	if l.perTensor {
		for i := 0; i < n; i++ {
			fn(i, 0)
		}
		return
	}
	i := 0
	for o := 0; o < l.outer; o++ {
		for a := 0; a < l.d; a++ {
			s := a
			if l.block > 0 {
				s = (o*l.sd + a/l.block) * l.inner
			}
			for j := 0; j < l.inner; j++ {
				if l.block > 0 {
					fn(i, s+j)
				} else {
					fn(i, s)
				}
				i++
			}
		}
	}
}

// runs calls fn(lo, hi, s) for each run [lo, hi) of the n elements of x
// that share scale s (l.block must be 0): all of x per tensor, else inner
// elements at a time.
func (l *qlayout) runs(n int, fn func(lo, hi, s int)) {
	if l.perTensor {
		fn(0, n, 0)
		return
	}
	i := 0
	for range l.outer {
		for a := range l.d {
			fn(i, i+l.inner, a)
			i += l.inner
		}
	}
}

func (o *quantLinearOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, scale, zp := in[0], in[1], input(in, 2)
	if scale.DType != tensor.Float32 {
		return fmt.Errorf("scale: want float32, got %v", scale.DType)
	}
	l, err := o.layout(x, scale, zp)
	if err != nil {
		return err
	}
	y := out[0]
	if o.dequant {
		if !isQuantType(x.DType) && x.DType != tensor.Int32 {
			return fmt.Errorf("x: want uint8, int8, uint16, int16 or int32, got %v", x.DType)
		}
		if zp != nil && zp.DType != x.DType {
			return fmt.Errorf("zero point is %v, want the type of x (%v)", zp.DType, x.DType)
		}
		resize(y, tensor.Float32, x.Shape...)
		if x.DType == tensor.Uint8 && l.block == 0 { // the common cases, a slice per scale
			l.runs(x.Len(), func(lo, hi, s int) {
				var z float32
				if zp != nil {
					z = float32(zp.U8[s])
				}
				kernel.DequantizeU8(y.F32[lo:hi], x.U8[lo:hi], z, scale.F32[s])
			})
			return nil
		}
		if x.DType.IsFloat() { // float8, float4: their values, less the zero point's
			l.each(x.Len(), func(i, s int) {
				v := x.Float64At(i)
				if zp != nil {
					v -= zp.Float64At(s)
				}
				y.F32[i] = float32(v) * scale.F32[s]
			})
			return nil
		}
		l.each(x.Len(), func(i, s int) {
			v := intAt(x, i)
			if zp != nil {
				v -= intAt(zp, s)
			}
			y.F32[i] = float32(v) * scale.F32[s]
		})
		return nil
	}
	if x.DType != tensor.Float32 && x.DType != tensor.Int32 {
		return fmt.Errorf("x: want float32 or int32, got %v", x.DType)
	}
	dt := tensor.Uint8
	if zp != nil {
		dt = zp.DType
		if !isQuantType(dt) {
			return fmt.Errorf("zero point: want uint8, int8, uint16 or int16, got %v", dt)
		}
		if o.outType != tensor.Invalid && o.outType != dt {
			return fmt.Errorf("zero point is %v, output_dtype %v", dt, o.outType)
		}
	} else if o.outType != tensor.Invalid {
		dt = o.outType
	}
	resize(y, dt, x.Shape...)
	if dt.IsFloat() { // float8, float4: rounded to nearest even, saturating unless asked not to
		l.each(x.Len(), func(i, s int) {
			v := x.Float64At(i) / float64(scale.F32[s])
			if zp != nil {
				v += zp.Float64At(s)
			}
			data[uint8](y)[i] = tensor.Float8FromFloat64(dt, v, !o.noSat || dt == tensor.Float4E2M1)
		})
		return nil
	}
	lo, hi := qrange(dt)
	if x.DType == tensor.Float32 && (dt == tensor.Uint8 || dt == tensor.Int8) && l.block == 0 { // the common cases
		l.runs(x.Len(), func(i, j, s int) {
			var z int32
			if zp != nil {
				z = intAt(zp, s)
			}
			if dt == tensor.Uint8 {
				kernel.QuantizeSlice(y.U8[i:j], x.F32[i:j], scale.F32[s], z, lo, hi)
			} else {
				kernel.QuantizeSlice(y.I8[i:j], x.F32[i:j], scale.F32[s], z, lo, hi)
			}
		})
		return nil
	}
	l.each(x.Len(), func(i, s int) {
		var v float32
		if x.DType == tensor.Float32 {
			v = x.F32[i]
		} else {
			v = float32(x.I32[i])
		}
		var z int32
		if zp != nil {
			z = intAt(zp, s)
		}
		q := kernel.QuantizeValue(v/scale.F32[s], z, lo, hi)
		switch dt {
		case tensor.Uint8:
			y.U8[i] = uint8(q)
		case tensor.Int8:
			y.I8[i] = int8(q)
		default:
			y.SetInt64(i, int64(q))
		}
	})
	return nil
}

// isQuantType reports whether dt is a quantized type QuantizeLinear makes.
func isQuantType(dt tensor.DType) bool {
	switch dt {
	case tensor.Uint8, tensor.Int8, tensor.Uint16, tensor.Int16, tensor.Uint4, tensor.Int4, tensor.Uint2, tensor.Int2,
		tensor.Float8E4M3FN, tensor.Float8E4M3FNUZ, tensor.Float8E5M2, tensor.Float8E5M2FNUZ, tensor.Float4E2M1:
		return true
	}
	return false
}

// qrange is the range of a quantized type.
func qrange(dt tensor.DType) (lo, hi int32) {
	switch dt {
	case tensor.Int8:
		return math.MinInt8, math.MaxInt8
	case tensor.Int16:
		return math.MinInt16, math.MaxInt16
	case tensor.Uint16:
		return 0, math.MaxUint16
	case tensor.Int4:
		return -8, 7
	case tensor.Uint4:
		return 0, 15
	case tensor.Int2:
		return -2, 1
	case tensor.Uint2:
		return 0, 3
	}
	return 0, math.MaxUint8
}

// intAt returns element i of an int8, uint8, int16, uint16 or int32 tensor.
func intAt(t *tensor.Tensor, i int) int32 {
	switch t.DType {
	case tensor.Uint8:
		return int32(t.U8[i])
	case tensor.Int8:
		return int32(t.I8[i])
	case tensor.Int32:
		return t.I32[i]
	}
	return int32(t.Int64At(i))
}

// is8bit reports whether t is int8 or uint8.
func is8bit(t *tensor.Tensor) bool { return t.DType == tensor.Uint8 || t.DType == tensor.Int8 }

// dynQuantOp is DynamicQuantizeLinear (opset 11): uint8 quantization of a
// float32 tensor with a scale and zero point from its range (widened to
// include 0).
type dynQuantOp struct{}

func buildDynamicQuantizeLinear(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 3); err != nil {
		return nil, err
	}
	return dynQuantOp{}, nil
}

func (dynQuantOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if x.DType != tensor.Float32 {
		return fmt.Errorf("x: want float32, got %v", x.DType)
	}
	var lo, hi float32
	for _, v := range x.F32 {
		lo, hi = min(lo, v), max(hi, v)
	}
	scale := (hi - lo) / 255
	if scale == 0 { // all zeros: the formula's 0/0; scale 1 as onnxruntime
		scale = 1
	}
	zp := kernel.QuantizeValue(-lo/scale, 0, 0, 255)
	y := out[0]
	resize(y, tensor.Uint8, x.Shape...)
	kernel.QuantizeSlice(y.U8, x.F32, scale, zp, 0, 255)
	if s := output(out, 1); s != nil {
		resize(s, tensor.Float32)
		s.F32[0] = scale
	}
	if z := output(out, 2); z != nil {
		resize(z, tensor.Uint8)
		z.U8[0] = uint8(zp)
	}
	return nil
}

// offsets returns the zero points (or scales) of a per-tensor or per-row
// quantized operand as a function of the row index: a tensor of one
// element applies to all rows, one of rows elements to each row.
func perRow(t *tensor.Tensor, rows int, what string) (func(r int) int, error) {
	switch t.Len() {
	case 1:
		return func(int) int { return 0 }, nil
	case rows:
		return func(r int) int { return r }, nil
	}
	return nil, fmt.Errorf("%s is %v, want 1 or %d values", what, t, rows)
}

// shift8 returns the 8-bit tensor x minus its zero point as int16 in buf
// (grown as needed), zp indexed by element i as zpIndex(i) (nil zp: 0).
func shift8(buf *[]int16, x, zp *tensor.Tensor, zpIndex func(i int) int) []int16 {
	d := growI16(buf, x.Len())
	if zp == nil || zp.Len() == 1 {
		shiftRange(d, x, 0, zeroPoint(zp))
		return d
	}
	for i := range d {
		d[i] = int16(intAt(x, i) - intAt(zp, zpIndex(i)))
	}
	return d
}

// shiftRange sets d to the 8-bit values of x from element lo less the
// zero point z.
func shiftRange(d []int16, x *tensor.Tensor, lo int, z int16) {
	if x.DType == tensor.Uint8 {
		shiftTyped(d, x.U8[lo:lo+len(d)], z)
		return
	}
	shiftTyped(d, x.I8[lo:lo+len(d)], z)
}

// zeroPoint returns the single zero point zp holds (nil: 0).
func zeroPoint(zp *tensor.Tensor) int16 {
	if zp == nil {
		return 0
	}
	return int16(intAt(zp, 0))
}

// shiftTyped sets d[i] to x[i] - z.
func shiftTyped[T uint8 | int8](d []int16, x []T, z int16) {
	d = d[:len(x)]
	for i, v := range x {
		d[i] = int16(v) - z
	}
}

// growI16 returns *buf resized to n, reallocated when too small.
func growI16(buf *[]int16, n int) []int16 {
	if cap(*buf) < n {
		*buf = make([]int16, n)
	}
	return (*buf)[:n]
}

// constOperand is a constant operand (weights) and its zero point, shifted
// at load.
type constOperand struct {
	x, zp *tensor.Tensor
	d     []int16 // x less its zero point
	pa    []int32 // a convolution's weights: d packed by kernel.PackInt16A, group after group
}

// ready reports whether c was made from x and zp.
func (c *constOperand) ready(x, zp *tensor.Tensor) bool {
	return c != nil && c.x == x && c.zp == zp
}

// prepare returns consts[xi] shifted by consts[zpi] when it is an 8-bit
// constant and its zero point absent or a constant of its type whose
// indexing zpIndex gives (nil: none fits), else nil.
func prepare(consts []*tensor.Tensor, xi, zpi int, zpIndex func(x *tensor.Tensor) func(int) int) *constOperand {
	x, zp := constAt(consts, xi), constAt(consts, zpi)
	if x == nil || !is8bit(x) { // (a zp that is not constant fails get)
		return nil
	}
	if zp != nil && zp.DType != x.DType {
		return nil
	}
	idx := zpIndex(x)
	if idx == nil {
		return nil
	}
	c := &constOperand{x: x, zp: zp}
	c.d = shift8(&c.d, x, zp, idx)
	return c
}

// qmatMulOp is MatMulInteger (opset 10; int32 output) and QLinearMatMul
// (opsets 10, 21; requantized 8-bit output, float32 scales): numpy matmul
// of zero-point-shifted 8-bit operands with int32 accumulation. Zero points
// and scales are per tensor, per row of A or per column of B.
type qmatMulOp struct {
	qlinear bool
	gemm    bool          // a fused QDQ Gemm or MatMul: 2-D A and B, int32 bias in[8] (optional)
	b       *constOperand // B prepared at load, or nil
}

func buildMatMulInteger(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 4, 1); err != nil {
		return nil, err
	}
	return &qmatMulOp{}, nil
}

func buildQLinearMatMul(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 8, 8, 1); err != nil {
		return nil, err
	}
	return &qmatMulOp{qlinear: true}, nil
}

// qmatState is a qmatMulOp's working memory, kept in scratch.task.
type qmatState struct {
	a, b  []int16 // A (per-row zero points only) and B less their zero points
	pa    []int32 // A packed, batch after batch
	acc   []int32
	mults [][]float32 // by worker: a row's requantization multipliers
	// One product's arguments, cleared after the run.
	o             *qmatMulOp
	y, aS, bS, yS *tensor.Tensor
	aIdx, bIdx    func(int) int
	bias, c       []int32 // c: the product, acc or y's int32 output
	pai           []int32
	bbi           []int16
	yi, ai, bi    int
	m, n, k       int
	zp            int16
	lo, hi        int32
}

// run computes panels [lo, hi) of A's rows (kernel.Int16PanelRows each)
// of one product and, for QLinearMatMul, requantizes them.
func (t *qmatState) run(lo, hi, worker int) error {
	m, n, k := t.m, t.n, t.k
	r0, r1 := lo*kernel.Int16PanelRows, min(hi*kernel.Int16PanelRows, m)
	kernel.GemmInt16Packed(r1-r0, n, k, t.pai[kernel.PackedInt16Len(r0, k):], t.bbi, n, t.c[r0*n:], n)
	if !t.o.qlinear {
		return nil
	}
	mults := growF32(t.mults[worker], n)
	t.mults[worker] = mults
	for r := r0; r < r1; r++ {
		if r == r0 || t.aS.Len() > 1 {
			sa := t.aS.F32[t.aIdx(t.ai*m+r)]
			for c := range mults {
				mults[c] = sa * t.bS.F32[t.bIdx(t.bi*n+c)] / t.yS.F32[0]
			}
		}
		row, off := t.c[r*n:(r+1)*n], t.yi*m*n+r*n
		if t.y.DType == tensor.Uint8 {
			requantCols(t.y.U8[off:off+n], row, t.bias, mults, t.zp, t.lo, t.hi)
		} else {
			requantCols(t.y.I8[off:off+n], row, t.bias, mults, t.zp, t.lo, t.hi)
		}
	}
	return nil
}

func (o *qmatMulOp) run(s *scratch, in, out []*tensor.Tensor) error {
	var a, b, aZP, bZP, aS, bS, yS, yZP *tensor.Tensor
	if o.qlinear {
		a, aS, aZP, b, bS, bZP, yS, yZP = in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7]
		for _, t := range []*tensor.Tensor{aS, bS, yS} {
			if t.DType != tensor.Float32 {
				return fmt.Errorf("scales: want float32, got %v", t.DType)
			}
		}
		if !is8bit(yZP) || yZP.Len() != 1 || yS.Len() != 1 {
			return fmt.Errorf("y_scale %v and y_zero_point %v: want one float32 and one int8 or uint8 value", yS, yZP)
		}
	} else {
		a, b, aZP, bZP = in[0], in[1], input(in, 2), input(in, 3)
	}
	if !is8bit(a) || !is8bit(b) || (aZP != nil && aZP.DType != a.DType) || (bZP != nil && bZP.DType != b.DType) {
		return fmt.Errorf("want int8 or uint8 A and B with zero points of their types, got A %v, B %v", a, b)
	}
	if a.Rank() < 1 || b.Rank() < 1 || (o.gemm && (a.Rank() != 2 || b.Rank() != 2)) {
		return fmt.Errorf("want A and B of rank 1 or more (2 for Gemm), got A %v, B %v", a, b)
	}
	bias := input(in, 8)
	if bias != nil && (bias.DType != tensor.Int32 || bias.Len() != b.Shape[b.Rank()-1]) {
		return fmt.Errorf("bias is %v, want int32[%d]", bias, b.Shape[b.Rank()-1])
	}
	m, k := 1, a.Shape[a.Rank()-1]
	if a.Rank() > 1 {
		m = a.Shape[a.Rank()-2]
	}
	kb, n := b.Shape[0], 1
	if b.Rank() > 1 {
		kb, n = b.Shape[b.Rank()-2], b.Shape[b.Rank()-1]
	}
	if k != kb {
		return fmt.Errorf("A %v and B %v do not multiply", a, b)
	}
	aBatch, bBatch := a.Shape[:max(0, a.Rank()-2)], b.Shape[:max(0, b.Rank()-2)]
	batchShape, err := broadcastShape(aBatch, bBatch)
	if err != nil {
		return fmt.Errorf("batch axes of A %v and B %v do not broadcast", a, b)
	}
	yshape := append([]int(nil), batchShape...)
	if a.Rank() > 1 {
		yshape = append(yshape, m)
	}
	if b.Rank() > 1 {
		yshape = append(yshape, n)
	}
	if err := checkAlloc(yshape...); err != nil {
		return err
	}
	// Per-row A and per-column B parameters: one per row of A (all
	// batches), one per column of B (all batches).
	aRows, bCols := a.Len()/max(k, 1), b.Len()/max(k, 1)
	var aIdx, bIdx func(int) int
	for _, p := range []struct {
		t    *tensor.Tensor
		rows int
		dst  *func(int) int
		what string
	}{{aZP, aRows, &aIdx, "a_zero_point"}, {aS, aRows, &aIdx, "a_scale"}, {bZP, bCols, &bIdx, "b_zero_point"}, {bS, bCols, &bIdx, "b_scale"}} {
		if p.t == nil {
			continue
		}
		f, err := perRow(p.t, p.rows, p.what)
		if err != nil {
			return err
		}
		if *p.dst == nil || p.t.Len() > 1 {
			*p.dst = f
		}
	}
	if o.qlinear && (aZP.Len() != aS.Len() || bZP.Len() != bS.Len()) {
		return fmt.Errorf("scales and zero points differ in size: a %v and %v, b %v and %v", aS, aZP, bS, bZP)
	}
	st := taskOf[qmatState](s)
	var b16 []int16
	if o.b.ready(b, bZP) {
		b16 = o.b.d
	} else {
		b16 = shift8(&st.b, b, bZP, func(i int) int { return bIdx(i/(k*n)*n + i%n) })
	}
	y := out[0]
	dt := tensor.Int32
	if o.qlinear {
		dt = yZP.DType
	}
	resize(y, dt, yshape...)
	batch := prod(batchShape)
	if batch == 0 || m == 0 || n == 0 {
		return nil
	}
	if cap(st.acc) < m*n {
		st.acc = make([]int32, m*n)
	}
	acc := st.acc[:m*n]
	var lo, hi int32
	if o.qlinear {
		lo, hi = qrange(dt)
	}
	// Each batch of A packed once, however many batches of B it meets.
	psize := kernel.PackedInt16Len(m, k)
	aBatches := max(1, a.Len()/max(m*k, 1))
	pa := growI32(&st.pa, aBatches*psize)
	packA(pa, &st.a, a, aZP, aIdx, aBatches, m, k)
	var biasI32 []int32
	if bias != nil {
		biasI32 = bias.I32
	}
	panels := ceilDiv(m, kernel.Int16PanelRows)
	workers := batchWorkers(panels, m*n*k)
	for len(st.mults) < workers {
		st.mults = append(st.mults, nil)
	}
	st.o, st.y, st.aS, st.bS, st.yS, st.aIdx, st.bIdx, st.bias = o, y, aS, bS, yS, aIdx, bIdx, biasI32
	st.m, st.n, st.k, st.lo, st.hi = m, n, k, lo, hi
	if o.qlinear {
		st.zp = zeroPoint(yZP)
	}
	bcast := bcastIndexer(batchShape, aBatch, bBatch)
	for yi := 0; yi < batch && err == nil; yi++ {
		st.yi = yi
		st.ai, st.bi = bcast(yi)
		st.pai, st.bbi = pa[st.ai*psize:(st.ai+1)*psize], b16[st.bi*k*n:(st.bi+1)*k*n]
		st.c = acc
		if !o.qlinear {
			st.c = y.I32[yi*m*n : (yi+1)*m*n]
		}
		err = parallelFor(s, panels, workers, st)
	}
	st.o, st.y, st.aS, st.bS, st.yS, st.aIdx, st.bIdx, st.bias, st.c, st.pai, st.bbi = nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil
	return err
}

// packA packs the aBatches m x k batches of A less their zero points
// (indexed by row as aIdx) into pa, batch after batch: from the 8-bit
// values for a single zero point, else through shifted int16 in buf.
func packA(pa []int32, buf *[]int16, a, aZP *tensor.Tensor, aIdx func(int) int, aBatches, m, k int) {
	psize := kernel.PackedInt16Len(m, k)
	if aZP == nil || aZP.Len() == 1 {
		z := zeroPoint(aZP)
		for ai := range aBatches {
			dst := pa[ai*psize : (ai+1)*psize]
			if a.DType == tensor.Uint8 {
				kernel.Pack8A(dst, m, k, a.U8[ai*m*k:], k, z)
			} else {
				kernel.Pack8A(dst, m, k, a.I8[ai*m*k:], k, z)
			}
		}
		return
	}
	a16 := shift8(buf, a, aZP, func(i int) int { return aIdx(i / max(k, 1)) })
	for ai := range aBatches {
		kernel.PackInt16A(pa[ai*psize:(ai+1)*psize], m, k, a16[ai*m*k:], k)
	}
}

// requantCols sets dst[c] to acc[c] plus bias[c] (nil: none) times
// mults[c], rounded half to even, plus zp, saturated to [lo, hi].
func requantCols[T uint8 | int8](dst []T, acc, bias []int32, mults []float32, zp int16, lo, hi int32) {
	dst, mults = dst[:len(acc)], mults[:len(acc)]
	z := int32(zp)
	if bias == nil {
		for c, v := range acc {
			dst[c] = T(kernel.QuantizeValue(float32(v)*mults[c], z, lo, hi))
		}
		return
	}
	bias = bias[:len(acc)]
	for c, v := range acc {
		dst[c] = T(kernel.QuantizeValue(float32(v+bias[c])*mults[c], z, lo, hi))
	}
}

// growI32 returns *buf resized to n, reallocated when too small.
func growI32(buf *[]int32, n int) []int32 {
	if cap(*buf) < n {
		*buf = make([]int32, n)
	}
	return (*buf)[:n]
}

// bcastIndexer returns a function from the index of a batch of the
// broadcast shape to the indices of the A and B batches it reads.
func bcastIndexer(shape, aBatch, bBatch []int) func(int) (int, int) {
	rank := len(shape)
	return func(yi int) (ai, bi int) {
		am, bm := 1, 1
		for i := rank - 1; i >= 0; i-- {
			p := yi % shape[i]
			yi /= shape[i]
			da, db := dimFromEnd(aBatch, rank-1-i), dimFromEnd(bBatch, rank-1-i)
			ai += min(p, da-1) * am
			bi += min(p, db-1) * bm
			am *= da
			bm *= db
		}
		return ai, bi
	}
}

// qconvOp is ConvInteger (opset 10; int32 output) and QLinearConv (opset
// 10; requantized 8-bit output, optional int32 bias): Conv's attributes and
// geometry, on zero-point-shifted 8-bit operands with int32 accumulation.
// The input's zero point is per tensor; the weights' per tensor or per
// output channel.
type qconvOp struct {
	w       window
	group   int
	qlinear bool
	wc      *constOperand // w prepared at load, or nil
}

func buildConvInteger(n *onnx.Node, opset int64) (op, error) { return buildQConv(n, false) }

func buildQLinearConv(n *onnx.Node, opset int64) (op, error) { return buildQConv(n, true) }

func buildQConv(n *onnx.Node, qlinear bool) (op, error) {
	minIn, maxIn := 2, 4
	if qlinear {
		minIn, maxIn = 8, 9
	}
	if err := checkArity(n, minIn, maxIn, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &qconvOp{w: parseWindow(&a, false, true, false), qlinear: qlinear}
	g := a.int("group", 1)
	if g < 1 || g > 1<<24 {
		a.fail("attribute \"group\": want a positive value, got %d", g)
	}
	o.group = int(g)
	if a.err != nil {
		return nil, a.err
	}
	return o, nil
}

// qconvState is a qconvOp's working memory, kept in scratch.task.
type qconvState struct {
	w    []int16     // shifted weights, when not prepared at load
	pw   []int32     // and packed
	bufs []qconvBufs // by worker
	// The run's arguments, cleared after it.
	o                     *qconvOp
	g                     geom
	x, y, xS, wS, yS, b   *tensor.Tensor
	wIdx                  func(int) int
	pwr                   []int32
	lo, hi                int32
	xz, yz                int16
	n, c, m, cg, mg, K, P int
	bs                    int // samples side by side in the products
	// The layout of the products: oh runs of ow outputs, step apart (the
	// wide im2col layout of kernel.ConvGeom.Wide, or one run of P).
	sg           kernel.ConvGeom
	wide         bool
	offs         []int32 // the wide layout's row offsets
	oh, ow, step int
}

// layout sets the product layout: for outputs narrower than a few tiles
// of the kernel (LeNet5's conv3 has one position), several samples side
// by side, as many as keep the workers busy; else wide for a stride-1
// undilated 1-D or 2-D window where kernel.ConvGeom.Wide takes it (the
// im2col matrix read in place from the padded input at offsets, rather
// than one copy per output row), else plain.
func (t *qconvState) layout(workers int) {
	const minCols = 64
	t.wide, t.oh, t.ow, t.step = false, 1, t.P, t.P
	t.bs = max(1, min(ceilDiv(minCols, max(t.P, 1)), ceilDiv(t.n, workers)))
	if t.bs > 1 {
		return
	}
	sg, ok := t.g.conv2D(t.cg)
	if !ok || t.g.isIdentity() {
		return
	}
	if _, ok := sg.Wide(); ok && sg.WideInputSize() <= 1<<30 {
		t.sg, t.wide = sg, true
		t.oh, t.ow, t.step = sg.OutH(), sg.OutW(), sg.PaddedW()
		t.offs = slices.Grow(t.offs[:0], t.K)[:t.K]
		sg.WideOffsets(t.offs)
	}
}

// cols returns the columns of one sample's products: P, or the wide
// layout's.
func (t *qconvState) cols() int { return (t.oh-1)*t.step + t.ow }

// qconvBufs is one worker's working memory.
type qconvBufs struct {
	x, col []int16
	acc    []int32
	u8     []uint8 // a requantized row in the product layout
	i8     []int8
}

func (o *qconvOp) run(s *scratch, in, out []*tensor.Tensor) error {
	var x, w, xZP, wZP, xS, wS, yS, yZP, bias *tensor.Tensor
	if o.qlinear {
		x, xS, xZP, w, wS, wZP, yS, yZP, bias = in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], input(in, 8)
		for _, t := range []*tensor.Tensor{xS, wS, yS} {
			if t.DType != tensor.Float32 {
				return fmt.Errorf("scales: want float32, got %v", t.DType)
			}
		}
		if xS.Len() != 1 || yS.Len() != 1 || !is8bit(yZP) || yZP.Len() != 1 || wS.Len() != wZP.Len() {
			return fmt.Errorf("want scalar x_scale, y_scale, y_zero_point and w_scale, w_zero_point of one size, got %v, %v, %v, %v, %v", xS, yS, yZP, wS, wZP)
		}
		if bias != nil && (bias.DType != tensor.Int32 || bias.Rank() != 1) {
			return fmt.Errorf("B is %v, want int32[M]", bias)
		}
	} else {
		x, w, xZP, wZP = in[0], in[1], input(in, 2), input(in, 3)
	}
	if !is8bit(x) || !is8bit(w) || (xZP != nil && xZP.DType != x.DType) || (wZP != nil && wZP.DType != w.DType) {
		return fmt.Errorf("want int8 or uint8 x and w with zero points of their types, got x %v, w %v", x, w)
	}
	if xZP != nil && xZP.Len() != 1 {
		return fmt.Errorf("x_zero_point is %v, want one value", xZP)
	}
	n, c, sp, err := spatialOf(x, "x")
	if err != nil {
		return err
	}
	if w.Rank() != x.Rank() {
		return fmt.Errorf("w is %v, want rank %d to match x %v", w, x.Rank(), x)
	}
	m, cg := w.Shape[0], w.Shape[1]
	if cg*o.group != c || m%o.group != 0 {
		return fmt.Errorf("x %v and w %v do not match group %d", x, w, o.group)
	}
	kshape := w.Shape[2:]
	if o.w.kernel != nil {
		for i, k := range o.w.kernel {
			if i >= len(kshape) || kshape[i] != k {
				return fmt.Errorf("kernel_shape %v does not match w %v", o.w.kernel, w)
			}
		}
	}
	if bias != nil && bias.Shape[0] != m {
		return fmt.Errorf("B is %v, want int32[%d]", bias, m)
	}
	wIdx := func(int) int { return 0 }
	for _, t := range []*tensor.Tensor{wZP, wS} {
		if t != nil && t.Len() != 1 {
			if t.Len() != m {
				return fmt.Errorf("weight scale or zero point %v: want 1 or %d values", t, m)
			}
			wIdx = func(ch int) int { return ch }
		}
	}
	g, err := o.w.geometry(sp, kshape)
	if err != nil {
		return err
	}
	yshape := [maxSpatial + 2]int{n, m}
	copy(yshape[2:], g.out[:g.n])
	K, P := cg*g.kSize(), g.outSize()
	mg := m / o.group
	if err := checkAlloc(yshape[:g.n+2]...); err != nil {
		return err
	}
	if err := checkAlloc(K, P); err != nil {
		return err
	}
	st := taskOf[qconvState](s)
	pw := o.wc.packed()
	if !o.wc.ready(w, wZP) || pw == nil {
		wk := w.Len() / max(m, 1) // weights per output channel
		w16 := shift8(&st.w, w, wZP, func(i int) int { return wIdx(i / wk) })
		st.pw = packGroups(st.pw[:0], w16, o.group, mg, K)
		pw = st.pw
	}
	dt := tensor.Int32
	if o.qlinear {
		dt = yZP.DType
	}
	y := out[0]
	resize(y, dt, yshape[:g.n+2]...)
	if y.Len() == 0 {
		return nil
	}
	workers := batchWorkers(n, mg*K*P*o.group)
	if len(st.bufs) < workers {
		st.bufs = make([]qconvBufs, workers)
	}
	st.o, st.g, st.x, st.y, st.xS, st.wS, st.yS, st.b = o, g, x, y, xS, wS, yS, bias
	st.wIdx, st.pwr = wIdx, pw
	st.n, st.c, st.m, st.cg, st.mg, st.K, st.P = n, c, m, cg, mg, K, P
	st.layout(workers)
	st.xz, st.lo, st.hi, st.yz = zeroPoint(xZP), 0, 0, 0
	if o.qlinear {
		st.lo, st.hi = qrange(dt)
		st.yz = zeroPoint(yZP)
	}
	err = parallelFor(s, ceilDiv(n, st.bs), workers, st)
	st.o, st.x, st.y, st.xS, st.wS, st.yS, st.b, st.wIdx, st.pwr = nil, nil, nil, nil, nil, nil, nil, nil, nil
	return err
}

// packed returns the prepared weights packed for kernel.GemmInt16Packed
// (nil c: nil).
func (c *constOperand) packed() []int32 {
	if c == nil {
		return nil
	}
	return c.pa
}

// packGroups appends to dst the weights w (group after group of mg rows of
// K values) packed by kernel.PackInt16A, group after group.
func packGroups(dst []int32, w []int16, group, mg, K int) []int32 {
	size := kernel.PackedInt16Len(mg, K)
	dst = slices.Grow(dst[:0], group*size)[:group*size]
	for gi := range group {
		kernel.PackInt16A(dst[gi*size:(gi+1)*size], mg, K, w[gi*mg*K:], K)
	}
	return dst
}

// run computes samples [lo, hi): the input minus its zero point in int16
// for im2col, whose padding is then the zero point; per group the integer
// product and, for QLinearConv, the requantization.
func (t *qconvState) run(lo, hi, worker int) error {
	b := &t.bufs[worker]
	inSize, sampleIn := t.g.inSize(), t.c*t.g.inSize()
	x := growI16(&b.x, t.bs*sampleIn)
	col := x
	switch {
	case t.wide: // the padded input
		col = growI16(&b.col, t.sg.WideInputSize())
	case !t.g.isIdentity() || t.o.group > 1 || t.bs > 1:
		col = growI16(&b.col, t.K*t.bs*t.cols()+kernel.GemmInt16Slack) // the slack: last columns read in place
	}
	acc := growI32(&b.acc, t.mg*t.bs*t.cols())
	psize := kernel.PackedInt16Len(t.mg, t.K)
	for blk := lo; blk < hi; blk++ {
		s0 := blk * t.bs
		ns := min(t.bs, t.n-s0)
		ld := ns * t.cols()
		shiftRange(x[:ns*sampleIn], t.x, s0*sampleIn, t.xz)
		for gi := 0; gi < t.o.group; gi++ {
			switch {
			case ns > 1 && t.g.coversInput(): // each sample's column is its input
				transposeInto(col, ld, x[gi*t.cg*inSize:], sampleIn, ns, t.K)
			case t.wide:
				t.sg.WideInputInt16(x[gi*t.cg*inSize:(gi+1)*t.cg*inSize], col)
			case &col[0] != &x[0]:
				for si := range ns {
					xg := x[si*sampleIn+gi*t.cg*inSize : si*sampleIn+(gi+1)*t.cg*inSize]
					im2colStride(&t.g, xg, t.cg, col[si*t.P:], ld)
				}
			}
			pa := t.pwr[gi*psize : (gi+1)*psize]
			if !t.o.qlinear && ns == 1 && !t.wide { // straight into y
				yoff := (s0*t.m + gi*t.mg) * t.P
				kernel.GemmInt16Packed(t.mg, ld, t.K, pa, col, ld, t.y.I32[yoff:yoff+t.mg*t.P], ld)
				continue
			}
			if t.wide {
				kernel.GemmInt16PackedOffsets(t.mg, ld, t.K, pa, col, t.offs, acc, ld)
			} else {
				kernel.GemmInt16Packed(t.mg, ld, t.K, pa, col, ld, acc, ld)
			}
			t.store(b, acc, ld, gi, s0, ns)
		}
	}
	return nil
}

// store writes group gi's int32 sums for samples s0 to s0+ns (acc, rows
// ld apart, the samples' products side by side in the product layout) to
// y: as they are for ConvInteger, requantized (plus bias) for QLinearConv.
func (t *qconvState) store(b *qconvBufs, acc []int32, ld, gi, s0, ns int) {
	// The runs of outputs in a row of acc: a sample's output rows in the
	// wide layout (one sample), else each sample's outputs.
	runs, run, step, dstStep := t.oh, t.ow, t.step, t.ow
	if ns > 1 {
		runs, run, step, dstStep = ns, t.P, t.P, t.m*t.P
	}
	for r := 0; r < t.mg; r++ {
		ch := gi*t.mg + r
		row, out := acc[r*ld:r*ld+ld], (s0*t.m+ch)*t.P
		if !t.o.qlinear {
			for i := range runs {
				copy(t.y.I32[out+i*dstStep:out+i*dstStep+run], row[i*step:])
			}
			continue
		}
		mult := t.xS.F32[0] * t.wS.F32[t.wIdx(ch)] / t.yS.F32[0]
		var bias int32
		if t.b != nil {
			bias = t.b.I32[ch]
		}
		q := quantParams{bias, mult, int32(t.yz), t.lo, t.hi}
		if t.y.DType == tensor.Uint8 {
			requantRuns(t.y.U8[out:], row, &b.u8, q, runs, run, step, dstStep)
		} else {
			requantRuns(t.y.I8[out:], row, &b.i8, q, runs, run, step, dstStep)
		}
	}
}

// transposeInto sets col[p*ld+s] to x[s*xStride+p] for p < k, s < ns: the
// im2col matrix of samples side by side when each one's column is its
// input.
func transposeInto(col []int16, ld int, x []int16, xStride, ns, k int) {
	for s := range ns {
		xs := x[s*xStride : s*xStride+k]
		for p, v := range xs {
			col[p*ld+s] = v
		}
	}
}

// quantParams are the arguments of kernel.Requantize but its slices.
type quantParams struct {
	bias       int32
	mult       float32
	zp, lo, hi int32
}

// requantRuns requantizes the sums row, runs of run values step apart,
// into dst, the runs dstStep apart: straight when both are contiguous,
// else in one pass over the whole row into tmp (grown as needed), the runs
// then copied.
func requantRuns[T uint8 | int8](dst []T, row []int32, tmp *[]T, q quantParams, runs, run, step, dstStep int) {
	if runs == 1 || step == run && dstStep == run {
		kernel.Requantize(dst[:runs*run], row[:runs*run], q.bias, q.mult, q.zp, q.lo, q.hi)
		return
	}
	n := (runs-1)*step + run
	if cap(*tmp) < n {
		*tmp = make([]T, n)
	}
	r := (*tmp)[:n]
	kernel.Requantize(r, row[:n], q.bias, q.mult, q.zp, q.lo, q.hi)
	for i := range runs {
		o := i * dstStep
		if run == 1 {
			dst[o] = r[i*step]
			continue
		}
		copy(dst[o:o+run], r[i*step:])
	}
}

// growF32 returns b resized to n, reallocated when too small.
func growF32(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// checkConsts prepares a constant B (and its zero point).
func (o *qmatMulOp) checkConsts(consts []*tensor.Tensor) error {
	bi, zi := 1, 3
	if o.qlinear {
		bi, zi = 3, 5
	}
	o.b = prepare(consts, bi, zi, func(b *tensor.Tensor) func(int) int {
		if b.Rank() < 1 {
			return nil
		}
		k, n := b.Shape[0], 1
		if b.Rank() > 1 {
			k, n = b.Shape[b.Rank()-2], b.Shape[b.Rank()-1]
		}
		zp := constAt(consts, zi)
		switch {
		case zp == nil || zp.Len() == 1:
			return func(int) int { return 0 }
		case k > 0 && zp.Len() == b.Len()/k:
			return func(i int) int { return i/(k*n)*n + i%n }
		}
		return nil
	})
	return nil
}

// checkConsts prepares constant weights (and their zero point).
func (o *qconvOp) checkConsts(consts []*tensor.Tensor) error {
	wi, zi := 1, 3
	if o.qlinear {
		wi, zi = 3, 5
	}
	o.wc = prepare(consts, wi, zi, func(w *tensor.Tensor) func(int) int {
		if w.Rank() < 3 || w.Shape[0] == 0 {
			return nil
		}
		m := w.Shape[0]
		wk := w.Len() / m
		zp := constAt(consts, zi)
		switch {
		case zp == nil || zp.Len() == 1:
			return func(int) int { return 0 }
		case zp.Len() == m:
			return func(i int) int { return i / wk }
		}
		return nil
	})
	if w := o.wc; w != nil && w.x.Shape[0]%o.group == 0 {
		m := w.x.Shape[0]
		w.pa = packGroups(nil, w.d, o.group, m/o.group, w.x.Len()/m)
	}
	return nil
}
