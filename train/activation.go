package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// elementwise is the shared state of the layers that map each element on
// its own: ReLU, Tanh, Dropout.
type elementwise struct {
	name  string
	x, dy *tensor.Tensor
	y, dx tensor.Tensor
	size  int // elements per sample
}

// Name returns the layer's name.
func (e *elementwise) Name() string { return e.name }

// Params returns nil: the layer has no parameters.
func (e *elementwise) Params() []*Param { return nil }

func (e *elementwise) forward(x *tensor.Tensor, fn chunkFunc) *tensor.Tensor {
	if x.DType != tensor.Float32 || len(x.Shape) == 0 || !x.Valid() {
		panic(fmt.Sprintf("train: layer %q: input is %v, want float32 with a batch dimension", e.name, x))
	}
	e.x = x
	e.y.Resize(tensor.Float32, x.Shape...)
	n := x.Shape[0]
	if n > 0 {
		e.size = len(x.F32) / n
	}
	pool().run(n, chunkSize(n), fn)
	return &e.y
}

func (e *elementwise) backward(dy *tensor.Tensor, fn chunkFunc) *tensor.Tensor {
	if e.x == nil {
		panic("train: layer " + e.name + ": Backward before Forward")
	}
	checkSame(e.name, "output gradient", dy, e.y.Shape)
	e.dy = dy
	e.dx.Resize(tensor.Float32, dy.Shape...)
	n := dy.Shape[0]
	pool().run(n, chunkSize(n), fn)
	e.dy = nil
	return &e.dx
}

// ReLU is max(x, 0), like torch.nn.ReLU.
type ReLU struct {
	elementwise
	fwd, bwd chunkFunc
}

// NewReLU returns a ReLU layer.
func NewReLU(name string) *ReLU {
	r := &ReLU{elementwise: elementwise{name: name}}
	r.fwd, r.bwd = r.forwardChunk, r.backwardChunk
	return r
}

// Forward computes y = max(x, 0), any shape [N, ...].
func (r *ReLU) Forward(x *tensor.Tensor) *tensor.Tensor { return r.forward(x, r.fwd) }

func (r *ReLU) forwardChunk(_, _, lo, hi int) {
	y := r.y.F32[lo*r.size : hi*r.size]
	for i, v := range r.x.F32[lo*r.size : hi*r.size] {
		y[i] = max(v, 0)
	}
}

// Backward returns dx = dy where y > 0, else 0 (shape of x).
func (r *ReLU) Backward(dy *tensor.Tensor) *tensor.Tensor { return r.backward(dy, r.bwd) }

func (r *ReLU) backwardChunk(_, _, lo, hi int) {
	dx, y := r.dx.F32[lo*r.size:hi*r.size], r.y.F32[lo*r.size:hi*r.size]
	dy := r.dy.F32[lo*r.size : hi*r.size]
	y = y[:len(dy)]
	dx = dx[:len(dy)]
	for i, g := range dy {
		// Without a branch (y's signs are random): the mask is all ones
		// where y > 0, whose bits are a positive int32, else zero (y is
		// +0 or, from a NaN input, NaN).
		b := int32(math.Float32bits(y[i]))
		mask := uint32((-b) >> 31)
		dx[i] = math.Float32frombits(math.Float32bits(g) & mask)
	}
}

// Tanh is the hyperbolic tangent, like torch.nn.Tanh.
type Tanh struct {
	elementwise
	fwd, bwd chunkFunc
}

// NewTanh returns a Tanh layer.
func NewTanh(name string) *Tanh {
	t := &Tanh{elementwise: elementwise{name: name}}
	t.fwd, t.bwd = t.forwardChunk, t.backwardChunk
	return t
}

// Forward computes y = tanh(x), any shape [N, ...].
func (t *Tanh) Forward(x *tensor.Tensor) *tensor.Tensor { return t.forward(x, t.fwd) }

func (t *Tanh) forwardChunk(_, _, lo, hi int) {
	kernel.Tanh(t.y.F32[lo*t.size:hi*t.size], t.x.F32[lo*t.size:hi*t.size])
}

// Backward returns dx = dy * (1 - y^2) (shape of x).
func (t *Tanh) Backward(dy *tensor.Tensor) *tensor.Tensor { return t.backward(dy, t.bwd) }

func (t *Tanh) backwardChunk(_, _, lo, hi int) {
	kernel.TanhGrad(t.dx.F32[lo*t.size:hi*t.size], t.dy.F32[lo*t.size:hi*t.size], t.y.F32[lo*t.size:hi*t.size])
}

