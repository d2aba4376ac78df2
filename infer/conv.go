package infer

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// convOp is Conv (opsets 1, 11, 22; float32): Y = W * X + B over 1 to
// maxSpatial spatial axes, computed per sample and group as one matrix
// product of the group's filters with the im2col matrix of its input.
type convOp struct {
	w      window
	group  int
	act    *unaryOp          // a fused activation, or nil
	pool   *poolOp           // a fused pooling of the output, or nil
	wpack  *kernel.PackedA   // W packed at load (a constant W, group 1), or nil
	gpacks []*kernel.PackedA // each group's W packed at load (a constant W, 1 < group < C), or nil
	wpackT *lazyPackedT      // W^T packed on first use, for products with few columns and dense convolutions
}

// lazyPackedT packs the transpose of a constant weight matrix when first
// asked: most convolutions never need it, and it would hold the weights
// twice more (the transpose and its panels).
type lazyPackedT struct {
	once sync.Once
	m, k int
	w    []float32 // m x k
	p    *kernel.PackedB
}

// get returns W^T (k x m) packed.
func (l *lazyPackedT) get() *kernel.PackedB {
	l.once.Do(func() { l.p = kernel.PackB(l.k, l.m, transpose(l.w, l.m, l.k), l.m) })
	return l.p
}

