package train

import (
	"fmt"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// pool2dGeom is the shared geometry of the pooling layers: square windows
// of K, stride S, padding Pad on every side (MaxPool2d only), floor
// rounding (PyTorch's defaults with ceil_mode false).
type pool2dGeom struct {
	name               string
	K, Stride, Pad     int
	n, c, h, w, oh, ow int
}

func (g *pool2dGeom) setInput(x *tensor.Tensor) {
	checkRank(g.name, "input", x, 4)
	g.n, g.c, g.h, g.w = x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	if g.h+2*g.Pad < g.K || g.w+2*g.Pad < g.K {
		panic(fmt.Sprintf("train: layer %q: input %v is smaller than the %dx%d window", g.name, x, g.K, g.K))
	}
	g.oh, g.ow = (g.h+2*g.Pad-g.K)/g.Stride+1, (g.w+2*g.Pad-g.K)/g.Stride+1
}

// OutShape returns [C, OH, OW] for an input sample [C, H, W], with
// OH = (H + 2 Pad - K)/Stride + 1 (likewise OW).
func (g *pool2dGeom) OutShape(in []int) ([]int, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("input [%s], want [C, H, W]", tensor.ShapeString(in))
	}
	if in[1]+2*g.Pad < g.K || in[2]+2*g.Pad < g.K {
		return nil, fmt.Errorf("input [%s] is smaller than the %dx%d window", tensor.ShapeString(in), g.K, g.K)
	}
	return []int{in[0], (in[1]+2*g.Pad-g.K)/g.Stride + 1, (in[2]+2*g.Pad-g.K)/g.Stride + 1}, nil
}

// attrs returns the pooling's ONNX attributes.
func (g *pool2dGeom) attrs() []*onnx.Attribute {
	return []*onnx.Attribute{intAttr("ceil_mode", 0), ints("kernel_shape", g.K, g.K),
		ints("pads", g.Pad, g.Pad, g.Pad, g.Pad), ints("strides", g.Stride, g.Stride)}
}

// Name returns the layer's name.
func (g *pool2dGeom) Name() string { return g.name }

// Params returns nil: pooling has no parameters.
func (g *pool2dGeom) Params() []*Param { return nil }

// MaxPool2d takes the maximum over K x K windows moved by Stride, like
// torch.nn.MaxPool2d(K, Stride, Pad) (any stride, including the CNN's 1;
// padding is left out of the maximum).
type MaxPool2d struct {
	pool2dGeom
	x     *tensor.Tensor
	dy    *tensor.Tensor
	y, dx tensor.Tensor
	arg   []int32 // [N, C, OH, OW]: offset of the maximum inside its input plane
	fwd   chunkFunc
	bwd   chunkFunc
}

// NewMaxPool2d returns a max pooling layer without padding.
func NewMaxPool2d(name string, k, stride int) *MaxPool2d { return NewMaxPool2dPad(name, k, stride, 0) }

// NewMaxPool2dPad returns a max pooling layer with padding pad on every
// side. It panics unless kernel and stride are positive and 0 <= pad <=
// k/2 (PyTorch's limit, so that every window holds an input element).
func NewMaxPool2dPad(name string, k, stride, pad int) *MaxPool2d {
	if k <= 0 || stride <= 0 || pad < 0 || pad > k/2 {
		panic(fmt.Sprintf("train: NewMaxPool2d(%q, %d, %d, pad %d): kernel and stride must be positive, pad in [0, k/2]", name, k, stride, pad))
	}
	p := &MaxPool2d{pool2dGeom: pool2dGeom{name: name, K: k, Stride: stride, Pad: pad}}
	p.fwd, p.bwd = p.forwardChunk, p.backwardChunk
	return p
}

// Forward computes y [N, C, OH, OW] from x [N, C, H, W], with
// OH = (H - K)/Stride + 1 (likewise OW). Among equal maxima the first in
// row-major order wins, as in PyTorch; NaN propagates.
func (p *MaxPool2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	p.setInput(x)
	p.x = x
	p.y.Resize(tensor.Float32, p.n, p.c, p.oh, p.ow)
	if n := p.n * p.c * p.oh * p.ow; cap(p.arg) >= n {
		p.arg = p.arg[:n]
	} else {
		p.arg = make([]int32, n)
	}
	pool().run(p.n, chunkSize(p.n), p.fwd)
	return &p.y
}

