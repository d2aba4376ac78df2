package infer

import (
	"github.com/onnxkit/onnxkit/internal/kernel"
)

// depthwise computes a 1-D or 2-D convolution whose groups each hold one
// input channel (group == C > 1; M/C outputs per group) directly: each
// output plane starts as its bias and gains weight·input for each kernel
// tap in order, a kernel.AxpyRows over a strided view of the padded input
// plane, split into stride-column phases so that a tap reads contiguous
// rows. No im2col matrix, and the planes of all samples are shared out
// between workers (batch 1 included).
func depthwise(s *scratch, a convArgs, n int, g kernel.ConvGeom) error {
	sh, sw := max(g.StrideH, 1), max(g.StrideW, 1)
	hp, wp := g.H+g.PadTop+g.PadBottom, g.PaddedW()
	wq := (wp + sw - 1) / sw // columns of a phase
	planes := n * a.m
	oh, ow := g.OutH(), g.OutW()
	ow8 := (ow + 7) &^ 7
	// The phases, 8 floats of slack for the last row's whole vectors,
	// then an output plane whose rows are whole vectors.
	per := sw*hp*wq + 8 + oh*ow8
	workers := batchWorkers(planes, planes*oh*ow*g.KH*g.KW/2) // half the work each
	if err := checkAlloc(workers * per); err != nil {
		return err
	}
	t := taskOf[convDepthwise](s)
	*t = convDepthwise{a: a, g: g, sh: sh, sw: sw, hp: hp, wq: wq, ow8: ow8, buf: s.floats(workers * per), per: per}
	err := parallelFor(s, planes, workers, t)
	*t = convDepthwise{}
	return err
}

// convDepthwise is depthwise's task over output planes (sample, channel),
// each worker with per floats of buf: the phases of a padded input plane
// and an output plane with rows of whole vectors, copied out at the end
// (so that kernel.AxpyRows runs no scalar tails).
type convDepthwise struct {
	a      convArgs
	g      kernel.ConvGeom
	sh, sw int
	hp, wq int // padded height, columns of a phase
	ow8    int // output row stride in the worker's plane: OutW rounded up to 8
	buf    []float32
	per    int
}

func (t *convDepthwise) run(lo, hi, worker int) error {
	a, g := &t.a, &t.g
	mine := t.buf[worker*t.per : (worker+1)*t.per]
	phaseSize := t.sw*t.hp*t.wq + 8
	mine, out := mine[:phaseSize], mine[phaseSize:]
	mg := a.m / a.c
	inSize, oh, ow := g.H*g.W, g.OutH(), g.OutW()
	ks := g.KH * g.KW
	dh, dw := max(g.DilationH, 1), max(g.DilationW, 1)
	held := -1
	for p := lo; p < hi; p++ {
		i, o := p/a.m, p%a.m
		in := i*a.c + o/mg
		if in != held {
			t.phases(a.x[in*inSize:(in+1)*inSize], mine)
			held = in
		}
		var b float32
		if a.b != nil {
			b = a.b[o]
		}
		fill(out, b)
		w := a.w[o*ks : (o+1)*ks]
		for ky := range g.KH {
			for kx := range g.KW {
				c := kx * dw
				src := mine[(c%t.sw)*t.hp*t.wq+ky*dh*t.wq+c/t.sw:]
				kernel.AxpyRows(w[ky*g.KW+kx], src, t.sh*t.wq, out, t.ow8, oh, t.ow8)
			}
		}
		y := a.y[p*oh*ow : (p+1)*oh*ow]
		for r := range oh {
			copy(y[r*ow:(r+1)*ow], out[r*t.ow8:])
		}
		applyAct(a.act, y)
	}
	return nil
}

// phases writes the zero-padded plane x (H x W) as sw planes of hp rows
// by wq columns: phase q holds the padded columns q, q+sw, q+2sw, ...
func (t *convDepthwise) phases(x, dst []float32) {
	g := &t.g
	plane := t.hp * t.wq
	if t.sw == 1 { // one phase: zero only the padding around the rows
		clear(dst[:g.PadTop*t.wq])
		for r := range g.H {
			at := (r + g.PadTop) * t.wq
			clear(dst[at : at+g.PadLeft])
			copy(dst[at+g.PadLeft:], x[r*g.W:(r+1)*g.W])
			clear(dst[at+g.PadLeft+g.W : at+t.wq])
		}
		clear(dst[(g.PadTop+g.H)*t.wq : plane])
		return
	}
	clear(dst)
	for r := range g.H {
		row := x[r*g.W : (r+1)*g.W]
		at := (r + g.PadTop) * t.wq
		if t.sw == 2 { // shifts and masks, no branch
			for c, v := range row {
				pc := c + g.PadLeft
				dst[(pc&1)*plane+at+pc>>1] = v
			}
			continue
		}
		for c, v := range row {
			pc := c + g.PadLeft
			dst[(pc%t.sw)*plane+at+pc/t.sw] = v
		}
	}
}
