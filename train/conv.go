package train

import (
	"fmt"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/tensor"
)

// Conv2d is a 2-d convolution over NCHW input, like torch.nn.Conv2d with
// groups 1 and dilation 1, computed as im2col followed by one matrix
// multiply per chunk of samples.
type Conv2d struct {
	name             string
	InC, OutC        int
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
	Weight           *Param // [OutC, InC, KH, KW]
	Bias             *Param // [OutC]

	// Geometry of the last Forward.
	n, h, w, oh, ow int

	x     *tensor.Tensor // [N, InC, H, W], input of the last Forward
	dy    *tensor.Tensor // [N, OutC, OH, OW], during Backward
	y, dx tensor.Tensor  // [N, OutC, OH, OW], [N, InC, H, W]
	// cols holds im2col of the last Forward, chunk after chunk: the chunk
	// of samples lo..hi-1 is a [InC*KH*KW, (hi-lo)*OH*OW] matrix starting
	// at lo*InC*KH*KW*OH*OW.
	cols []float32
	// Per worker: the [OutC, b*OH*OW] product (forward) or gathered dy
	// (backward), and the [InC*KH*KW, b*OH*OW] column gradient.
	tmp, dcol [][]float32
	// Per chunk: partial dW [OutC, InC*KH*KW] and db [OutC], summed in chunk
	// order after the chunks are done.
	dwPart, dbPart [][]float32

	needDx   bool
	fwd, bwd chunkFunc
}

// NewConv2d returns a Conv2d with square kernel k, stride and zero padding
// pad on all sides, and zero parameters named name+".weight" and
// name+".bias" (see InitDefault).
// It panics unless channels, kernel and stride are positive and pad is not
// negative.
func NewConv2d(name string, inC, outC, k, stride, pad int) *Conv2d {
	if inC <= 0 || outC <= 0 || k <= 0 || stride <= 0 || pad < 0 {
		panic(fmt.Sprintf("train: NewConv2d(%q, %d, %d, k %d, stride %d, pad %d): invalid geometry", name, inC, outC, k, stride, pad))
	}
	c := &Conv2d{name: name, InC: inC, OutC: outC, KH: k, KW: k,
		StrideH: stride, StrideW: stride, PadH: pad, PadW: pad,
		Weight: newParam(name+".weight", outC, inC, k, k), Bias: newParam(name+".bias", outC)}
	c.fwd, c.bwd = c.forwardChunk, c.backwardChunk
	return c
}

// Name returns the layer's name.
func (c *Conv2d) Name() string { return c.name }

// Params returns the weight and the bias.
func (c *Conv2d) Params() []*Param { return []*Param{c.Weight, c.Bias} }

// OutSize returns the output height and width for an input of h x w.
func (c *Conv2d) OutSize(h, w int) (int, int) {
	return (h+2*c.PadH-c.KH)/c.StrideH + 1, (w+2*c.PadW-c.KW)/c.StrideW + 1
}

// Forward computes y [N, OutC, OH, OW] from x [N, InC, H, W] with
// OH = (H + 2 PadH - KH)/StrideH + 1 (likewise OW): for each chunk of b
// samples, col [InC*KH*KW, b*OH*OW] = im2col(x), then
// y [OutC, b*OH*OW] = W [OutC, InC*KH*KW] · col, plus the bias.
func (c *Conv2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	checkRank(c.name, "input", x, 4)
	if x.Shape[1] != c.InC {
		panic(fmt.Sprintf("train: layer %q: input is %v, want %d channels", c.name, x, c.InC))
	}
	c.n, c.h, c.w = x.Shape[0], x.Shape[2], x.Shape[3]
	c.oh, c.ow = c.OutSize(c.h, c.w)
	if c.oh <= 0 || c.ow <= 0 {
		panic(fmt.Sprintf("train: layer %q: input %v is smaller than the kernel", c.name, x))
	}
	c.x = x
	c.y.Resize(tensor.Float32, c.n, c.OutC, c.oh, c.ow)
	ckk, p := c.InC*c.KH*c.KW, c.oh*c.ow
	c.cols = grow(c.cols, c.n*ckk*p)
	cs := chunkSize(c.n)
	nw := pool().workers()
	c.tmp = growEach(c.tmp, nw, c.OutC*cs*p)
	pool().run(c.n, cs, c.fwd)
	return &c.y
}