// Dropout zeroes each element with probability P during training and
// scales the others by 1/(1-P), like torch.nn.Dropout; in evaluation it is
// the identity. Its random numbers come from Seed and a count of Forward
// calls, with one stream per sample, so the masks do not depend on how the
// batch is split across goroutines.
type Dropout struct {
	elementwise
	P        float64
	Seed     uint64
	training bool
	calls    uint64
	thresh   uint64    // keep an element when a uniform uint64 >= thresh
	scale    float32   // 1/(1-P)
	mask     []float32 // [N, ...]: 0 or scale, of the last training Forward
	fwd, bwd chunkFunc
}

// NewDropout returns a Dropout layer in training mode. It panics unless
// 0 <= p < 1.
func NewDropout(name string, p float64, seed uint64) *Dropout {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("train: NewDropout(%q, %v): probability must be in [0, 1)", name, p))
	}
	d := &Dropout{elementwise: elementwise{name: name}, P: p, Seed: seed, training: true}
	d.fwd, d.bwd = d.forwardChunk, d.backwardChunk
	return d
}

// SetTraining switches between training (random masks) and evaluation
// (identity).
func (d *Dropout) SetTraining(on bool) { d.training = on }

// Forward computes y = x * mask (training) or y = x (evaluation), any shape
// [N, ...].
func (d *Dropout) Forward(x *tensor.Tensor) *tensor.Tensor {
	if !d.training || d.P == 0 {
		d.mask = d.mask[:0]
		d.x = x
		e := &d.elementwise
		e.y.Resize(tensor.Float32, x.Shape...)
		copy(e.y.F32, x.F32)
		return &e.y
	}
	if !(d.P >= 0 && d.P < 1) {
		panic(fmt.Sprintf("train: layer %q: dropout probability %v not in [0, 1)", d.name, d.P))
	}
	d.thresh = uint64(d.P * (1 << 64))
	d.scale = float32(1 / (1 - d.P))
	d.mask = grow(d.mask, len(x.F32))
	d.calls++
	return d.forward(x, d.fwd)
}

func (d *Dropout) forwardChunk(_, _, lo, hi int) {
	var src rand.PCG
	for i := lo; i < hi; i++ {
		src.Seed(d.Seed, mix64(d.calls<<32|uint64(i)))
		m := d.mask[i*d.size : (i+1)*d.size]
		y := d.y.F32[i*d.size : (i+1)*d.size]
		for j, v := range d.x.F32[i*d.size : (i+1)*d.size] {
			if src.Uint64() >= d.thresh {
				m[j] = d.scale
			} else {
				m[j] = 0
			}
			y[j] = v * m[j]
		}
	}
}

// Backward returns dx = dy * mask (training) or dx = dy (evaluation).
func (d *Dropout) Backward(dy *tensor.Tensor) *tensor.Tensor {
	if len(d.mask) == 0 {
		e := &d.elementwise
		checkSame(e.name, "output gradient", dy, e.y.Shape)
		e.dx.Resize(tensor.Float32, dy.Shape...)
		copy(e.dx.F32, dy.F32)
		return &e.dx
	}
	return d.backward(dy, d.bwd)
}

func (d *Dropout) backwardChunk(_, _, lo, hi int) {
	dx, m := d.dx.F32[lo*d.size:hi*d.size], d.mask[lo*d.size:hi*d.size]
	for i, g := range d.dy.F32[lo*d.size : hi*d.size] {
		dx[i] = g * m[i]
	}
}

// Flatten reshapes [N, d1, d2, ...] to [N, d1*d2*...], like
// torch.nn.Flatten(1). Its output and input gradient share storage with its
// input and output gradient.
type Flatten struct {
	name  string
	shape []int // input shape of the last Forward
	y, dx tensor.Tensor
}

// NewFlatten returns a Flatten layer.
func NewFlatten(name string) *Flatten { return &Flatten{name: name} }

// Name returns the layer's name.
func (f *Flatten) Name() string { return f.name }

// Params returns nil.
func (f *Flatten) Params() []*Param { return nil }