func (p *MaxPool2d) forwardChunk(_, _, lo, hi int) {
	if p.Pad > 0 {
		p.forwardPadded(lo, hi)
		return
	}
	hw, ohw := p.h*p.w, p.oh*p.ow
	for pl := lo * p.c; pl < hi*p.c; pl++ {
		x := p.x.F32[pl*hw : (pl+1)*hw]
		y := p.y.F32[pl*ohw : (pl+1)*ohw]
		arg := p.arg[pl*ohw : (pl+1)*ohw]
		if p.K == 2 && p.Stride == 2 {
			p.forward2x2(x, y, arg)
			continue
		}
		for oh := range p.oh {
			for ow := range p.ow {
				h0, w0 := oh*p.Stride, ow*p.Stride
				best := h0*p.w + w0
				m := x[best]
				for kh := range p.K {
					r := (h0+kh)*p.w + w0
					for kw := range p.K {
						if v := x[r+kw]; v > m || (v != v && m == m) {
							m, best = v, r+kw
						}
					}
				}
				y[oh*p.ow+ow] = m
				arg[oh*p.ow+ow] = int32(best)
			}
		}
	}
}

// forwardPadded is forwardChunk with padding: each window is clipped to
// the input.
func (p *MaxPool2d) forwardPadded(lo, hi int) {
	hw, ohw := p.h*p.w, p.oh*p.ow
	for pl := lo * p.c; pl < hi*p.c; pl++ {
		x := p.x.F32[pl*hw : (pl+1)*hw]
		y := p.y.F32[pl*ohw : (pl+1)*ohw]
		arg := p.arg[pl*ohw : (pl+1)*ohw]
		for oh := range p.oh {
			h0 := oh*p.Stride - p.Pad
			h1 := min(h0+p.K, p.h)
			h0 = max(h0, 0)
			for ow := range p.ow {
				w0 := ow*p.Stride - p.Pad
				w1 := min(w0+p.K, p.w)
				w0 = max(w0, 0)
				best := h0*p.w + w0
				m := x[best]
				for r := h0; r < h1; r++ {
					for c := w0; c < w1; c++ {
						if v := x[r*p.w+c]; v > m || (v != v && m == m) {
							m, best = v, r*p.w+c
						}
					}
				}
				y[oh*p.ow+ow] = m
				arg[oh*p.ow+ow] = int32(best)
			}
		}
	}
}

// forward2x2 is forwardChunk's loop for one plane with 2x2 windows and
// stride 2 (the usual halving), with the same comparisons unrolled.
func (p *MaxPool2d) forward2x2(x, y []float32, arg []int32) {
	for oh := range p.oh {
		r0 := 2 * oh * p.w
		r1 := r0 + p.w
		top, bot := x[r0:r0+2*p.ow], x[r1:r1+2*p.ow]
		yr, ar := y[oh*p.ow:(oh+1)*p.ow], arg[oh*p.ow:(oh+1)*p.ow]
		for ow := range yr {
			j := 2 * ow
			m, best := top[j], r0+j
			if v := top[j+1]; v > m || (v != v && m == m) {
				m, best = v, r0+j+1
			}
			if v := bot[j]; v > m || (v != v && m == m) {
				m, best = v, r1+j
			}
			if v := bot[j+1]; v > m || (v != v && m == m) {
				m, best = v, r1+j+1
			}
			yr[ow], ar[ow] = m, int32(best)
		}
	}
}

// exportONNX writes a MaxPool.
func (p *MaxPool2d) exportONNX(e *exporter, in string) string {
	return e.node(p.name, "MaxPool", p.attrs(), in)
}

// exportONNX writes an AveragePool (pads 0, so without PyTorch's separate
// Pad).
func (p *AvgPool2d) exportONNX(e *exporter, in string) string {
	a := p.attrs()
	a = append(a[:1], append([]*onnx.Attribute{intAttr("count_include_pad", 0)}, a[1:]...)...)
	return e.node(p.name, "AveragePool", a, in)
}