func (c *Conv2d) forwardChunk(worker, _, lo, hi int) {
	b, ckk, p := hi-lo, c.InC*c.KH*c.KW, c.oh*c.ow
	col := c.cols[lo*ckk*p : hi*ckk*p]
	chw := c.InC * c.h * c.w
	for i := lo; i < hi; i++ {
		c.im2col(c.x.F32[i*chw:(i+1)*chw], col, b*p, (i-lo)*p)
	}
	y := c.y.F32[lo*c.OutC*p : hi*c.OutC*p]
	bias := c.Bias.Value.F32
	if b == 1 {
		// y_i [OutC, P] = W · col directly.
		kernel.Sgemm(false, false, c.OutC, p, ckk, 1, c.Weight.Value.F32, ckk, col, p, 0, y, p)
		for o, bv := range bias {
			addConst(y[o*p:(o+1)*p], bv)
		}
		return
	}
	tmp := c.tmp[worker][:c.OutC*b*p] // [OutC, b*P]
	kernel.Sgemm(false, false, c.OutC, b*p, ckk, 1, c.Weight.Value.F32, ckk, col, b*p, 0, tmp, b*p)
	for i := range b {
		for o, bv := range bias {
			src := tmp[o*b*p+i*p : o*b*p+(i+1)*p]
			dst := y[(i*c.OutC+o)*p : (i*c.OutC+o+1)*p]
			for j, v := range src {
				dst[j] = v + bv
			}
		}
	}
}

// Backward takes dy [N, OutC, OH, OW] and returns dx [N, InC, H, W]. Per
// chunk of b samples, with dy as [OutC, b*OH*OW]:
// dW [OutC, InC*KH*KW] += dy · col^T, db [OutC] += row sums of dy, and
// dcol [InC*KH*KW, b*OH*OW] = W^T · dy, scattered back by col2im into dx.
func (c *Conv2d) Backward(dy *tensor.Tensor) *tensor.Tensor {
	c.backward(dy, true)
	return &c.dx
}

func (c *Conv2d) backwardParams(dy *tensor.Tensor) { c.backward(dy, false) }

func (c *Conv2d) backward(dy *tensor.Tensor, needDx bool) {
	if c.x == nil {
		panic("train: layer " + c.name + ": Backward before Forward")
	}
	checkSame(c.name, "output gradient", dy, c.y.Shape)
	c.dy, c.needDx = dy, needDx
	ckk, p := c.InC*c.KH*c.KW, c.oh*c.ow
	cs := chunkSize(c.n)
	chunks := numChunks(c.n, cs)
	nw := pool().workers()
	c.tmp = growEach(c.tmp, nw, c.OutC*cs*p)
	c.dwPart = growEach(c.dwPart, chunks, c.OutC*ckk)
	c.dbPart = growEach(c.dbPart, chunks, c.OutC)
	if needDx {
		c.dcol = growEach(c.dcol, nw, ckk*cs*p)
		c.dx.Resize(tensor.Float32, c.n, c.InC, c.h, c.w)
	}
	pool().run(c.n, cs, c.bwd)
	dw, db := c.Weight.Grad.F32, c.Bias.Grad.F32
	copy(dw, c.dwPart[0])
	copy(db, c.dbPart[0])
	for k := 1; k < chunks; k++ {
		addTo(dw, c.dwPart[k])
		addTo(db, c.dbPart[k])
	}
	c.dy = nil
}

func (c *Conv2d) backwardChunk(worker, chunk, lo, hi int) {
	b, ckk, p := hi-lo, c.InC*c.KH*c.KW, c.oh*c.ow
	col := c.cols[lo*ckk*p : hi*ckk*p] // [ckk, b*P]
	dyc := c.dy.F32[lo*c.OutC*p : hi*c.OutC*p]
	g := dyc // dy of the chunk as [OutC, b*P]
	if b > 1 {
		g = c.tmp[worker][:c.OutC*b*p]
		for i := range b {
			for o := range c.OutC {
				copy(g[o*b*p+i*p:o*b*p+(i+1)*p], dyc[(i*c.OutC+o)*p:(i*c.OutC+o+1)*p])
			}
		}
	}
	// dW part [OutC, ckk] = g [OutC, b*P] · col^T [b*P, ckk].
	kernel.Sgemm(false, true, c.OutC, ckk, b*p, 1, g, b*p, col, b*p, 0, c.dwPart[chunk], ckk)
	dbp := c.dbPart[chunk]
	for o := range c.OutC {
		var s float32
		for _, v := range g[o*b*p : (o+1)*b*p] {
			s += v
		}
		dbp[o] = s
	}
	if !c.needDx {
		return
	}
	// dcol [ckk, b*P] = W^T [ckk, OutC] · g [OutC, b*P].
	dcol := c.dcol[worker][:ckk*b*p]
	kernel.Sgemm(true, false, ckk, b*p, c.OutC, 1, c.Weight.Value.F32, ckk, g, b*p, 0, dcol, b*p)
	chw := c.InC * c.h * c.w
	for i := lo; i < hi; i++ {
		dx := c.dx.F32[i*chw : (i+1)*chw]
		clear(dx)
		c.col2im(dcol, b*p, (i-lo)*p, dx)
	}
}