func buildConv(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 3, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &convOp{w: parseWindow(&a, false, true, false)}
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

func (o *convOp) run(s *scratch, in, out []*tensor.Tensor) error {
	if o.pool == nil {
		_, err := o.conv(s, in, out[0], nil)
		return err
	}
	mid := s.midValue()
	pooled, err := o.conv(s, in, mid, out[0])
	if err != nil || pooled {
		return err
	}
	if s.inner == nil {
		s.inner = new(scratch)
	}
	s.args = [2]*tensor.Tensor{mid, out[0]}
	return o.pool.run(s.inner, s.args[:1], s.args[1:])
}

// conv computes the convolution into y. With pooled not nil, it may apply
// the fused pool itself, writing pooled instead of y, and then reports
// true.
func (o *convOp) conv(s *scratch, in []*tensor.Tensor, y, pooled *tensor.Tensor) (bool, error) {
	x, w := in[0], in[1]
	var b *tensor.Tensor
	if len(in) > 2 {
		b = in[2]
	}
	if x.DType != tensor.Float32 || w.DType != tensor.Float32 || (b != nil && b.DType != tensor.Float32) {
		return false, fmt.Errorf("want float32 inputs, got X %v, W %v", x.DType, w.DType)
	}
	n, c, sp, err := spatialOf(x, "X")
	if err != nil {
		return false, err
	}
	if w.Rank() != x.Rank() {
		return false, fmt.Errorf("W is %v, want rank %d to match X %v", w, x.Rank(), x)
	}
	m, cg := w.Shape[0], w.Shape[1]
	if cg*o.group != c || m%o.group != 0 {
		return false, fmt.Errorf("X %v and W %v do not match group %d", x, w, o.group)
	}
	kshape := w.Shape[2:]
	if o.w.kernel != nil {
		for i, k := range o.w.kernel {
			if i >= len(kshape) || kshape[i] != k {
				return false, fmt.Errorf("kernel_shape %v does not match W %v", o.w.kernel, w)
			}
		}
	}
	if b != nil && (b.Rank() != 1 || b.Shape[0] != m) {
		return false, fmt.Errorf("B is %v, want float32[%d]", b, m)
	}
	g, err := o.w.geometry(sp, kshape)
	if err != nil {
		return false, err
	}
	yshape := [maxSpatial + 2]int{n, m}
	copy(yshape[2:], g.out[:g.n])
	if err := checkAlloc(yshape[:g.n+2]...); err != nil {
		return false, err
	}

	K := cg * g.kSize() // rows of the im2col matrix
	P := g.outSize()    // columns: output positions
	mg := m / o.group
	direct := g.isIdentity() // 1x1 kernel, stride 1, no padding: im2col is X itself
	colSize := 0
	if !direct {
		colSize = K * P
		if err := checkAlloc(colSize); err != nil {
			return false, err
		}
	}
	args := convArgs{x: x.F32, w: w.F32, g: g, group: o.group, c: c, m: m, direct: direct, act: o.act}
	if b != nil {
		args.b = b.F32
	}
	if o.wpack != nil && o.group == 1 && o.wpack.M() == m && o.wpack.K() == K {
		args.wpack = o.wpack
	}
	sg, _ := g.conv2D(c) // one sample
	wideCols, isWide := sg.Wide()
	// Constant weights, packed at load: a convolution whose kernel covers
	// its input is a dense layer, and a stride-1 one reads its im2col
	// matrix in place, and applies a fused 2x2 pool itself.
	// (A 1x1 convolution of a 1x1 plane, as in squeeze-and-excitation
	// blocks, is a dense layer too.)
	packed := args.wpack != nil && !direct && g.n <= 2
	dense := args.wpack != nil && g.n <= 2 && g.coversInput()
	if args.wpack != nil && (dense || P < narrowCols) {
		args.wpackT = o.wpackT.get()
	}
	inPlace := packed && !dense && isWide && sg.WideInputSize() <= 1<<30
	var pg *geom
	if pooled != nil && inPlace && g.n == 2 {
		if g2, ok := o.pool.vector2x2(g.out[0], g.out[1]); ok {
			pg = &g2
		}
	}
	if pg != nil {
		resize(pooled, tensor.Float32, n, m, pg.out[0], pg.out[1])
		args.y = pooled.F32
	} else {
		resize(y, tensor.Float32, yshape[:g.n+2]...)
		args.y = y.F32
	}
	gsg := sg // one group of one sample
	gsg.C = cg
	_, groupWide := gsg.Wide()
	switch {
	case o.group > 1 && o.group == c && isWide2D(g) && K > 0:
		return false, depthwise(s, args, n, sg)
	case len(o.gpacks) == o.group && o.gpacks[0].M() == mg && o.gpacks[0].K() == K && g.n <= 2 && groupWide && gsg.WideInputSize() <= 1<<30:
		return false, groupsWide(s, args, o.gpacks, n, gsg)
	case dense:
		return false, args.dense(n)
	case inPlace:
		return pg != nil, runWide(s, args, n, sg, pg)
	}
	// Otherwise (weights not constant, mostly), im2col several samples
	// side by side and multiply them at once, so the weights are packed
	// once per block, not per sample: for small output planes, and for
	// every stride-1 convolution that im2col can lay out wide (see
	// kernel.ConvGeom.Wide).
	if bs := batchBlock(P); o.group == 1 && !direct && g.n <= 2 && K > 0 && P > 0 && n > 0 && (isWide || bs > 1 && n > 1) {
		pw, padSize := P, 0 // columns of one sample in the product; padded plane
		if isWide {
			pw, padSize = wideCols, sg.PaddedSize()
			bs = batchBlock(pw)
		}
		bs = min(bs, n)
		blocks := (n + bs - 1) / bs
		workers := batchWorkers(blocks, m*K*pw*bs)
		per := (K+m)*bs*pw + padSize + m*narrowCols
		if err := checkAlloc(workers * per); err != nil {
			return false, err
		}
		t := taskOf[convBlocks](s)
		*t = convBlocks{a: args, n: n, bs: bs, pw: pw, geom: sg, isWide: isWide, buf: s.floats(workers * per), per: per}
		err := parallelFor(s, blocks, workers, t)
		*t = convBlocks{}
		return false, err
	}
	// The (sample, group) pairs are split across the workers, so that a
	// grouped convolution keeps them busy at batch 1.
	items := n * o.group
	workers := batchWorkers(items, mg*K*P*items)
	var cols []float32
	if colSize > 0 {
		cols = s.floats(workers * colSize)
	}
	t := taskOf[convSamples](s)
	t.a, t.cols, t.colSize = args, cols, colSize
	if len(t.eps) < workers {
		t.eps = make([]convEpilogue, workers)
	}
	if workers == 1 {
		err = t.run(0, items, 0)
	} else {
		err = parallelFor(s, items, workers, t)
	}
	t.a, t.cols = convArgs{}, nil
	return false, err
}

// convSamples computes (sample, group) pairs, item i being sample
// i/group's group i%group, each worker with its own colSize part of cols
// for im2col and its own epilogue (kept between runs).
type convSamples struct {
	a       convArgs
	cols    []float32
	colSize int
	eps     []convEpilogue
}

func (t *convSamples) run(lo, hi, worker int) error {
	col := t.cols[worker*t.colSize : (worker+1)*t.colSize]
	for i := lo; i < hi; i++ {
		t.a.group1(i/t.a.group, i%t.a.group, col, &t.eps[worker])
	}
	return nil
}

// convEpilogue adds the bias and applies the activation to the blocks of
// one product as the matrix kernel finishes them (kernel.Epilogue), while
// they are still in cache, in place of a pass over all of the output for
// each.
type convEpilogue struct {
	y    []float32 // the product, rows p apart
	p    int
	bias []float32 // one a row, or nil
	act  *unaryOp
}

func (e *convEpilogue) Finish(i0, i1, j0, j1 int) {
	for i := i0; i < i1; i++ {
		row := e.y[i*e.p+j0 : i*e.p+j1]
		if e.bias != nil {
			kernel.AddConst(e.bias[i], row)
		}
		applyAct(e.act, row)
	}
}

// batchBlock is how many samples to multiply at once for output planes of
// p positions: enough for about 512 columns.
func batchBlock(p int) int {
	if p >= 256 {
		return 1
	}
	return (512 + p - 1) / p
}

// convBlocks computes samples [0, n) in blocks of bs, each worker with its
// own per floats of buf: col [K, bs*pw] then y [M, bs*pw] (pw columns a
// sample), then, for a wide layout with padding, one padded plane, then
// the scratch of product.
type convBlocks struct {
	a         convArgs
	n, bs, pw int
	geom      kernel.ConvGeom // of one sample, for the wide layout
	isWide    bool            // the wide layout (kernel.Im2colWide), else the plain one with pw = P
	buf       []float32
	per       int
}

// run computes blocks [lo, hi).
func (t *convBlocks) run(lo, hi, worker int) error {
	a, n, bs, pw := &t.a, t.n, t.bs, t.pw
	K, P, inSize := a.c*a.g.kSize(), a.g.outSize(), a.g.inSize()
	mine := t.buf[worker*t.per : (worker+1)*t.per]
	col, yb := mine[:K*bs*pw], mine[K*bs*pw:(K+a.m)*bs*pw]
	pad, narrow := mine[(K+a.m)*bs*pw:len(mine)-a.m*narrowCols], mine[len(mine)-a.m*narrowCols:]
	for blk := lo; blk < hi; blk++ {
		s0, s1 := blk*bs, min(n, (blk+1)*bs)
		cols := (s1 - s0) * pw
		for i := s0; i < s1; i++ {
			x := a.x[i*a.c*inSize : (i+1)*a.c*inSize]
			if t.isWide {
				kernel.Im2colWide(&t.geom, x, col[(i-s0)*pw:], cols, pad)
			} else {
				im2colStride(&a.g, x, a.c, col[(i-s0)*P:], cols)
			}
		}
		a.product(cols, col[:K*cols], 0, yb, narrow)
		if a.b != nil {
			kernel.AddBias(yb[:a.m*cols], a.b[:a.m], cols)
		}
		for i := s0; i < s1; i++ {
			for o := range a.m {
				src := yb[o*cols+(i-s0)*pw:]
				dst := a.y[(i*a.m+o)*P : (i*a.m+o+1)*P]
				if !t.isWide {
					copy(dst, src[:P])
				} else {
					t.geom.FromWide(dst, src)
				}
			}
		}
		applyAct(a.act, a.y[s0*a.m*P:s1*a.m*P])
	}
	return nil
}

// isWide2D reports whether the window has one or two spatial axes and an
// output (depthwise's and kernel.ConvGeom's cases).
func isWide2D(g geom) bool {
	return g.n <= 2 && g.outSize() > 0
}

// coversInput reports whether the window covers the whole unpadded input
// at one position: then the im2col column of a sample is the sample.
func (g *geom) coversInput() bool {
	for i := 0; i < g.n; i++ {
		if g.k[i] != g.in[i] || g.dil[i] != 1 || g.pad[i] != 0 || g.padEnd[i] != 0 {
			return false
		}
	}
	return true
}

// dense computes the n samples of a convolution whose kernel covers its
// input as a dense layer, Y [n, M] = X [n, K] · W^T, with the same sums
// as the product W · col.
func (a *convArgs) dense(n int) error {
	K := a.c * a.g.kSize()
	a.wpackT.Sgemm(false, n, 1, a.x, K, 0, a.y, a.m)
	if a.b != nil {
		kernel.AddBias(a.y[:n*a.m], a.b[:a.m], 1)
	}
	applyAct(a.act, a.y[:n*a.m])
	return nil
}

// runWide computes the n samples of a stride-1 convolution with packed
// weights one at a time, reading each sample's wide im2col matrix in
// place from its padded copy (kernel.PackedA.SgemmOffsets).
//
// With pg not nil, it applies the 2x2 pool of that geometry (see
// poolOp.vector2x2) to each sample's output while in cache, a.y being
// the pooled output.
func runWide(s *scratch, a convArgs, n int, sg kernel.ConvGeom, pg *geom) error {
	cols, _ := sg.Wide()
	ldc := kernel.TileCols(cols)
	srcSize, tile := sg.WideInputSize(), kernel.TileRows(a.m)*ldc
	per := srcSize + tile
	workers := batchWorkers(n, a.m*sg.ColRows()*cols)
	if err := checkAlloc(workers * per); err != nil {
		return err
	}
	// Fewer samples than processors: the workers share out each sample's
	// columns instead (same sums).
	procs := runtime.GOMAXPROCS(0)
	colBlocks := (ldc + kernel.OffsetsColStep - 1) / kernel.OffsetsColStep
	split := n < procs && colBlocks > 1 && a.m*sg.ColRows()*cols >= 1<<21
	if split {
		workers = 1
	}
	t := taskOf[convWide](s)
	t.offs = slices.Grow(t.offs[:0], sg.ColRows())[:sg.ColRows()]
	sg.WideOffsets(t.offs)
	t.a, t.geom, t.cols, t.ldc, t.buf, t.per, t.pooled = a, sg, cols, ldc, s.floats(workers*per), per, pg != nil
	if pg != nil {
		t.pool = *pg
	}
	var err error
	if split {
		t.split = wideCols{t: t}
		src, c := t.buf[:srcSize], t.buf[srcSize:per]
		for i := 0; i < n && err == nil; i++ {
			t.input(i, src)
			t.split.i = i
			if err = parallelFor(s, colBlocks, procs, &t.split); err == nil {
				t.finish(i, c)
			}
		}
	} else {
		err = parallelFor(s, n, workers, t)
	}
	t.a, t.buf, t.split = convArgs{}, nil, wideCols{}
	return err
}

// wideCols computes sample i of a convWide by blocks of columns of its
// product (kernel.OffsetsColStep wide), the bias and activation included,
// from the padded sample at the start of t.buf.
type wideCols struct {
	t *convWide
	i int
}

func (w *wideCols) run(lo, hi, worker int) error {
	t := w.t
	a, g := &t.a, &t.geom
	src, c := t.buf[:g.WideInputSize()], t.buf[g.WideInputSize():t.per]
	j0, j1 := lo*kernel.OffsetsColStep, min(hi*kernel.OffsetsColStep, t.ldc)
	a.wpack.SgemmOffsetsCols(t.cols, src, t.offs, c, t.ldc, j0, j1)
	for o := range a.m {
		row := c[o*t.ldc+j0 : o*t.ldc+j1]
		if a.b != nil {
			kernel.AddConst(a.b[o], row)
		}
		applyAct(a.act, row)
	}
	return nil
}

// convWide is runWide's task: each worker has per floats of buf, the
// padded sample then the tile-padded product [TileRows(M), ldc].
type convWide struct {
	a         convArgs
	geom      kernel.ConvGeom // of one sample
	offs      []int32         // the rows of the wide im2col matrix in the padded sample
	cols, ldc int             // wide columns, and the product's row stride
	buf       []float32
	per       int
	pool      geom // the fused pool, when pooled
	pooled    bool
	split     wideCols // the task over one sample's columns, when samples are few
}

// run computes samples [lo, hi).
func (t *convWide) run(lo, hi, worker int) error {
	a, g := &t.a, &t.geom
	mine := t.buf[worker*t.per : (worker+1)*t.per]
	src, c := mine[:g.WideInputSize()], mine[g.WideInputSize():]
	for i := lo; i < hi; i++ {
		t.input(i, src)
		a.wpack.SgemmOffsets(t.cols, src, t.offs, c, t.ldc)
		rows := c[:a.m*t.ldc]
		if a.b != nil {
			kernel.AddBias(rows, a.b[:a.m], t.ldc)
		}
		applyAct(a.act, rows)
		t.finish(i, c)
	}
	return nil
}

// input writes sample i padded into src.
func (t *convWide) input(i int, src []float32) {
	inSize := t.a.c * t.geom.H * t.geom.W
	t.geom.WideInput(t.a.x[i*inSize:(i+1)*inSize], src)
}

// finish writes sample i's output from its product c (bias and
// activation applied): pooled, or copied out of the wide layout.
func (t *convWide) finish(i int, c []float32) {
	a, g := &t.a, &t.geom
	rows := c[:a.m*t.ldc]
	if t.pooled {
		t.poolSample(rows, i)
		return
	}
	P := a.g.outSize()
	y := a.y[i*a.m*P : (i+1)*a.m*P]
	for o := range a.m {
		g.FromWide(y[o*P:(o+1)*P], rows[o*t.ldc:])
	}
}

// poolSample writes the pooled output of sample i from its rows of
// output in the product (row stride PaddedW within a channel), with
// pool2x2's kernels: the maximum at column stride 1, or the average at
// column stride 2.
func (t *convWide) poolSample(rows []float32, i int) {
	pg, pw := &t.pool, t.geom.PaddedW()
	poh, pow := pg.out[0], pg.out[1]
	plane := poh * pow
	y := t.a.y[i*t.a.m*plane : (i+1)*t.a.m*plane]
	for o := range t.a.m {
		dst, ch := y[o*plane:(o+1)*plane], rows[o*t.ldc:]
		if pg.stride[1] == 1 {
			kernel.MaxPool2Rows(dst, ch, poh, pow, pw, pg.stride[0]*pw)
		} else {
			kernel.AvgPool2Rows(dst, ch, poh, pow, pw, pg.stride[0]*pw)
		}
	}
}

// convArgs is one Conv computation with checked shapes.
type convArgs struct {
	x, w, b, y []float32
	g          geom
	group      int
	c, m       int             // input and output channels
	direct     bool            // the im2col matrix is the input itself
	act        *unaryOp        // applied to the output, or nil
	wpack      *kernel.PackedA // w packed, or nil
	wpackT     *kernel.PackedB // w transposed and packed, or nil
}

// narrowCols is the number of columns below which product multiplies
// the other way round.
const narrowCols = 16

// product sets y [M, n] = W · col [K, n] + beta*y for group 1.
//
// With fewer than narrowCols columns, beta 0 and the transposed weights
// packed, it computes Y^T = col^T · W^T into scratch (at least n*M floats)
// and transposes that: the matrix kernel's 16-column tiles would be mostly
// empty the other way round. The sums are the same, term for term.
func (a *convArgs) product(n int, col []float32, beta float32, y, scratch []float32) {
	if n < narrowCols && beta == 0 && a.wpackT != nil && len(scratch) >= n*a.m {
		t := scratch[:n*a.m]
		a.wpackT.Sgemm(true, n, 1, col, n, 0, t, a.m)
		for j := range n {
			for o, v := range t[j*a.m : (j+1)*a.m] {
				y[o*n+j] = v
			}
		}
		return
	}
	if a.wpack != nil {
		a.wpack.Sgemm(n, col, n, beta, y, n)
		return
	}
	K := a.c * a.g.kSize()
	kernel.Sgemm(false, false, a.m, n, K, 1, a.w, K, col, n, beta, y, n)
}

// group1 computes the output of group gi of sample i, using col for
// im2col. With packed weights and enough columns, the product runs with
// ep as its epilogue (the bias added after the sums); otherwise the
// output starts as the bias and gains the product.
func (a *convArgs) group1(i, gi int, col []float32, ep *convEpilogue) {
	cg, mg := a.c/a.group, a.m/a.group
	K, P, inSize := cg*a.g.kSize(), a.g.outSize(), a.g.inSize()
	xs := a.x[(i*a.c+gi*cg)*inSize : (i*a.c+(gi+1)*cg)*inSize]
	ys := a.y[(i*a.m+gi*mg)*P : (i*a.m+(gi+1)*mg)*P]
	ws := a.w[gi*mg*K : (gi+1)*mg*K]
	if a.wpack != nil && (P >= narrowCols || a.wpackT == nil) && P > 0 && K > 0 {
		src := xs
		if !a.direct {
			im2col(&a.g, xs, cg, col)
			src = col
		}
		*ep = convEpilogue{y: ys, p: P, act: a.act}
		if a.b != nil {
			ep.bias = a.b[gi*mg : (gi+1)*mg]
		}
		a.wpack.SgemmThen(P, src, P, ys, P, ep)
		*ep = convEpilogue{}
		return
	}
	var beta float32
	if a.b != nil {
		for r, bv := range a.b[gi*mg : (gi+1)*mg] {
			fill(ys[r*P:(r+1)*P], bv)
		}
		beta = 1
	} else if K == 0 {
		clear(ys)
	}
	if P > 0 && K > 0 && mg > 0 {
		src := xs
		if !a.direct {
			im2col(&a.g, xs, cg, col)
			src = col
		}
		if a.wpack != nil {
			a.product(P, src, beta, ys, nil)
		} else {
			kernel.Sgemm(false, false, mg, P, K, 1, ws, K, src, P, beta, ys, P)
		}
	}
	applyAct(a.act, ys)
}

// isIdentity reports whether the window maps each output position to the
// same input position with no padding (a 1x1 convolution).
func (g *geom) isIdentity() bool {
	for i := 0; i < g.n; i++ {
		if g.k[i] != 1 || g.stride[i] != 1 || g.pad[i] != 0 || g.padEnd[i] != 0 {
			return false
		}
	}
	return true
}

// im2col writes the (channels*kSize) x outSize matrix whose column p holds
// the input values under the window of output position p, zero where the
// window covers padding. x holds channels planes of inSize values.
func im2col[T float32 | int16](g *geom, x []T, channels int, col []T) {
	im2colStride(g, x, channels, col, g.outSize())
}

// im2colStride is im2col writing rows ld floats apart (1-D and 2-D only
// when ld differs from the output size): kernel.Im2col for one or two
// spatial axes.
func im2colStride[T float32 | int16](g *geom, x []T, channels int, col []T, ld int) {
	if cg, ok := g.conv2D(channels); ok {
		kernel.Im2col(&cg, x, col, ld)
		return
	}
	im2colND(g, x, channels, col)
}

// conv2D returns the geometry of one or two spatial axes (one: a height
// of 1) as a kernel.ConvGeom over channels planes, false for more axes.
func (g *geom) conv2D(channels int) (kernel.ConvGeom, bool) {
	cg := kernel.ConvGeom{C: channels, H: 1, KH: 1}
	switch g.n {
	case 1:
		cg.W, cg.KW, cg.StrideW, cg.DilationW, cg.PadLeft, cg.PadRight = g.in[0], g.k[0], g.stride[0], g.dil[0], g.pad[0], g.padEnd[0]
	case 2:
		cg.H, cg.KH, cg.StrideH, cg.DilationH, cg.PadTop, cg.PadBottom = g.in[0], g.k[0], g.stride[0], g.dil[0], g.pad[0], g.padEnd[0]
		cg.W, cg.KW, cg.StrideW, cg.DilationW, cg.PadLeft, cg.PadRight = g.in[1], g.k[1], g.stride[1], g.dil[1], g.pad[1], g.padEnd[1]
	default:
		return cg, false
	}
	return cg, true
}

// im2colND is im2col for any number of spatial axes, one element at a time.
func im2colND[T float32 | int16](g *geom, x []T, channels int, col []T) {
	n := g.n
	ks, p, inSize := g.kSize(), g.outSize(), g.inSize()
	var kpos, opos [maxSpatial]int
	for c := 0; c < channels; c++ {
		plane := x[c*inSize : (c+1)*inSize]
		for kk := 0; kk < ks; kk++ {
			// Decode kernel offset kk into per-axis positions.
			r := kk
			for i := n - 1; i >= 0; i-- {
				kpos[i] = r % g.k[i]
				r /= g.k[i]
			}
			dst := col[(c*ks+kk)*p : (c*ks+kk+1)*p]
			clear(opos[:n])
			for j := range dst {
				idx, ok := 0, true
				for i := 0; i < n; i++ {
					v := opos[i]*g.stride[i] - g.pad[i] + kpos[i]*g.dil[i]
					if v < 0 || v >= g.in[i] {
						ok = false
						break
					}
					idx = idx*g.in[i] + v
				}
				if ok {
					dst[j] = plane[idx]
				} else {
					dst[j] = 0
				}
				for i := n - 1; i >= 0; i-- {
					opos[i]++
					if opos[i] < g.out[i] {
						break
					}
					opos[i] = 0
				}
			}
		}
	}
}