// Backward takes dy [N, C, OH, OW] and returns dx [N, C, H, W]: each dy
// goes to the position of its window's maximum (summed where windows
// overlap).
func (p *MaxPool2d) Backward(dy *tensor.Tensor) *tensor.Tensor {
	if p.x == nil {
		panic("train: layer " + p.name + ": Backward before Forward")
	}
	checkSame(p.name, "output gradient", dy, p.y.Shape)
	p.dy = dy
	p.dx.Resize(tensor.Float32, p.n, p.c, p.h, p.w)
	pool().run(p.n, chunkSize(p.n), p.bwd)
	p.dy = nil
	return &p.dx
}

func (p *MaxPool2d) backwardChunk(_, _, lo, hi int) {
	hw, ohw := p.h*p.w, p.oh*p.ow
	for pl := lo * p.c; pl < hi*p.c; pl++ {
		dx := p.dx.F32[pl*hw : (pl+1)*hw]
		clear(dx)
		dy := p.dy.F32[pl*ohw : (pl+1)*ohw]
		for i, a := range p.arg[pl*ohw : (pl+1)*ohw] {
			dx[a] += dy[i]
		}
	}
}

// AvgPool2d averages K x K windows moved by Stride, like
// torch.nn.AvgPool2d(K, Stride) with padding 0.
type AvgPool2d struct {
	pool2dGeom
	dy    *tensor.Tensor
	x     *tensor.Tensor
	y, dx tensor.Tensor
	fwd   chunkFunc
	bwd   chunkFunc
}

// NewAvgPool2d returns an average pooling layer.
func NewAvgPool2d(name string, k, stride int) *AvgPool2d {
	if k <= 0 || stride <= 0 {
		panic(fmt.Sprintf("train: NewAvgPool2d(%q, %d, %d): kernel and stride must be positive", name, k, stride))
	}
	p := &AvgPool2d{pool2dGeom: pool2dGeom{name: name, K: k, Stride: stride}}
	p.fwd, p.bwd = p.forwardChunk, p.backwardChunk
	return p
}

// Forward computes y [N, C, OH, OW] from x [N, C, H, W], with
// OH = (H - K)/Stride + 1 (likewise OW).
func (p *AvgPool2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	p.setInput(x)
	p.x = x
	p.y.Resize(tensor.Float32, p.n, p.c, p.oh, p.ow)
	pool().run(p.n, chunkSize(p.n), p.fwd)
	return &p.y
}

func (p *AvgPool2d) forwardChunk(_, _, lo, hi int) {
	hw, ohw := p.h*p.w, p.oh*p.ow
	div := float32(p.K * p.K)
	for pl := lo * p.c; pl < hi*p.c; pl++ {
		x := p.x.F32[pl*hw : (pl+1)*hw]
		y := p.y.F32[pl*ohw : (pl+1)*ohw]
		if p.K == 2 {
			// The same sums, unrolled.
			for oh := range p.oh {
				r0 := x[oh*p.Stride*p.w : (oh*p.Stride+1)*p.w]
				r1 := x[(oh*p.Stride+1)*p.w : (oh*p.Stride+2)*p.w]
				d := y[oh*p.ow : (oh+1)*p.ow]
				for ow := range d {
					c := ow * p.Stride
					var s float32
					s += r0[c]
					s += r0[c+1]
					s += r1[c]
					s += r1[c+1]
					d[ow] = s / div
				}
			}
			continue
		}
		for oh := range p.oh {
			for ow := range p.ow {
				var s float32
				for kh := range p.K {
					r := x[(oh*p.Stride+kh)*p.w+ow*p.Stride:]
					for _, v := range r[:p.K] {
						s += v
					}
				}
				y[oh*p.ow+ow] = s / div
			}
		}
	}
}

// Backward takes dy [N, C, OH, OW] and returns dx [N, C, H, W]: each dy,
// divided by K*K, goes to every position of its window.
func (p *AvgPool2d) Backward(dy *tensor.Tensor) *tensor.Tensor {
	if p.x == nil {
		panic("train: layer " + p.name + ": Backward before Forward")
	}
	checkSame(p.name, "output gradient", dy, p.y.Shape)
	p.dy = dy
	p.dx.Resize(tensor.Float32, p.n, p.c, p.h, p.w)
	pool().run(p.n, chunkSize(p.n), p.bwd)
	p.dy = nil
	return &p.dx
}

