package infer

import (
	"fmt"
	"math"
	"slices"

	"github.com/onnxkit/onnxkit/internal/kernel"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// poolOp is MaxPool (opsets 1, 8, 10, 11, 12, 22; float32, float64, uint8,
// int8; optional Indices output) or AveragePool (opsets 1, 7, 10, 11, 19,
// 22; float32, float64) over 1 to maxSpatial spatial axes.
//
// Padding never contributes to a maximum. An average divides by the number
// of input elements under the window, or with count_include_pad by the
// number of window positions inside the explicitly padded input (as PyTorch
// does in ceil mode). A window lying entirely in padding yields 0.
type poolOp struct {
	max      bool
	w        window
	countPad bool    // AveragePool count_include_pad
	colMajor bool    // MaxPool storage_order 1: column-major Indices
	p        float64 // LpPool's p; 0 for the other pools
}

// buildLpPool is LpPool (opsets 1, 2, 11, 18, 22; float32, float64):
// (sum over the window of |x|^p)^(1/p), padding contributing nothing.
// Version 1 takes p as a float, 18 adds ceil_mode and dilations.
func buildLpPool(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &poolOp{w: parseWindow(&a, true, opset >= 18, opset >= 18)}
	if opset < 18 && a.has("ceil_mode") {
		a.fail("attribute \"ceil_mode\" is not supported by this opset version")
	}
	if opset < 2 {
		o.p = float64(a.float("p", 2))
	} else {
		o.p = float64(a.int("p", 2))
	}
	if a.err != nil {
		return nil, a.err
	}
	if !(o.p > 0) || math.IsInf(o.p, 0) {
		return nil, errorf(n, "attribute \"p\": want a positive value, got %v", o.p)
	}
	return o, nil
}

func buildMaxPool(n *onnx.Node, opset int64) (op, error) {
	maxOut := 1
	if opset >= 8 {
		maxOut = 2
	}
	if err := checkArity(n, 1, 1, maxOut); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &poolOp{max: true, w: parseWindow(&a, true, opset >= 10, opset >= 10)}
	if !(opset >= 10) && a.has("ceil_mode") {
		a.fail("attribute \"ceil_mode\" is not supported by this opset version")
	}
	switch so := a.int("storage_order", 0); {
	case so == 1 && opset >= 8:
		o.colMajor = true
	case so != 0:
		a.fail("attribute \"storage_order\": want 0 or 1, got %d", so)
	}
	if a.err != nil {
		return nil, a.err
	}
	return o, nil
}

func buildAveragePool(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &poolOp{w: parseWindow(&a, true, opset >= 19, opset >= 10)}
	if !(opset >= 10) && a.has("ceil_mode") {
		a.fail("attribute \"ceil_mode\" is not supported by this opset version")
	}
	switch c := a.int("count_include_pad", 0); c {
	case 0, 1:
		o.countPad = c == 1
	default:
		a.fail("attribute \"count_include_pad\": want 0 or 1, got %d", c)
	}
	if a.err != nil {
		return nil, a.err
	}
	return o, nil
}

func (o *poolOp) run(s *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	switch x.DType {
	case tensor.Float32, tensor.Float64:
	case tensor.Uint8, tensor.Int8:
		if !o.max || o.p > 0 {
			return fmt.Errorf("want a float input, got %v", x)
		}
	default:
		return fmt.Errorf("unsupported input %v", x)
	}
	n, c, sp, err := spatialOf(x, "X")
	if err != nil {
		return err
	}
	g, err := o.w.geometry(sp, o.w.kernel)
	if err != nil {
		return err
	}
	yshape := [maxSpatial + 2]int{n, c}
	copy(yshape[2:], g.out[:g.n])
	shape := yshape[:g.n+2]
	if err := checkAlloc(shape...); err != nil {
		return err
	}
	y := out[0]
	resize(y, x.DType, shape...)
	var idx []int64
	if len(out) > 1 {
		resize(out[1], tensor.Int64, shape...)
		idx = out[1].I64
	}
	planes := n * c
	if g2, ok := g.as2D(); ok && o.p == 0 {
		switch x.DType {
		case tensor.Float32:
			return pool2dRun(o, s, &g2, planes, x.F32, y.F32, idx)
		case tensor.Float64:
			return pool2dRun(o, s, &g2, planes, x.F64, y.F64, idx)
		case tensor.Uint8:
			return pool2dRun(o, s, &g2, planes, x.U8, y.U8, idx)
		case tensor.Int8:
			return pool2dRun(o, s, &g2, planes, x.I8, y.I8, idx)
		}
	}
	switch x.DType {
	case tensor.Float32:
		pool(o, &g, planes, x.F32, y.F32, idx)
	case tensor.Float64:
		pool(o, &g, planes, x.F64, y.F64, idx)
	case tensor.Uint8:
		pool(o, &g, planes, x.U8, y.U8, idx)
	case tensor.Int8:
		pool(o, &g, planes, x.I8, y.I8, idx)
	}
	return nil
}

// vector2x2 returns the geometry of the pool over planes of h x w when
// pool2x2's vector kernels compute it for float32 without Indices: a 2x2
// window always inside the input, the maximum at column stride 1 or the
// average at column stride 2.
func (o *poolOp) vector2x2(h, w int) (geom, bool) {
	g, err := o.w.geometry([]int{h, w}, o.w.kernel)
	ok := err == nil && g.n == 2 && g.k[0] == 2 && g.k[1] == 2 && g.dil[0] == 1 && g.dil[1] == 1 &&
		g.pad[0] == 0 && g.pad[1] == 0 && g.out[0] > 0 && g.out[1] > 0 &&
		(g.out[0]-1)*g.stride[0]+2 <= h && (g.out[1]-1)*g.stride[1]+2 <= w &&
		(o.max && g.stride[1] == 1 || !o.max && g.stride[1] == 2)
	return g, ok
}

// as2D returns the geometry as two spatial axes when it has one or two and
// no dilation: a 1-D window is a 2-D one of height 1 (same offsets and the
// same Indices in either storage order, since a row has one column-major
// order too).
func (g *geom) as2D() (geom, bool) {
	switch {
	case g.n == 2 && g.dil[0] == 1 && g.dil[1] == 1:
		return *g, true
	case g.n == 1 && g.dil[0] == 1:
		g2 := geom{n: 2}
		g2.in[0], g2.out[0], g2.k[0], g2.stride[0], g2.dil[0] = 1, 1, 1, 1, 1
		g2.in[1], g2.out[1], g2.k[1], g2.stride[1], g2.dil[1] = g.in[0], g.out[0], g.k[0], g.stride[0], 1
		g2.pad[1], g2.padEnd[1] = g.pad[0], g.padEnd[0]
		return g2, true
	}
	return geom{}, false
}

// pool2dRun is pool2d over planes planes, split across goroutines when the
// work is large enough.
func pool2dRun[T poolElem](o *poolOp, s *scratch, g *geom, planes int, x, y []T, idx []int64) error {
	workers := batchWorkers(planes, planes*g.outSize()*g.kSize())
	if workers <= 1 {
		pool2d(o, g, 0, planes, x, y, idx)
		return nil
	}
	t := taskOf[pool2dTask[T]](s)
	*t = pool2dTask[T]{o: o, g: *g, x: x, y: y, idx: idx}
	err := parallelFor(s, planes, workers, t)
	*t = pool2dTask[T]{}
	return err
}

// pool2dTask is pool2d over a range of planes.
type pool2dTask[T poolElem] struct {
	o    *poolOp
	g    geom
	x, y []T
	idx  []int64
}

func (t *pool2dTask[T]) run(lo, hi, _ int) error {
	pool2d(t.o, &t.g, lo, hi, t.x, t.y, t.idx)
	return nil
}

// pool2d is pool for planes [p0, p1) of two spatial axes without dilation:
// the same results, with the window bounds worked out once per row and
// column instead of per element, and no N-D iterator in the inner loop.
func pool2d[T poolElem](o *poolOp, g *geom, p0, p1 int, x, y []T, idx []int64) {
	h, w, oh, ow := g.in[0], g.in[1], g.out[0], g.out[1]
	kh, kw, sh, sw := g.k[0], g.k[1], g.stride[0], g.stride[1]
	if kh == 2 && kw == 2 && idx == nil && g.pad[0] == 0 && g.pad[1] == 0 &&
		(oh-1)*sh+2 <= h && (ow-1)*sw+2 <= w {
		pool2x2(o.max, h, w, oh, ow, sh, sw, x[p0*h*w:p1*h*w], y[p0*oh*ow:p1*oh*ow])
		return
	}
	// Float32 max pooling: the windows inside the input, [iy0, iy1) x
	// [ix0, ix1) of the output, by kernel.MaxRows a tap at a time (the
	// same comparisons in the same order); the others below.
	iy0, iy1, ix0, ix1 := 0, 0, 0, 0
	xf, vec := any(x).([]float32)
	if vec = vec && o.max && idx == nil; vec {
		iy0, iy1 = inside(g.pad[0], sh, kh, h, oh)
		ix0, ix1 = inside(g.pad[1], sw, kw, w, ow)
		vec = iy0 < iy1 && ix0 < ix1
	}
	for p := p0; p < p1; p++ {
		xs, ys := x[p*h*w:(p+1)*h*w], y[p*oh*ow:(p+1)*oh*ow]
		if vec {
			yf := any(ys).([]float32)[iy0*ow+ix0:]
			for ky := range kh {
				for kx := range kw {
					src := xf[p*h*w+(iy0*sh-g.pad[0]+ky)*w+ix0*sw-g.pad[1]+kx:]
					if ky == 0 && kx == 0 {
						for r := range iy1 - iy0 {
							if sw == 1 {
								copy(yf[r*ow:r*ow+ix1-ix0], src[r*sh*w:])
								continue
							}
							for i := range ix1 - ix0 {
								yf[r*ow+i] = src[r*sh*w+i*sw]
							}
						}
						continue
					}
					kernel.MaxRows(src, sh*w, sw, yf, ow, iy1-iy0, ix1-ix0)
				}
			}
		}
		for oy := range oh {
			y0 := oy*sh - g.pad[0]
			r0, r1 := max(y0, 0), min(y0+kh, h)
			rowsPadded := min(y0+kh, h+g.padEnd[0]) - max(y0, -g.pad[0])
			for ox := 0; ox < ow; ox++ {
				if vec && ox == ix0 && oy >= iy0 && oy < iy1 {
					ox = ix1 - 1 // done above
					continue
				}
				x0 := ox*sw - g.pad[1]
				c0, c1 := max(x0, 0), min(x0+kw, w)
				var res T
				best := -1 // row-major offset of the maximum within the plane
				if r0 < r1 && c0 < c1 {
					switch {
					case o.max && idx == nil:
						res = xs[r0*w+c0]
						for r := r0; r < r1; r++ {
							for _, v := range xs[r*w+c0 : r*w+c1] {
								if v > res {
									res = v
								}
							}
						}
					case o.max:
						best = r0*w + c0
						res = xs[best]
						for r := r0; r < r1; r++ {
							for i, v := range xs[r*w+c0 : r*w+c1] {
								if v > res {
									res, best = v, r*w+c0+i
								}
							}
						}
					default:
						var sum float64
						for r := r0; r < r1; r++ {
							for _, v := range xs[r*w+c0 : r*w+c1] {
								sum += float64(v)
							}
						}
						cnt := (r1 - r0) * (c1 - c0)
						if o.countPad {
							cnt = rowsPadded * (min(x0+kw, w+g.padEnd[1]) - max(x0, -g.pad[1]))
						}
						res = T(sum / float64(cnt))
					}
				}
				j := oy*ow + ox
				ys[j] = res
				if idx != nil {
					if o.colMajor && best >= 0 {
						best = best%w*h + best/w
					}
					idx[p*oh*ow+j] = int64(p*h*w + best)
				}
			}
		}
	}
}

// inside returns the outputs [o0, o1) along an axis whose windows (k
// inputs, stride s, pad before) lie inside its n inputs, of out outputs.
func inside(pad, s, k, n, out int) (o0, o1 int) {
	o0 = (pad + s - 1) / s
	if n-k+pad < 0 {
		return o0, o0
	}
	return o0, min(out, (n-k+pad)/s+1)
}

// pool2x2 is pool2d for 2x2 windows that all lie inside the input, the
// most common pooling of all, with the same results: the maximum, or the
// sum in float64 from 0 in row-major order divided by 4 (the vector
// kernels for float32 max pooling at stride 1 and average pooling at
// stride 2).
func pool2x2[T poolElem](isMax bool, h, w, oh, ow, sh, sw int, x, y []T) {
	planes := len(y) / (oh * ow)
	if xf, ok := any(x).([]float32); ok && (isMax && sw == 1 || !isMax && sw == 2) {
		yf := any(y).([]float32)
		for p := range planes {
			xs, ys := xf[p*h*w:(p+1)*h*w], yf[p*oh*ow:(p+1)*oh*ow]
			if isMax {
				kernel.MaxPool2Rows(ys, xs, oh, ow, w, sh*w)
			} else {
				kernel.AvgPool2Rows(ys, xs, oh, ow, w, sh*w)
			}
		}
		return
	}
	for p := range planes {
		xs, ys := x[p*h*w:(p+1)*h*w], y[p*oh*ow:(p+1)*oh*ow]
		for oy := range oh {
			r0 := xs[oy*sh*w : oy*sh*w+w]
			r1 := xs[(oy*sh+1)*w : (oy*sh+2)*w]
			d := ys[oy*ow : (oy+1)*ow]
			for ox := range d {
				c := ox * sw
				a, b, e, f := r0[c], r0[c+1], r1[c], r1[c+1]
				if isMax {
					m := a
					if b > m {
						m = b
					}
					if e > m {
						m = e
					}
					if f > m {
						m = f
					}
					d[ox] = m
					continue
				}
				var sum float64
				sum += float64(a)
				sum += float64(b)
				sum += float64(e)
				sum += float64(f)
				d[ox] = T(sum / 4)
			}
		}
	}
}

type poolElem interface {
	~float32 | ~float64 | ~uint8 | ~int8
}

// validRange returns the kernel indices [lo, hi) of a window starting at
// start with dilation d and k taps that fall inside [0, size).
func validRange(start, d, k, size int) (lo, hi int) {
	if start < 0 {
		lo = ceilDiv(-start, d)
	}
	if last := size - 1 - start; last >= 0 {
		hi = min(k, last/d+1)
	}
	return min(lo, k), max(hi, min(lo, k))
}

// pool pools planes planes of x into y (and the flat input index of each
// maximum into idx when idx is not nil).
func pool[T poolElem](o *poolOp, g *geom, planes int, x, y []T, idx []int64) {
	n := g.n
	inSize, outSize := g.inSize(), g.outSize()
	var opos, lo, hi, kpos, start [maxSpatial]int
	for p := 0; p < planes; p++ {
		xs := x[p*inSize : (p+1)*inSize]
		ys := y[p*outSize : (p+1)*outSize]
		clear(opos[:n])
		for j := range ys {
			empty := false
			count := 1 // window positions inside the padded input
			for i := 0; i < n; i++ {
				start[i] = opos[i]*g.stride[i] - g.pad[i]
				lo[i], hi[i] = validRange(start[i], g.dil[i], g.k[i], g.in[i])
				if lo[i] >= hi[i] {
					empty = true
				}
				if o.countPad {
					l, h := validRange(start[i]+g.pad[i], g.dil[i], g.k[i], g.in[i]+g.pad[i]+g.padEnd[i])
					count *= h - l
				}
			}
			var res T
			best := -1 // row-major offset of the maximum within the plane
			if !empty {
				copy(kpos[:n], lo[:n])
				var sum float64
				cnt := 0
				for {
					off := 0
					for i := 0; i < n; i++ {
						off = off*g.in[i] + start[i] + kpos[i]*g.dil[i]
					}
					v := xs[off]
					if o.max {
						if best < 0 || v > res {
							res, best = v, off
						}
					} else if o.p > 0 {
						sum += math.Pow(math.Abs(float64(v)), o.p)
					} else {
						sum += float64(v)
						cnt++
					}
					i := n - 1
					for ; i >= 0; i-- {
						kpos[i]++
						if kpos[i] < hi[i] {
							break
						}
						kpos[i] = lo[i]
					}
					if i < 0 {
						break
					}
				}
				if o.p > 0 {
					res = T(math.Pow(sum, 1/o.p))
				} else if !o.max {
					if o.countPad {
						cnt = count
					}
					res = T(sum / float64(cnt))
				}
			}
			ys[j] = res
			if idx != nil {
				idx[p*outSize+j] = int64(p*inSize + flatIndex(g, best, o.colMajor))
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

// flatIndex converts a row-major offset within a plane to the layout of
// MaxPool's Indices output (row- or column-major). off < 0 stays as is.
func flatIndex(g *geom, off int, colMajor bool) int {
	if !colMajor || off < 0 {
		return off
	}
	var pos [maxSpatial]int
	for i := g.n - 1; i >= 0; i-- {
		pos[i] = off % g.in[i]
		off /= g.in[i]
	}
	res := 0
	for i := g.n - 1; i >= 0; i-- {
		res = res*g.in[i] + pos[i]
	}
	return res
}

// globalPoolOp is GlobalAveragePool or GlobalMaxPool (opsets 1, 22; float32,
// float64): one value per sample and channel, keeping the spatial axes as 1.
type globalPoolOp struct{ max bool }

func buildGlobalAveragePool(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	return &globalPoolOp{}, nil
}

func buildGlobalMaxPool(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	return &globalPoolOp{max: true}, nil
}

func (o *globalPoolOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if x.DType != tensor.Float32 && x.DType != tensor.Float64 {
		return fmt.Errorf("want a float input, got %v", x)
	}
	n, c, sp, err := spatialOf(x, "X")
	if err != nil {
		return err
	}
	var yshape [maxSpatial + 2]int
	for i := range yshape {
		yshape[i] = 1
	}
	yshape[0], yshape[1] = n, c
	resize(out[0], x.DType, yshape[:len(sp)+2]...)
	size := prod(sp)
	if x.DType == tensor.Float32 {
		globalPool(o.max, n*c, size, x.F32, out[0].F32)
	} else {
		globalPool(o.max, n*c, size, x.F64, out[0].F64)
	}
	return nil
}

func globalPool[T ~float32 | ~float64](isMax bool, planes, size int, x, y []T) {
	for p := range planes {
		xs := x[p*size : (p+1)*size]
		if isMax {
			m := T(math.Inf(-1))
			for _, v := range xs {
				m = max(m, v)
			}
			y[p] = m
			continue
		}
		var sum float64
		for _, v := range xs {
			sum += float64(v)
		}
		y[p] = T(sum / float64(size))
	}
}

// maxUnpoolOp is MaxUnpool (opsets 9, 11, 22; float32, float64): a zero
// tensor of output_shape (or of the shape the window attributes invert
// MaxPool to) with X scattered to the flat positions in I.
type maxUnpoolOp struct {
	n *onnx.Node
	w window
}

func buildMaxUnpool(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 3, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	if a.has("auto_pad") || a.has("dilations") || a.has("ceil_mode") {
		return nil, errorf(n, "MaxUnpool takes only kernel_shape, pads and strides")
	}
	o := &maxUnpoolOp{n: n, w: parseWindow(&a, true, false, false)}
	if a.err != nil {
		return nil, a.err
	}
	return o, nil
}

func (o *maxUnpoolOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, ix, osh := in[0], in[1], input(in, 2)
	if x.DType != tensor.Float32 && x.DType != tensor.Float64 {
		return fmt.Errorf("input X: want float32 or float64, got %v", x.DType)
	}
	if ix.DType != tensor.Int64 || !slices.Equal(ix.Shape, x.Shape) {
		return fmt.Errorf("input I: want int64 of X's shape %v, got %v", x.Shape, ix)
	}
	n, c, sp, err := spatialOf(x, "X")
	if err != nil {
		return err
	}
	r := len(sp)
	k, st, pads := o.w.kernel, o.w.strides, o.w.pads
	if len(k) != r || (st != nil && len(st) != r) || (pads != nil && len(pads) != 2*r) {
		return fmt.Errorf("attributes kernel_shape %v, strides %v, pads %v: want %d spatial axes", k, st, pads, r)
	}
	// The default shape inverts MaxPool's; I indexes it. An output_shape
	// pads it with zeros at the end of each spatial axis.
	def := []int{n, c}
	for i, d := range sp {
		s := 1
		if st != nil {
			s = st[i]
		}
		e := (d-1)*s + k[i]
		if pads != nil {
			e -= pads[i] + pads[i+r]
		}
		if e < 0 {
			return fmt.Errorf("output spatial size %d of axis %d is negative", e, i)
		}
		def = append(def, e)
	}
	shape := def
	if osh != nil {
		v, err := intValues(o.n, osh, "output_shape")
		if err != nil {
			return err
		}
		if len(v) != r+2 {
			return fmt.Errorf("input output_shape: want %d values, got %v", r+2, v)
		}
		shape = make([]int, r+2)
		for i, d := range v {
			if d < int64(def[i]) || d > int64(maxElements) || (i < 2 && int(d) != def[i]) {
				return fmt.Errorf("input output_shape %v: want at least %v", v, def)
			}
			shape[i] = int(d)
		}
	}
	if err := checkAlloc(shape...); err != nil {
		return err
	}
	resize(out[0], x.DType, shape...)
	y := out[0]
	total := prod(def)
	if x.DType == tensor.Float32 {
		clear(y.F32)
	} else {
		clear(y.F64)
	}
	for i, p := range ix.I64 {
		if p < 0 || p >= int64(total) {
			return fmt.Errorf("input I: index %d out of range [0, %d)", p, total)
		}
		// Re-index p from the default shape to the output's.
		q, mul, rest := 0, 1, int(p)
		for d := len(def) - 1; d >= 0; d-- {
			q += rest % def[d] * mul
			rest /= def[d]
			mul *= shape[d]
		}
		if x.DType == tensor.Float32 {
			y.F32[q] = x.F32[i]
		} else {
			y.F64[q] = x.F64[i]
		}
	}
	return nil
}

// col2imOp is Col2Im (opset 18; float32, float64): the inverse of im2col,
// summing each column of block values into the padded image.
type col2imOp struct {
	n                        *onnx.Node
	dilations, pads, strides []int64
}

func buildCol2Im(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 3, 3, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &col2imOp{n: n, dilations: a.ints("dilations", -1, nil), pads: a.ints("pads", -1, nil), strides: a.ints("strides", -1, nil)}
	if a.err != nil {
		return nil, a.err
	}
	return o, nil
}

func (o *col2imOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if x.DType != tensor.Float32 && x.DType != tensor.Float64 {
		return fmt.Errorf("input input: want float32 or float64, got %v", x.DType)
	}
	img, err := intValues(o.n, in[1], "image_shape")
	if err != nil {
		return err
	}
	blk, err := intValues(o.n, in[2], "block_shape")
	if err != nil {
		return err
	}
	r := len(img)
	if r == 0 || r > maxSpatial || len(blk) != r || x.Rank() != 3 {
		return fmt.Errorf("inputs image_shape %v, block_shape %v, input %v: want r > 0 values each and a 3-D input", img, blk, x.Shape)
	}
	attr := func(v []int64, n int, def int64, name string) ([]int, error) {
		res := make([]int, n)
		for i := range res {
			res[i] = int(def)
			if v != nil {
				if len(v) != n {
					return nil, fmt.Errorf("attribute %q: want %d values, got %d", name, n, len(v))
				}
				res[i] = int(v[i])
			}
		}
		return res, nil
	}
	dil, err := attr(o.dilations, r, 1, "dilations")
	if err != nil {
		return err
	}
	st, err := attr(o.strides, r, 1, "strides")
	if err != nil {
		return err
	}
	pd, err := attr(o.pads, 2*r, 0, "pads")
	if err != nil {
		return err
	}
	shape := []int{x.Shape[0], 0}
	var im, bk, cnt [maxSpatial]int
	blocks, cols := 1, 1
	for i := range r {
		if img[i] < 0 || img[i] > 1<<30 || blk[i] <= 0 || blk[i] > 1<<30 || dil[i] <= 0 || st[i] <= 0 || pd[i] < 0 || pd[i+r] < 0 {
			return fmt.Errorf("axis %d: bad image %d, block %d, dilation %d, stride %d or pads", i, img[i], blk[i], dil[i], st[i])
		}
		im[i], bk[i] = int(img[i]), int(blk[i])
		span := dil[i]*(bk[i]-1) + 1
		cnt[i] = (im[i]+pd[i]+pd[i+r]-span)/st[i] + 1
		if cnt[i] < 0 {
			cnt[i] = 0
		}
		blocks *= bk[i]
		cols *= cnt[i]
		if blocks > x.Shape[1] || cols > x.Shape[2] {
			return fmt.Errorf("input input %v: too few rows or columns for blocks %v", x.Shape, blk)
		}
		shape = append(shape, im[i])
	}
	if x.Shape[1]%blocks != 0 || x.Shape[2] != cols {
		return fmt.Errorf("input input %v: want (N, C*%d, %d)", x.Shape, blocks, cols)
	}
	shape[1] = x.Shape[1] / blocks
	if err := checkAlloc(shape...); err != nil {
		return err
	}
	resize(out[0], x.DType, shape...)
	y := out[0]
	imSize := prod(shape[2:])
	planes := shape[0] * shape[1]
	if x.DType == tensor.Float32 {
		clear(y.F32)
	} else {
		clear(y.F64)
	}
	var kp, cp [maxSpatial]int
	for p := range planes {
		for b := range blocks {
			rest := b
			for i := r - 1; i >= 0; i-- {
				kp[i], rest = rest%bk[i], rest/bk[i]
			}
			for l := range cols {
				rest, off, ok := l, 0, true
				for i := r - 1; i >= 0; i-- {
					cp[i], rest = rest%cnt[i], rest/cnt[i]
				}
				for i := range r {
					pos := cp[i]*st[i] - pd[i] + kp[i]*dil[i]
					if pos < 0 || pos >= im[i] {
						ok = false
						break
					}
					off = off*im[i] + pos
				}
				if !ok {
					continue
				}
				src := (p*blocks+b)*cols + l
				if x.DType == tensor.Float32 {
					y.F32[p*imSize+off] += x.F32[src]
				} else {
					y.F64[p*imSize+off] += x.F64[src]
				}
			}
		}
	}
	return nil
}
