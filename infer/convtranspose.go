package infer

import (
	"fmt"
	"runtime"
	"slices"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// convTransposeOp is ConvTranspose (opsets 1, 11, 22; float32) over 1 to
// maxSpatial spatial axes. Per sample and group it computes the matrix
// product col [M/group*K, P] = W_g^T [M/group*K, C/group] · X_g [C/group, P]
// (K kernel positions, P input positions), then col2im adds each column
// into the output window it scatters to, the output starting at the bias.
//
// Output sizes follow the spec: stride*(in-1) + output_padding +
// (kernel-1)*dilation + 1 - pads, with pads derived from output_shape
// when given or from auto_pad SAME_* (output in*stride): the total
// padding is split start = total - floor(total/2), end = floor(total/2),
// or the other way round for SAME_UPPER. As in the spec's formulas, a
// negative total (an output larger than the windows reach) is a negative
// padding: the output positions no window reaches hold the bias.
// ConvTranspose-1's formula text swaps the two splits of output_shape,
// against its own auto_pad description; all versions use opset 11's.
type convTransposeOp struct {
	w           window
	group       int
	outPadding  []int // nil: all 0
	outputShape []int // nil: from the pads
	wpack       []*kernel.PackedA
}

func buildConvTranspose(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 3, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	onlyAttrs(&a, opset, "auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape", "pads", "strides")
	o := &convTransposeOp{w: parseWindow(&a, false, true, false)}
	g := a.int("group", 1)
	if g < 1 || g > 1<<24 {
		a.fail("attribute \"group\": want a positive value, got %d", g)
	}
	o.group = int(g)
	o.outPadding = positive(&a, "output_padding", a.ints("output_padding", -1, nil), 0)
	o.outputShape = positive(&a, "output_shape", a.ints("output_shape", -1, nil), 0)
	if a.err != nil {
		return nil, a.err
	}
	// Every per-axis attribute must agree on the number of spatial axes.
	ns := -1
	for _, l := range []struct {
		name string
		n    int
	}{{"kernel_shape", len(o.w.kernel)}, {"strides", len(o.w.strides)}, {"dilations", len(o.w.dilations)},
		{"pads", len(o.w.pads) / 2}, {"output_padding", len(o.outPadding)}, {"output_shape", len(o.outputShape)}} {
		if !a.has(l.name) {
			continue
		}
		if l.n == 0 || l.n > maxSpatial {
			a.fail("attribute %q: want 1 to %d spatial axes, got %d values", l.name, maxSpatial, l.n)
		} else if ns >= 0 && l.n != ns {
			a.fail("attribute %q: %d spatial axes, other attributes have %d", l.name, l.n, ns)
		}
		ns = l.n
	}
	// output_padding must be less than the stride or the dilation.
	for i, p := range o.outPadding {
		s, d := 1, 1
		if i < len(o.w.strides) {
			s = o.w.strides[i]
		}
		if i < len(o.w.dilations) {
			d = o.w.dilations[i]
		}
		if p >= max(s, d) {
			a.fail("attribute \"output_padding\": value %d on axis %d is not less than the stride %d or dilation %d", p, i, s, d)
		}
	}
	if a.err != nil {
		return nil, a.err
	}
	return o, nil
}

// checkConsts checks the weights and bias known at load against the
// attributes, and packs constant weights for the matrix kernel.
func (o *convTransposeOp) checkConsts(consts []*tensor.Tensor) error {
	w := constAt(consts, 1)
	if w == nil {
		return nil
	}
	if w.DType != tensor.Float32 {
		return fmt.Errorf("input W: want float32, got %v", w.DType)
	}
	if w.Rank() < 3 || w.Rank() > maxSpatial+2 {
		return fmt.Errorf("input W: want rank 3 to %d (C x M/group x k1 ...), got %v", maxSpatial+2, w)
	}
	if err := o.checkWeights(w, -1); err != nil {
		return err
	}
	if b := constAt(consts, 2); b != nil && (b.Rank() != 1 || b.Shape[0] != w.Shape[1]*o.group) {
		return fmt.Errorf("input B is %v, want float32[%d] (W %v, group %d)", b, w.Shape[1]*o.group, w, o.group)
	}
	c, mg := w.Shape[0], w.Shape[1]
	cg, k := c/o.group, prod(w.Shape[2:])
	if cg*mg*k > 0 {
		o.wpack = make([]*kernel.PackedA, o.group)
		for g := range o.group {
			o.wpack[g] = kernel.PackA(true, mg*k, cg, w.F32[g*cg*mg*k:], mg*k)
		}
	}
	return nil
}

// checkWeights checks W's shape against the attributes and, when c >= 0,
// against the input's c channels.
func (o *convTransposeOp) checkWeights(w *tensor.Tensor, c int) error {
	if w.Shape[0]%o.group != 0 {
		return fmt.Errorf("input W %v: %d input channels are not divisible by group %d", w, w.Shape[0], o.group)
	}
	if c >= 0 && w.Shape[0] != c {
		return fmt.Errorf("input W %v: want %d input channels, as X has", w, c)
	}
	ks := w.Shape[2:]
	for i, k := range ks {
		if k < 1 {
			return fmt.Errorf("input W %v: kernel size %d on axis %d", w, k, i)
		}
	}
	if o.w.kernel != nil && !slices.Equal(o.w.kernel, ks) {
		return fmt.Errorf("attribute \"kernel_shape\" %v does not match W %v", o.w.kernel, w)
	}
	for _, l := range [][]int{o.w.strides, o.w.dilations, o.outPadding, o.outputShape} {
		if l != nil && len(l) != len(ks) {
			return fmt.Errorf("W %v has %d spatial axes, attributes have %d", w, len(ks), len(l))
		}
	}
	if o.w.pads != nil && len(o.w.pads) != 2*len(ks) {
		return fmt.Errorf("W %v has %d spatial axes, attribute \"pads\" has %d values", w, len(ks), len(o.w.pads))
	}
	return nil
}

// geometry returns the col2im geometry: g.in the input sizes, g.out the
// output sizes, g.pad the padding cut from the start of each axis.
func (o *convTransposeOp) geometry(in, ks []int) (geom, error) {
	var g geom
	g.n = len(in)
	for i := range in {
		g.in[i], g.k[i], g.stride[i], g.dil[i] = in[i], ks[i], 1, 1
		if o.w.strides != nil {
			g.stride[i] = o.w.strides[i]
		}
		if o.w.dilations != nil {
			g.dil[i] = o.w.dilations[i]
		}
		op := 0
		if o.outPadding != nil {
			op = o.outPadding[i]
		}
		// The full extent of the scattered windows plus output_padding.
		full := g.stride[i]*(in[i]-1) + op + (g.k[i]-1)*g.dil[i] + 1
		if in[i] == 0 {
			full = 0
		}
		switch {
		case o.outputShape != nil || o.w.autoPad == "SAME_UPPER" || o.w.autoPad == "SAME_LOWER":
			g.out[i] = in[i] * g.stride[i]
			if o.outputShape != nil {
				g.out[i] = o.outputShape[i]
			}
			total := full - g.out[i]
			g.padEnd[i] = floorDiv(total, 2)
			g.pad[i] = total - g.padEnd[i]
			if o.w.autoPad == "SAME_UPPER" {
				g.pad[i], g.padEnd[i] = g.padEnd[i], g.pad[i]
			}
		default:
			if o.w.autoPad == "NOTSET" && o.w.pads != nil {
				g.pad[i], g.padEnd[i] = o.w.pads[i], o.w.pads[g.n+i]
			}
			g.out[i] = full - g.pad[i] - g.padEnd[i]
			if g.out[i] < 0 {
				return g, fmt.Errorf("spatial axis %d: pads %d+%d are larger than the output size %d", i, g.pad[i], g.padEnd[i], full)
			}
		}
	}
	return g, nil
}

func (o *convTransposeOp) run(s *scratch, in, out []*tensor.Tensor) error {
	x, w := in[0], in[1]
	var b *tensor.Tensor
	if len(in) > 2 {
		b = in[2]
	}
	if x.DType != tensor.Float32 || w.DType != tensor.Float32 || (b != nil && b.DType != tensor.Float32) {
		return fmt.Errorf("want float32 inputs, got X %v, W %v", x.DType, w.DType)
	}
	n, c, sp, err := spatialOf(x, "X")
	if err != nil {
		return err
	}
	if w.Rank() != x.Rank() {
		return fmt.Errorf("input W is %v, want rank %d to match X %v", w, x.Rank(), x)
	}
	if err := o.checkWeights(w, c); err != nil {
		return err
	}
	mg := w.Shape[1]
	m := mg * o.group
	if b != nil && (b.Rank() != 1 || b.Shape[0] != m) {
		return fmt.Errorf("input B is %v, want float32[%d]", b, m)
	}
	g, err := o.geometry(sp, w.Shape[2:])
	if err != nil {
		return err
	}
	yshape := [maxSpatial + 2]int{n, m}
	copy(yshape[2:], g.out[:g.n])
	if err := checkAlloc(yshape[:g.n+2]...); err != nil {
		return err
	}
	cg, K, P := c/o.group, g.kSize(), g.inSize()
	colSize := mg * K * P
	if err := checkAlloc(mg, K, P); err != nil {
		return err
	}
	resize(out[0], tensor.Float32, yshape[:g.n+2]...)
	t := taskOf[convTransposeSamples](s)
	*t = convTransposeSamples{x: x.F32, w: w.F32, y: out[0].F32, g: g, group: o.group, c: c, m: m, colSize: colSize}
	if b != nil {
		t.b = b.F32
	}
	if len(o.wpack) == o.group && o.wpack[0].M() == mg*K && o.wpack[0].K() == cg {
		t.wpack = o.wpack
	}
	workers := batchWorkers(n, mg*K*P*c)
	if err := checkAlloc(workers * colSize); err != nil {
		return err
	}
	t.col = s.floats(workers * colSize)
	if workers == 1 && mg > 1 && mg*K*P >= splitCol2im && runtime.GOMAXPROCS(0) > 1 {
		// One sample at a time: col2im splits its channels instead.
		if s.inner == nil {
			s.inner = new(scratch)
		}
		t.split = s.inner
	}
	err = parallelFor(s, n, workers, t)
	*t = convTransposeSamples{}
	if t.split != nil {
		*taskOf[col2imChannels](t.split) = col2imChannels{}
	}
	return err
}

// convTransposeSamples computes whole samples, each worker with its own
// colSize part of col.
type convTransposeSamples struct {
	x, w, b, y []float32
	col        []float32
	colSize    int
	g          geom
	group      int
	c, m       int
	wpack      []*kernel.PackedA // W_g^T packed per group, or nil
	split      *scratch          // when not nil, col2im runs its channels in parallel with this scratch
}

func (t *convTransposeSamples) run(lo, hi, worker int) error {
	g := &t.g
	col := t.col[worker*t.colSize : (worker+1)*t.colSize]
	cg, mg := t.c/t.group, t.m/t.group
	K, P, Q := g.kSize(), g.inSize(), g.outSize()
	for i := lo; i < hi; i++ {
		y := t.y[i*t.m*Q : (i+1)*t.m*Q]
		if t.b != nil {
			kernel.AddBias(clearF32(y), t.b[:t.m], Q)
		} else {
			clear(y)
		}
		for gi := range t.group {
			if mg*K == 0 || P == 0 {
				break
			}
			xs := t.x[(i*t.c+gi*cg)*P : (i*t.c+(gi+1)*cg)*P]
			if cg == 0 {
				clear(col)
			} else if t.wpack != nil {
				t.wpack[gi].Sgemm(P, xs, P, 0, col, P)
			} else {
				ws := t.w[gi*cg*mg*K : (gi+1)*cg*mg*K]
				kernel.Sgemm(true, false, mg*K, P, cg, 1, ws, mg*K, xs, P, 0, col, P)
			}
			yg := y[gi*mg*Q : (gi+1)*mg*Q]
			if t.split == nil {
				col2im(g, col, mg, yg)
				continue
			}
			c := taskOf[col2imChannels](t.split)
			*c = col2imChannels{g: g, col: col, y: yg}
			if err := parallelFor(t.split, mg, runtime.GOMAXPROCS(0), c); err != nil {
				return err
			}
		}
	}
	return nil
}

// splitCol2im is the number of additions from which col2im of one
// sample splits its channels between goroutines.
var splitCol2im = 1 << 18

// col2imChannels runs col2im over a range of channels.
type col2imChannels struct {
	g      *geom
	col, y []float32
}

func (c *col2imChannels) run(lo, hi, _ int) error {
	rows, plane := c.g.kSize()*c.g.inSize(), c.g.outSize()
	col2im(c.g, c.col[lo*rows:hi*rows], hi-lo, c.y[lo*plane:hi*plane])
	return nil
}

// clearF32 zeroes y and returns it.
func clearF32(y []float32) []float32 {
	clear(y)
	return y
}

// col2im adds the (channels*kSize) x inSize matrix col into y
// (channels planes of outSize): column p, row (c, k) goes to the output
// position p*stride - pad + k*dilation of plane c, when inside the output.
// It is the adjoint of im2col, with g.in and g.out in swapped roles.
func col2im(g *geom, col []float32, channels int, y []float32) {
	if cg, ok := g.transposed2D(channels); ok {
		kernel.Col2im(&cg, col, g.inSize(), y)
		return
	}
	n := g.n
	ks, P, Q := g.kSize(), g.inSize(), g.outSize()
	last := n - 1
	inW, outW, sw := g.in[last], g.out[last], g.stride[last]
	var kpos, ipos [maxSpatial]int
	for c := range channels {
		plane := y[c*Q : (c+1)*Q]
		for kk := range ks {
			r := kk
			for i := last; i >= 0; i-- {
				kpos[i] = r % g.k[i]
				r /= g.k[i]
			}
			// The input columns whose output column lies in [0, outW):
			// ow = iw*sw + off.
			off := kpos[last]*g.dil[last] - g.pad[last]
			lo, hi := 0, inW
			if off < 0 {
				lo = (-off + sw - 1) / sw
			}
			if end := outW - off; end <= 0 {
				hi = 0
			} else {
				hi = min(hi, (end+sw-1)/sw)
			}
			src := col[(c*ks+kk)*P : (c*ks+kk+1)*P]
			rows := P / max(inW, 1)
			clear(ipos[:last])
			for row := range rows {
				// The output row of input row ipos[:last], or -1.
				base := 0
				for i := 0; i < last; i++ {
					v := ipos[i]*g.stride[i] - g.pad[i] + kpos[i]*g.dil[i]
					if v < 0 || v >= g.out[i] {
						base = -1
						break
					}
					base = base*g.out[i] + v
				}
				if base >= 0 && lo < hi {
					s := src[row*inW : (row+1)*inW]
					d := plane[base*outW:]
					if sw == 1 {
						kernel.Axpy(1, s[lo:hi], d[lo+off:hi+off])
					} else {
						for iw := lo; iw < hi; iw++ {
							d[iw*sw+off] += s[iw]
						}
					}
				}
				for i := last - 1; i >= 0; i-- {
					ipos[i]++
					if ipos[i] < g.in[i] {
						break
					}
					ipos[i] = 0
				}
			}
		}
	}
}

// transposed2D returns the convolution whose input is the output of the
// transposed one and whose output is its input, for one or two spatial
// axes, when that convolution has non-negative padding and exactly g.in
// output positions (not so when output_padding reaches past a stride, or
// SAME padding leaves positions no window reaches).
func (g *geom) transposed2D(channels int) (kernel.ConvGeom, bool) {
	if g.n > 2 {
		return kernel.ConvGeom{}, false
	}
	var c geom
	c.n = g.n
	for i := range g.n {
		c.in[i], c.k[i], c.stride[i], c.dil[i], c.pad[i] = g.out[i], g.k[i], g.stride[i], g.dil[i], g.pad[i]
		c.padEnd[i] = g.stride[i]*(g.in[i]-1) + (g.k[i]-1)*g.dil[i] + 1 - g.out[i] - g.pad[i]
		if c.pad[i] < 0 || c.padEnd[i] < 0 {
			return kernel.ConvGeom{}, false
		}
	}
	cg, _ := c.conv2D(channels)
	if cg.OutH()*cg.OutW() != g.inSize() || cg.OutW() != g.in[g.n-1] {
		return kernel.ConvGeom{}, false
	}
	return cg, true
}

// constAt is consts[i], or nil past its end.
func constAt(consts []*tensor.Tensor, i int) *tensor.Tensor {
	if i < len(consts) {
		return consts[i]
	}
	return nil
}

// floorDiv is a/b rounded down, for b > 0.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