func (p *AvgPool2d) backwardChunk(_, _, lo, hi int) {
	hw, ohw := p.h*p.w, p.oh*p.ow
	div := float32(p.K * p.K)
	for pl := lo * p.c; pl < hi*p.c; pl++ {
		dx := p.dx.F32[pl*hw : (pl+1)*hw]
		clear(dx)
		dy := p.dy.F32[pl*ohw : (pl+1)*ohw]
		if p.K == 2 {
			// The same sums, unrolled.
			for oh := range p.oh {
				r0 := dx[oh*p.Stride*p.w : (oh*p.Stride+1)*p.w]
				r1 := dx[(oh*p.Stride+1)*p.w : (oh*p.Stride+2)*p.w]
				for ow, v := range dy[oh*p.ow : (oh+1)*p.ow] {
					g, c := v/div, ow*p.Stride
					r0[c] += g
					r0[c+1] += g
					r1[c] += g
					r1[c+1] += g
				}
			}
			continue
		}
		for oh := range p.oh {
			for ow := range p.ow {
				g := dy[oh*p.ow+ow] / div
				for kh := range p.K {
					r := dx[(oh*p.Stride+kh)*p.w+ow*p.Stride:]
					for kw := range r[:p.K] {
						r[kw] += g
					}
				}
			}
		}
	}
}

// buildPool makes a MaxPool2d (symmetric equal pads up to half the
// kernel) or an AvgPool2d (no padding) from a square, equal-strided ONNX
// pooling with floor rounding.
func buildPool(b *onnxBuilder, n *onnx.Node) (Node, error) {
	in := b.shape(n.Inputs[0])
	k := intsAttr(n, "kernel_shape", nil)
	strides := intsAttr(n, "strides", []int64{1, 1})
	pads := intsAttr(n, "pads", []int64{0, 0, 0, 0})
	if len(in) != 3 || len(k) != 2 || k[0] != k[1] || len(strides) != 2 || strides[0] != strides[1] ||
		len(pads) != 4 || !allEqual(pads, pads[0]) || !allEqual(intsAttr(n, "dilations", nil), 1) ||
		(n.Attr("ceil_mode") != nil && n.Attr("ceil_mode").I != 0) ||
		(n.Attr("auto_pad") != nil && string(n.Attr("auto_pad").S) != "NOTSET") || len(n.Outputs) > 1 {
		return Node{}, fmt.Errorf("only square kernels with equal strides and symmetric pads over [N, C, H, W] are supported")
	}
	if k[0] < 1 || strides[0] < 1 || k[0] > int64(in[1]) || k[0] > int64(in[2]) {
		return Node{}, fmt.Errorf("kernel %d and stride %d over a %dx%d input: want both at least 1 and the kernel within the input", k[0], strides[0], in[1], in[2])
	}
	kk, s, p := int(k[0]), int(strides[0]), int(pads[0])
	if n.OpType == "MaxPool" {
		if p < 0 || p > kk/2 {
			return Node{}, fmt.Errorf("pad %d: want 0 to half the kernel (%d)", p, kk/2)
		}
		return Apply(NewMaxPool2dPad(b.layerName(n, ""), kk, s, p), n.Inputs[0]), nil
	}
	if p != 0 {
		return Node{}, fmt.Errorf("a padded AveragePool has no trainable layer")
	}
	return Apply(NewAvgPool2d(b.layerName(n, ""), kk, s), n.Inputs[0]), nil
}

// buildPad accepts only a Pad that adds nothing (PyTorch writes one before
// AveragePool).
func buildPad(b *onnxBuilder, n *onnx.Node) (Node, error) {
	if a := n.Attr("mode"); a != nil && string(a.S) != "constant" {
		return Node{}, fmt.Errorf("only constant padding is supported")
	}
	pads := intsAttr(n, "pads", nil)
	if len(n.Inputs) > 1 && n.Inputs[1] != "" {
		t := b.value(n.Inputs[1])
		if t == nil || t.DType != tensor.Int64 {
			return Node{}, fmt.Errorf("pads must be a constant int64 tensor")
		}
		pads = t.I64
	}
	if !allEqual(pads, 0) {
		return Node{}, fmt.Errorf("only zero padding is supported (a padded pooling has no trainable layer)")
	}
	return alias(n.Inputs[0]), nil
}