// Forward returns x [N, ...] viewed as [N, prod(...)].
func (f *Flatten) Forward(x *tensor.Tensor) *tensor.Tensor {
	if x.DType != tensor.Float32 || len(x.Shape) == 0 || !x.Valid() {
		panic(fmt.Sprintf("train: layer %q: input is %v, want float32 with a batch dimension", f.name, x))
	}
	f.shape = append(f.shape[:0], x.Shape...)
	n := x.Shape[0]
	rest := 1
	for _, d := range x.Shape[1:] {
		rest *= d
	}
	f.y.DType = tensor.Float32
	f.y.Shape = append(f.y.Shape[:0], n, rest)
	f.y.F32 = x.F32
	return &f.y
}

// Backward returns dy [N, prod(...)] viewed in the input's shape.
func (f *Flatten) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkSame(f.name, "output gradient", dy, f.y.Shape)
	f.dx.DType = tensor.Float32
	f.dx.Shape = append(f.dx.Shape[:0], f.shape...)
	f.dx.F32 = dy.F32
	return &f.dx
}

// mix64 is the splitmix64 finalizer: it spreads adjacent stream numbers
// apart before they seed a PCG.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// OutShape returns in: the layer maps each element on its own.
func (e *elementwise) OutShape(in []int) ([]int, error) { return in, nil }

// exportONNX writes a Relu.
func (r *ReLU) exportONNX(e *exporter, in string) string { return e.node(r.name, "Relu", nil, in) }

// exportONNX writes a Tanh.
func (t *Tanh) exportONNX(e *exporter, in string) string { return e.node(t.name, "Tanh", nil, in) }

// exportONNX writes nothing: Dropout is the identity at inference.
func (d *Dropout) exportONNX(_ *exporter, in string) string { return in }

// OutShape returns [prod(in)].
func (f *Flatten) OutShape(in []int) ([]int, error) {
	n := 1
	for _, d := range in {
		n *= d
	}
	return []int{n}, nil
}

// exportONNX writes a Flatten with axis 1.
func (f *Flatten) exportONNX(e *exporter, in string) string {
	return e.node(f.name, "Flatten", []*onnx.Attribute{intAttr("axis", 1)}, in)
}

// buildReLU makes a ReLU from a Relu.
func buildReLU(b *onnxBuilder, n *onnx.Node) (Node, error) {
	return Apply(NewReLU(b.layerName(n, "")), n.Inputs[0]), nil
}

// buildTanh makes a Tanh from a Tanh.
func buildTanh(b *onnxBuilder, n *onnx.Node) (Node, error) {
	return Apply(NewTanh(b.layerName(n, "")), n.Inputs[0]), nil
}

// buildIdentity makes nothing: the output is the input.
func buildIdentity(_ *onnxBuilder, n *onnx.Node) (Node, error) { return alias(n.Inputs[0]), nil }

// buildDropout makes a Dropout with the node's ratio (default 0.5),
// seeded by its position.
func buildDropout(b *onnxBuilder, n *onnx.Node) (Node, error) {
	ratio := 0.5
	if a := n.Attr("ratio"); a != nil {
		ratio = float64(a.F)
	} else if len(n.Inputs) > 1 && n.Inputs[1] != "" {
		if t := b.value(n.Inputs[1]); t != nil && t.Len() == 1 {
			ratio = t.Float64At(0)
		}
	}
	if !(ratio >= 0 && ratio < 1) {
		return Node{}, fmt.Errorf("ratio %v: want 0 <= ratio < 1", ratio)
	}
	return Apply(NewDropout(b.layerName(n, ""), ratio, uint64(len(b.nodes))), n.Inputs[0]), nil
}

// buildFlatten makes a Flatten from a Flatten with axis 1 or a Reshape to
// [batch, features].
func buildFlatten(b *onnxBuilder, n *onnx.Node) (Node, error) {
	features := 1
	for _, d := range b.shape(n.Inputs[0]) {
		features *= d
	}
	switch n.OpType {
	case "Flatten":
		if a := n.Attr("axis"); a != nil && a.I != 1 {
			return Node{}, fmt.Errorf("only axis 1 is supported")
		}
	case "Reshape":
		var shape *tensor.Tensor
		if len(n.Inputs) > 1 {
			shape = b.value(n.Inputs[1])
		}
		ok := shape != nil && shape.DType == tensor.Int64 && shape.Len() == 2 &&
			(shape.I64[0] == -1 || shape.I64[0] == 0) && (shape.I64[1] == -1 || shape.I64[1] == int64(features))
		if !ok {
			return Node{}, fmt.Errorf("only a reshape to [batch, features] is supported")
		}
	}
	return Apply(NewFlatten(b.layerName(n, "")), n.Inputs[0]), nil
}
