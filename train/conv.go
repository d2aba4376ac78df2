package train

import (
	"fmt"
	"slices"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Conv2d is a 2-d convolution over NCHW input, like torch.nn.Conv2d
// (square kernels; any stride, padding, dilation and groups, depthwise
// included), computed as im2col followed by a matrix multiply per group
// and block of a few samples, a block's im2col matrix small
// enough to stay in cache. Backward builds each block's im2col matrix
// again rather than keeping the whole batch's: rebuilding from cache costs
// less than a round trip through memory.
type Conv2d struct {
	name             string
	InC, OutC        int
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int
	DilationH        int
	DilationW        int
	// Groups splits the channels: output channels of group g see only the
	// input channels of group g (InC/Groups of them).
	Groups int
	Weight *Param // [OutC, InC/Groups, KH, KW]
	// Bias [OutC] is zero and not a parameter when NoBias is set (as
	// torch.nn.Conv2d's bias=False, the convolutions before a BatchNorm).
	Bias   *Param
	NoBias bool

	// Geometry of the last Forward.
	n, h, w, oh, ow int

	x     *tensor.Tensor // [N, InC, H, W], input of the last Forward
	dy    *tensor.Tensor // [N, OutC, OH, OW], during Backward
	y, dx tensor.Tensor  // [N, OutC, OH, OW], [N, InC, H, W]
	// Per worker: a block's [InC*KH*KW, bs*pw] im2col matrix, the
	// [OutC, bs*pw] product (forward) or gathered dy (backward), the
	// [InC*KH*KW, bs*pw] column gradient, and a padded plane (wide layout
	// with padding).
	col, tmp, dcol, plane [][]float32
	// bs is the number of samples in a block.
	bs int
	// pw is the number of im2col columns of a sample: OH*OW, or in the
	// wide layout of kernel.Im2colWide (wide set) (OH-1)*WP + OW, where
	// WP = W + 2*PadW: output (oh, ow) is column oh*WP + ow.
	pw   int
	wide bool
	// dense is set when the kernel covers the whole unpadded input (one
	// output position, as in LeNet5's conv3): the layer is then a fully
	// connected one, y = x · W^T with x as [N, InC*H*W], and needs no
	// im2col.
	dense bool
	// Per chunk: partial dW [OutC, InC*KH*KW] and db [OutC], summed in chunk
	// order after the chunks are done.
	dwPart, dbPart [][]float32
	// In the wide layout, Forward reads each sample's im2col matrix in
	// place (kernel.PackedA.SgemmOffsets): the weights packed once a
	// Forward, the rows of the matrix in the padded sample, and per
	// worker the padded sample then the tile-padded product.
	wpack    kernel.PackedA
	offs     []int32
	wideBufs [][]float32

	needDx   bool
	fwd, bwd chunkFunc
}

// NewConv2d returns a Conv2d with square kernel k, stride and zero padding
// pad on all sides, and parameters named name+".weight" and name+".bias"
// with PyTorch's default initialization (see NewConv2dOpts).
// It panics unless channels, kernel and stride are positive and pad is not
// negative.
func NewConv2d(name string, inC, outC, k, stride, pad int) *Conv2d {
	return NewConv2dOpts(name, inC, outC, ConvOptions{Kernel: k, Stride: stride, Pad: pad})
}

// ConvOptions is a Conv2d's geometry besides its channels, as
// torch.nn.Conv2d's arguments; zero Stride, Dilation and Groups mean 1.
type ConvOptions struct {
	Kernel, Stride, Pad, Dilation, Groups int
	NoBias                                bool
}

// NewConv2dOpts returns a Conv2d with the geometry o and parameters named
// name+".weight" and name+".bias" initialized as PyTorch's nn.Conv2d
// (see Model.InitDefault), drawn from a seed made from name; InitDefault
// draws them again from a model's seed. It panics unless channels and
// kernel are positive, pad is not negative and the groups divide both
// channel counts.
func NewConv2dOpts(name string, inC, outC int, o ConvOptions) *Conv2d {
	s, d, g := max(o.Stride, 1), max(o.Dilation, 1), max(o.Groups, 1)
	if inC <= 0 || outC <= 0 || o.Kernel <= 0 || o.Stride < 0 || o.Pad < 0 || o.Dilation < 0 || o.Groups < 0 || inC%g != 0 || outC%g != 0 {
		panic(fmt.Sprintf("train: NewConv2d(%q, %d, %d, %+v): invalid geometry", name, inC, outC, o))
	}
	k := o.Kernel
	c := &Conv2d{name: name, InC: inC, OutC: outC, KH: k, KW: k,
		StrideH: s, StrideW: s, PadH: o.Pad, PadW: o.Pad, DilationH: d, DilationW: d, Groups: g,
		Weight: newParam(name+".weight", outC, inC/g, k, k), Bias: newParam(name+".bias", outC), NoBias: o.NoBias}
	c.fwd, c.bwd = c.forwardChunk, c.backwardChunk
	initLayer(c, nameRand(name))
	return c
}

// rows is the number of rows of a sample's im2col matrix, InC*KH*KW; the
// rows of group g are wrow() rows from g*wrow().
func (c *Conv2d) rows() int { return c.InC * c.KH * c.KW }

// wrow is the length of a row of the weight matrix, InC/Groups*KH*KW.
func (c *Conv2d) wrow() int { return c.InC / c.Groups * c.KH * c.KW }

// Name returns the layer's name.
func (c *Conv2d) Name() string { return c.name }

// Params returns the weight and the bias.
func (c *Conv2d) Params() []*Param {
	if c.NoBias {
		return []*Param{c.Weight}
	}
	return []*Param{c.Weight, c.Bias}
}

// OutSize returns the output height and width for an input of h x w
// (not positive when the dilated kernel does not fit).
func (c *Conv2d) OutSize(h, w int) (int, int) {
	return (h+2*c.PadH-c.DilationH*(c.KH-1)-1)/c.StrideH + 1, (w+2*c.PadW-c.DilationW*(c.KW-1)-1)/c.StrideW + 1
}

// OutShape returns [OutC, OH, OW] for an input sample [InC, H, W].
func (c *Conv2d) OutShape(in []int) ([]int, error) {
	if len(in) != 3 || in[0] != c.InC {
		return nil, fmt.Errorf("input [%s], want [%d, H, W]", tensor.ShapeString(in), c.InC)
	}
	oh, ow := c.OutSize(in[1], in[2])
	if in[1]+2*c.PadH < c.DilationH*(c.KH-1)+1 || in[2]+2*c.PadW < c.DilationW*(c.KW-1)+1 || oh < 1 || ow < 1 {
		return nil, fmt.Errorf("input [%s] is smaller than the %dx%d kernel (dilation %d, padding %d)", tensor.ShapeString(in), c.KH, c.KW, c.DilationH, c.PadH)
	}
	return []int{c.OutC, oh, ow}, nil
}

// exportONNX writes a Conv.
func (c *Conv2d) exportONNX(e *exporter, in string) string {
	ins := []string{in, c.Weight.Name, c.Bias.Name}
	if c.NoBias {
		ins = ins[:2]
	}
	return e.node(c.name, "Conv", []*onnx.Attribute{
		ints("dilations", c.DilationH, c.DilationW), intAttr("group", int64(c.Groups)), ints("kernel_shape", c.KH, c.KW),
		ints("pads", c.PadH, c.PadW, c.PadH, c.PadW), ints("strides", c.StrideH, c.StrideW),
	}, ins...)
}

// Forward computes y [N, OutC, OH, OW] from x [N, InC, H, W] with
// OH = (H + 2 PadH - KH)/StrideH + 1 (likewise OW): for each chunk of b
// samples, col [InC*KH*KW, b*OH*OW] = im2col(x), then
// y [OutC, b*OH*OW] = W [OutC, InC*KH*KW] · col, plus the bias. In the
// wide layout the im2col matrix is read in place instead (forwardWide).
func (c *Conv2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	checkRank(c.name, "input", x, 4)
	if x.Shape[1] != c.InC {
		panic(fmt.Sprintf("train: layer %q: input is %v, want %d channels", c.name, x, c.InC))
	}
	c.n, c.h, c.w = x.Shape[0], x.Shape[2], x.Shape[3]
	c.oh, c.ow = c.OutSize(c.h, c.w)
	if c.h+2*c.PadH < c.DilationH*(c.KH-1)+1 || c.w+2*c.PadW < c.DilationW*(c.KW-1)+1 {
		panic(fmt.Sprintf("train: layer %q: input %v is smaller than the kernel", c.name, x))
	}
	c.x = x
	c.y.Resize(tensor.Float32, c.n, c.OutC, c.oh, c.ow)
	ckk, p := c.rows(), c.oh*c.ow
	c.dense = c.KH == c.h && c.KW == c.w && c.PadH == 0 && c.PadW == 0 && c.Groups == 1 && c.DilationH == 1 && c.DilationW == 1
	g := c.geom()
	c.pw, c.wide = g.Wide()
	c.wide = c.wide && c.Groups == 1 && g.WideInputSize() <= 1<<30 // int32 offsets for forwardWide
	if !c.wide {
		c.pw = p
	}
	cs := chunkSize(c.n)
	// Blocks of about 64K floats (256 KB) of im2col matrix.
	c.bs = max(1, min(cs, (1<<16)/(ckk*c.pw)))
	nw := pool().workers()
	c.col = growEach(c.col, nw, ckk*c.bs*c.pw)
	c.tmp = growEach(c.tmp, nw, c.OutC*c.bs*c.pw)
	if c.wide {
		c.plane = growEach(c.plane, nw, (c.h+2*c.PadH)*(c.w+2*c.PadW)) // Im2colWide's and col2imWide's
		if !c.dense {
			c.wpack.Repack(false, c.OutC, ckk, c.Weight.Value.F32, ckk)
			c.offs = slices.Grow(c.offs[:0], ckk)[:ckk]
			g.WideOffsets(c.offs)
			c.wideBufs = growEach(c.wideBufs, nw, g.WideInputSize()+kernel.TileRows(c.OutC)*kernel.TileCols(c.pw))
		}
	}
	pool().run(c.n, cs, c.fwd)
	return &c.y
}

// block writes the im2col matrix of samples lo..hi-1 into worker's col
// buffer, sample after sample, and returns it as [ckk, (hi-lo)*pw].
func (c *Conv2d) block(worker, lo, hi int) []float32 {
	b, ckk, pw := hi-lo, c.rows(), c.pw
	col := c.col[worker][:ckk*b*pw]
	chw := c.InC * c.h * c.w
	for i := lo; i < hi; i++ {
		x := c.x.F32[i*chw : (i+1)*chw]
		geom := c.geom()
		if c.wide {
			kernel.Im2colWide(&geom, x, col[(i-lo)*pw:], b*pw, c.plane[worker])
		} else {
			kernel.Im2col(&geom, x, col[(i-lo)*pw:], b*pw)
		}
	}
	return col
}

func (c *Conv2d) forwardChunk(worker, _, lo, hi int) {
	if c.dense {
		c.forwardDense(lo, hi)
		return
	}
	if c.wide {
		c.forwardWide(worker, lo, hi)
		return
	}
	for s := lo; s < hi; s += c.bs {
		c.forwardBlock(worker, s, min(hi, s+c.bs))
	}
}

func (c *Conv2d) forwardBlock(worker, lo, hi int) {
	b, p, pw := hi-lo, c.oh*c.ow, c.pw
	col := c.block(worker, lo, hi)
	y := c.y.F32[lo*c.OutC*p : hi*c.OutC*p]
	bias := c.Bias.Value.F32
	if b == 1 {
		// y_i [OutC, P] = W · col directly, group by group.
		c.groupGemm(col, p, y)
		kernel.AddBias(y, bias, p)
		return
	}
	tmp := c.tmp[worker][:c.OutC*b*pw] // [OutC, b*pw]
	c.groupGemm(col, b*pw, tmp)
	for i := range b {
		for o := range c.OutC {
			copy(y[(i*c.OutC+o)*p:(i*c.OutC+o+1)*p], tmp[o*b*pw+i*pw:])
		}
	}
	kernel.AddBias(y, bias, p)
}

// groupGemm sets out [OutC, ld] to W · col for col [rows, ld], group by
// group: rows g*og.. of out are W_g [og, wrow] · col_g [wrow, ld].
func (c *Conv2d) groupGemm(col []float32, ld int, out []float32) {
	og, wr := c.OutC/c.Groups, c.wrow()
	for g := range c.Groups {
		kernel.Sgemm(false, false, og, ld, wr, 1, c.Weight.Value.F32[g*og*wr:], wr, col[g*wr*ld:], ld, 0, out[g*og*ld:], ld)
	}
}

// forwardWide computes samples lo..hi-1 one at a time, reading each
// one's wide im2col matrix in place from its padded copy: the products
// of forwardBlock, bit for bit, without writing the matrix.
func (c *Conv2d) forwardWide(worker, lo, hi int) {
	g := c.geom()
	chw, p := c.InC*c.h*c.w, c.oh*c.ow
	ldc := kernel.TileCols(c.pw)
	src, tile := c.wideBufs[worker][:g.WideInputSize()], c.wideBufs[worker][g.WideInputSize():]
	bias := c.Bias.Value.F32
	for i := lo; i < hi; i++ {
		g.WideInput(c.x.F32[i*chw:(i+1)*chw], src)
		c.wpack.SgemmOffsets(c.pw, src, c.offs, tile, ldc)
		y := c.y.F32[i*c.OutC*p : (i+1)*c.OutC*p]
		for o := range c.OutC {
			g.FromWide(y[o*p:(o+1)*p], tile[o*ldc:])
		}
		kernel.AddBias(y, bias, p)
	}
}

// Backward takes dy [N, OutC, OH, OW] and returns dx [N, InC, H, W]. Per
// block of b samples, with dy as [OutC, b*OH*OW] and col the block's
// im2col matrix, built again:
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
	cs := chunkSize(c.n)
	chunks := numChunks(c.n, cs)
	nw := pool().workers()
	c.dwPart = growEach(c.dwPart, chunks, c.OutC*c.wrow())
	c.dbPart = growEach(c.dbPart, chunks, c.OutC)
	if needDx {
		c.dcol = growEach(c.dcol, nw, c.rows()*c.bs*c.pw)
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
	if c.dense {
		c.backwardDense(chunk, lo, hi)
		return
	}
	for s := lo; s < hi; s += c.bs {
		c.backwardBlock(worker, chunk, s, min(hi, s+c.bs), s == lo)
	}
}

// forwardDense computes samples lo..hi-1 of a dense layer (see dense):
// y [b, OutC] = x [b, ckk] · W^T, plus the bias.
func (c *Conv2d) forwardDense(lo, hi int) {
	ckk := c.InC * c.KH * c.KW
	x := c.x.F32[lo*ckk : hi*ckk]
	y := c.y.F32[lo*c.OutC : hi*c.OutC]
	kernel.Sgemm(false, true, hi-lo, c.OutC, ckk, 1, x, ckk, c.Weight.Value.F32, ckk, 0, y, c.OutC)
	kernel.AddBias(y, c.Bias.Value.F32, 1)
}

// backwardDense is backwardBlock for a dense layer: with g = dy as
// [b, OutC], dW part = g^T · x, db part = column sums of g, and dx [b, ckk]
// = g · W.
func (c *Conv2d) backwardDense(chunk, lo, hi int) {
	b, ckk := hi-lo, c.InC*c.KH*c.KW
	x := c.x.F32[lo*ckk : hi*ckk]
	g := c.dy.F32[lo*c.OutC : hi*c.OutC]
	kernel.Sgemm(true, false, c.OutC, ckk, b, 1, g, c.OutC, x, ckk, 0, c.dwPart[chunk], ckk)
	dbp := c.dbPart[chunk]
	copy(dbp, g[:c.OutC])
	for i := 1; i < b; i++ {
		addTo(dbp, g[i*c.OutC:(i+1)*c.OutC])
	}
	if c.needDx {
		kernel.Sgemm(false, false, b, ckk, c.OutC, 1, g, c.OutC, c.Weight.Value.F32, ckk, 0, c.dx.F32[lo*ckk:hi*ckk], ckk)
	}
}

// backwardBlock adds the parameter gradients of samples lo..hi-1 to the
// chunk's partial sums (setting them for the chunk's first block) and
// writes their dx.
func (c *Conv2d) backwardBlock(worker, chunk, lo, hi int, first bool) {
	b, ckk, p, pw := hi-lo, c.rows(), c.oh*c.ow, c.pw
	og, wr := c.OutC/c.Groups, c.wrow()
	col := c.block(worker, lo, hi) // [ckk, b*pw]
	dyc := c.dy.F32[lo*c.OutC*p : hi*c.OutC*p]
	g := dyc // dy of the block as [OutC, b*pw]
	if b > 1 || c.wide {
		g = c.tmp[worker][:c.OutC*b*pw]
		wp := c.w + 2*c.PadW
		for i := range b {
			for o := range c.OutC {
				src := dyc[(i*c.OutC+o)*p : (i*c.OutC+o+1)*p]
				dst := g[o*b*pw+i*pw : o*b*pw+(i+1)*pw]
				if !c.wide {
					copy(dst, src)
					continue
				}
				// The dropped columns get zero gradient.
				for oh := range c.oh {
					copy(dst[oh*wp:oh*wp+c.ow], src[oh*c.ow:(oh+1)*c.ow])
					if oh < c.oh-1 {
						clear(dst[oh*wp+c.ow : (oh+1)*wp])
					}
				}
			}
		}
	}
	// dW part [OutC, wr] (+)= g [OutC, b*pw] · col^T [b*pw, ckk], group
	// by group: rows of group k take the group's wr rows of col.
	var beta float32 = 1
	if first {
		beta = 0
	}
	for k := range c.Groups {
		kernel.Sgemm(false, true, og, wr, b*pw, 1, g[k*og*b*pw:], b*pw, col[k*wr*b*pw:], b*pw, beta, c.dwPart[chunk][k*og*wr:], wr)
	}
	dbp := c.dbPart[chunk]
	for o := range c.OutC {
		s := kernel.Sum(g[o*b*pw : (o+1)*b*pw])
		if !first {
			s += dbp[o]
		}
		dbp[o] = s
	}
	if !c.needDx {
		return
	}
	// dcol [ckk, b*pw] = W^T [ckk, OutC] · g [OutC, b*pw], group by
	// group: W_k^T [wr, og] · g_k [og, b*pw] gives the group's wr rows.
	dcol := c.dcol[worker][:ckk*b*pw]
	for k := range c.Groups {
		kernel.Sgemm(true, false, wr, b*pw, og, 1, c.Weight.Value.F32[k*og*wr:], wr, g[k*og*b*pw:], b*pw, 0, dcol[k*wr*b*pw:], b*pw)
	}
	chw := c.InC * c.h * c.w
	for i := lo; i < hi; i++ {
		dx := c.dx.F32[i*chw : (i+1)*chw]
		if c.wide {
			c.col2imWide(dcol, b*pw, (i-lo)*pw, dx, c.plane[worker])
			continue
		}
		clear(dx)
		geom := c.geom()
		kernel.Col2im(&geom, dcol[(i-lo)*pw:], b*pw, dx)
	}
}

// col2imWide sets dx [InC, H, W] to the adjoint of kernel.Im2colWide applied to
// the columns at offset off of dcol [InC*KH*KW, ld], summing into the
// padded plane and keeping its inside.
func (c *Conv2d) col2imWide(dcol []float32, ld, off int, dx, plane []float32) {
	wp := c.w + 2*c.PadW
	for ci := range c.InC {
		dst := dx[ci*c.h*c.w : (ci+1)*c.h*c.w]
		acc := plane
		if c.PadH == 0 && c.PadW == 0 {
			acc = dst
		}
		clear(acc)
		for kh := range c.KH {
			for kw := range c.KW {
				row := dcol[((ci*c.KH+kh)*c.KW+kw)*ld+off:][:c.pw]
				kernel.Axpy(1, row, acc[kh*wp+kw:][:c.pw]) // 1*x + y rounds once: x + y
			}
		}
		if c.PadH > 0 || c.PadW > 0 {
			for y := range c.h {
				copy(dst[y*c.w:(y+1)*c.w], acc[(y+c.PadH)*wp+c.PadW:])
			}
		}
	}
}

// geom is the layer's geometry for one sample, for kernel.Im2col and
// kernel.Col2im.
func (c *Conv2d) geom() kernel.ConvGeom {
	return kernel.ConvGeom{C: c.InC, H: c.h, W: c.w, KH: c.KH, KW: c.KW,
		PadTop: c.PadH, PadLeft: c.PadW, PadBottom: c.PadH, PadRight: c.PadW, StrideH: c.StrideH, StrideW: c.StrideW,
		DilationH: c.DilationH, DilationW: c.DilationW}
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

// buildConv makes a Conv2d from an ONNX Conv with a constant weight [OutC,
// InC/group, K, K] and optional bias: square kernel, equal strides and
// dilations, symmetric equal pads.
func buildConv(b *onnxBuilder, n *onnx.Node) (Node, error) {
	in := b.shape(n.Inputs[0])
	if len(n.Inputs) < 2 || len(in) != 3 {
		return Node{}, fmt.Errorf("want an input [N, C, H, W] and a weight")
	}
	group := int64(1)
	if a := n.Attr("group"); a != nil {
		group = a.I
	}
	if group < 1 || group > int64(in[0]) || int64(in[0])%group != 0 {
		return Node{}, fmt.Errorf("group %d does not divide the input's %d channels", group, in[0])
	}
	w := b.value(n.Inputs[1])
	if w == nil || w.DType != tensor.Float32 || w.Rank() != 4 || int64(w.Shape[1])*group != int64(in[0]) || w.Shape[0]%int(group) != 0 {
		return Node{}, fmt.Errorf("weight must be a float32 [OutC, %d, K, K] initializer", int64(in[0])/group)
	}
	outC, kh, kw := w.Shape[0], w.Shape[2], w.Shape[3]
	pads := intsAttr(n, "pads", []int64{0, 0, 0, 0})
	strides := intsAttr(n, "strides", []int64{1, 1})
	dil := intsAttr(n, "dilations", []int64{1, 1})
	if a := n.Attr("auto_pad"); a != nil && string(a.S) != "NOTSET" {
		return Node{}, fmt.Errorf("auto_pad %q is not supported", a.S)
	}
	if kh != kw || len(pads) != 4 || !allEqual(pads, pads[0]) || len(strides) != 2 || strides[0] != strides[1] ||
		len(dil) != 2 || dil[0] != dil[1] {
		return Node{}, fmt.Errorf("only square kernels with equal strides and dilations and symmetric equal pads are supported")
	}
	if ks := intsAttr(n, "kernel_shape", nil); ks != nil && (len(ks) != 2 || ks[0] != int64(kh) || ks[1] != int64(kw)) {
		return Node{}, fmt.Errorf("attribute kernel_shape %v does not match the weight's %dx%d kernel", ks, kh, kw)
	}
	if kh < 1 || strides[0] < 1 || pads[0] < 0 || pads[0] > int64(kh) || dil[0] < 1 || dil[0] > maxFeatures {
		return Node{}, fmt.Errorf("kernel %d, stride %d and pad %d: want a kernel and stride of at least 1 and a pad from 0 to the kernel size (dilation %d)", kh, strides[0], pads[0], dil[0])
	}
	hasBias := len(n.Inputs) > 2 && n.Inputs[2] != ""
	var bias *tensor.Tensor
	if hasBias {
		if bias = b.value(n.Inputs[2]); bias == nil || bias.DType != tensor.Float32 || bias.Len() != outC {
			return Node{}, fmt.Errorf("bias must be a float32 [%d] initializer", outC)
		}
	}
	c := NewConv2dOpts(b.layerName(n, n.Inputs[1]), in[0], outC, ConvOptions{Kernel: kh, Stride: int(strides[0]),
		Pad: int(pads[0]), Dilation: int(dil[0]), Groups: int(group), NoBias: !hasBias})
	b.state[c.Weight.Name] = w
	if hasBias {
		b.state[c.Bias.Name] = tensor.FromFloat32(bias.F32, outC)
	}
	return Apply(c, n.Inputs[0]), nil
}