// outRange returns the output positions o in [lo, hi) of an axis of
// length out for which o*stride - pad + k lies inside 0..in-1.
func outRange(out, in, stride, pad, k int) (lo, hi int) {
	// o*stride >= pad-k  and  o*stride <= in-1+pad-k.
	if d := pad - k; d > 0 {
		lo = (d + stride - 1) / stride
	}
	if d := in - 1 + pad - k; d < 0 {
		hi = 0
	} else {
		hi = min(out, d/stride+1)
	}
	return min(lo, hi), hi
}

// im2col writes sample x [InC, H, W] into col [InC*KH*KW, ld] at column
// offset off: col[(ci*KH+kh)*KW+kw, off + oh*OW + ow] =
// x[ci, oh*SH-PH+kh, ow*SW-PW+kw], zero outside the input.
func (c *Conv2d) im2col(x, col []float32, ld, off int) {
	for ci := range c.InC {
		plane := x[ci*c.h*c.w : (ci+1)*c.h*c.w]
		for kh := range c.KH {
			ohLo, ohHi := outRange(c.oh, c.h, c.StrideH, c.PadH, kh)
			for kw := range c.KW {
				owLo, owHi := outRange(c.ow, c.w, c.StrideW, c.PadW, kw)
				row := col[((ci*c.KH+kh)*c.KW+kw)*ld+off:]
				row = row[:c.oh*c.ow]
				clear(row[:ohLo*c.ow])
				for oh := ohLo; oh < ohHi; oh++ {
					dst := row[oh*c.ow : (oh+1)*c.ow]
					src := plane[(oh*c.StrideH-c.PadH+kh)*c.w:]
					clear(dst[:owLo])
					iw := owLo*c.StrideW - c.PadW + kw
					if c.StrideW == 1 {
						copy(dst[owLo:owHi], src[iw:iw+owHi-owLo])
					} else {
						for ow := owLo; ow < owHi; ow++ {
							dst[ow] = src[iw]
							iw += c.StrideW
						}
					}
					clear(dst[owHi:])
				}
				clear(row[ohHi*c.ow:])
			}
		}
	}
}

// col2im adds the columns at offset off of dcol [InC*KH*KW, ld] back into
// the sample gradient dx [InC, H, W]: the adjoint of im2col.
func (c *Conv2d) col2im(dcol []float32, ld, off int, dx []float32) {
	for ci := range c.InC {
		plane := dx[ci*c.h*c.w : (ci+1)*c.h*c.w]
		for kh := range c.KH {
			ohLo, ohHi := outRange(c.oh, c.h, c.StrideH, c.PadH, kh)
			for kw := range c.KW {
				owLo, owHi := outRange(c.ow, c.w, c.StrideW, c.PadW, kw)
				row := dcol[((ci*c.KH+kh)*c.KW+kw)*ld+off:]
				for oh := ohLo; oh < ohHi; oh++ {
					src := row[oh*c.ow : (oh+1)*c.ow]
					dst := plane[(oh*c.StrideH-c.PadH+kh)*c.w:]
					iw := owLo*c.StrideW - c.PadW + kw
					if c.StrideW == 1 {
						addTo(dst[iw:iw+owHi-owLo], src[owLo:owHi])
					} else {
						for ow := owLo; ow < owHi; ow++ {
							dst[iw] += src[ow]
							iw += c.StrideW
						}
					}
				}
			}
		}
	}
}

// grow returns s with length n, reallocating only when its capacity is too
// small.
func grow(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float32, n)
}

// growEach returns k slices of length n each, reusing ss's storage.
func growEach(ss [][]float32, k, n int) [][]float32 {
	if cap(ss) < k {
		ss = append(ss[:cap(ss)], make([][]float32, k-cap(ss))...)
	}
	ss = ss[:k]
	for i := range ss {
		ss[i] = grow(ss[i], n)
	}
	return ss
}

// addTo sets dst[i] += src[i].
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

func addConst(dst []float32, v float32) {
	for i := range dst {
		dst[i] += v
	}
}
