package infer

import (
	"github.com/onnxkit/onnxkit/internal/kernel"
)

// depthwise computes a 1-D or 2-D convolution whose groups each hold one
// input channel (group == C > 1; M/C outputs per group) directly, from a
// zero-padded copy of each input plane. At stride 1 each output plane is
// computed "wide", as one long row over the padded plane's width
// (kernel.SetTaps: bias plus every tap, four vectors of sums in flight),
// and its valid columns copied out; the columns past the output width are
// thrown away. At other strides each output plane starts as its bias and
// gains weight·input for each tap in order (kernel.SetTaps per block of
// rows at column stride 1, else kernel.AxpyRows per tap). No im2col
// matrix, and the planes of all samples are shared out between workers
// (batch 1 included).
func depthwise(s *scratch, a convArgs, n int, g kernel.ConvGeom) error {
	hp, wp := g.H+g.PadTop+g.PadBottom, g.PaddedW()
	planes := n * a.m
	oh, ow := g.OutH(), g.OutW()
	ow8 := (ow + 7) &^ 7
	wide := max(g.StrideH, 1) == 1 && max(g.StrideW, 1) == 1
	// The padded plane with slack for the whole vectors read past its end
	// (two a vector at stride 2, a kernel's width more for the wide rows),
	// then an output plane: wide, or with rows of whole vectors.
	slack := 16 + (g.KW-1)*max(g.DilationW, 1)
	outLen := oh * ow8
	if wide {
		outLen = (oh*wp + 7) &^ 7
	}
	per := hp*wp + slack + outLen
	workers := batchWorkers(planes, planes*oh*ow*g.KH*g.KW/2) // half the work each
	if err := checkAlloc(workers * per); err != nil {
		return err
	}
	t := taskOf[convDepthwise](s)
	*t = convDepthwise{a: a, g: g, hp: hp, wp: wp, ow8: ow8, wide: wide, buf: s.floats(workers * per), per: per, padLen: hp*wp + slack}
	err := parallelFor(s, planes, workers, t)
	*t = convDepthwise{}
	return err
}

// convDepthwise is depthwise's task over output planes (sample, channel),
// each worker with per floats of buf: a padded input plane (padLen) and an
// output plane, wide or with rows of whole vectors, copied out at the end
// (so that the kernels run no scalar tails).
type convDepthwise struct {
	a      convArgs
	g      kernel.ConvGeom
	hp, wp int // padded height and width
	ow8    int // output row stride in the worker's plane: OutW rounded up to 8
	wide   bool
	buf    []float32
	per    int
	padLen int
}

func (t *convDepthwise) run(lo, hi, worker int) error {
	a, g := &t.a, &t.g
	mine := t.buf[worker*t.per : (worker+1)*t.per]
	padded, out := mine[:t.padLen], mine[t.padLen:]
	mg := a.m / a.c
	inSize, oh, ow := g.H*g.W, g.OutH(), g.OutW()
	ks := g.KH * g.KW
	sh, sw := max(g.StrideH, 1), max(g.StrideW, 1)
	dh, dw := max(g.DilationH, 1), max(g.DilationW, 1)
	// At column stride 1, kernel.SetTaps adds all the taps to vectors of
	// outputs held in registers; otherwise one AxpyRows per tap.
	var offs [64]int
	allTaps := sw == 1 && ks <= len(offs)
	if allTaps {
		for ky := range g.KH {
			for kx := range g.KW {
				offs[ky*g.KW+kx] = ky*dh*t.wp + kx*dw
			}
		}
	}
	held := -1
	for p := lo; p < hi; p++ {
		i, o := p/a.m, p%a.m
		in := i*a.c + o/mg
		if in != held {
			t.pad(a.x[in*inSize:(in+1)*inSize], padded)
			held = in
		}
		var b float32
		if a.b != nil {
			b = a.b[o]
		}
		w := a.w[o*ks : (o+1)*ks]
		y := a.y[p*oh*ow : (p+1)*oh*ow]
		switch {
		case t.wide && allTaps:
			width := (oh*t.wp + 7) &^ 7
			kernel.SetTaps(b, w, offs[:ks], padded, width, out, width, 1, width)
			for r := range oh {
				copy(y[r*ow:(r+1)*ow], out[r*t.wp:])
			}
		case allTaps:
			kernel.SetTaps(b, w, offs[:ks], padded, sh*t.wp, out, t.ow8, oh, t.ow8)
			t.copyOut(out, y)
		default:
			fill(out[:oh*t.ow8], b)
			// Blocks of rows of about 8 KB, which stay in cache over the taps.
			block := max(1, 2048/t.ow8)
			for r0 := 0; r0 < oh; r0 += block {
				rows := min(block, oh-r0)
				for ky := range g.KH {
					for kx := range g.KW {
						src := padded[(r0*sh+ky*dh)*t.wp+kx*dw:]
						kernel.AxpyRows(w[ky*g.KW+kx], src, sh*t.wp, sw, out[r0*t.ow8:], t.ow8, rows, t.ow8)
					}
				}
			}
			t.copyOut(out, y)
		}
		applyAct(a.act, y)
	}
	return nil
}

// copyOut copies the output plane's rows of whole vectors to y.
func (t *convDepthwise) copyOut(out, y []float32) {
	ow := t.g.OutW()
	for r := range t.g.OutH() {
		copy(y[r*ow:(r+1)*ow], out[r*t.ow8:])
	}
}

// pad writes the plane x (H x W) zero-padded into dst (hp rows of wp),
// zeroing only the padding.
func (t *convDepthwise) pad(x, dst []float32) {
	g := &t.g
	clear(dst[:g.PadTop*t.wp])
	for r := range g.H {
		at := (r + g.PadTop) * t.wp
		clear(dst[at : at+g.PadLeft])
		copy(dst[at+g.PadLeft:], x[r*g.W:(r+1)*g.W])
		clear(dst[at+g.PadLeft+g.W : at+t.wp])
	}
	clear(dst[(g.PadTop+g.H)*t.wp:])
}
