package train

import (
	"fmt"
	"slices"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Add is the sum of two or more values of the same shape, the residual
// connection of a ResNet block (out = f(x) + x). It is exported as Add.
type Add struct {
	name string
	y    tensor.Tensor
	dxs  []*tensor.Tensor
}

// NewAdd returns an Add join.
func NewAdd(name string) *Add { return &Add{name: name} }

// Name returns the join's name.
func (a *Add) Name() string { return a.name }

// OutShape checks that there are at least two inputs, all of one shape,
// and returns it.
func (a *Add) OutShape(in [][]int) ([]int, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("has %d inputs, want at least 2", len(in))
	}
	for _, s := range in[1:] {
		if !slices.Equal(s, in[0]) {
			return nil, fmt.Errorf("inputs [%s] and [%s] differ in shape", tensor.ShapeString(in[0]), tensor.ShapeString(s))
		}
	}
	return in[0], nil
}

// Forward computes y = xs[0] + xs[1] + ... (added in order).
func (a *Add) Forward(xs []*tensor.Tensor) *tensor.Tensor {
	for _, x := range xs {
		checkSame(a.name, "input", x, xs[0].Shape)
	}
	a.y.Resize(tensor.Float32, xs[0].Shape...)
	copy(a.y.F32, xs[0].F32)
	for _, x := range xs[1:] {
		addTo(a.y.F32, x.F32)
	}
	a.dxs = slices.Grow(a.dxs[:0], len(xs))[:len(xs)]
	return &a.y
}

// Backward returns dy for every input (the same tensor).
func (a *Add) Backward(dy *tensor.Tensor) []*tensor.Tensor {
	checkSame(a.name, "output gradient", dy, a.y.Shape)
	for i := range a.dxs {
		a.dxs[i] = dy
	}
	return a.dxs
}

// exportONNX writes Adds, one per input after the first.
func (a *Add) exportONNX(e *exporter, in []string) string {
	out := in[0]
	for i, v := range in[1:] {
		name := a.name
		if i > 0 {
			name = fmt.Sprintf("%s_%d", a.name, i)
		}
		out = e.node(name, "Add", nil, out, v)
	}
	return out
}

// Concat stacks values along the channels (axis 1), like torch.cat(xs,
// 1): inputs [N, C_i, ...] with equal other sizes give [N, sum C_i, ...].
// It is exported as Concat with axis 1.
type Concat struct {
	name  string
	sizes []int // elements per sample of each input, from the last Forward
	shape []int // the output's shape
	y     tensor.Tensor
	dx    []tensor.Tensor
	dxs   []*tensor.Tensor
}

// NewConcat returns a Concat join.
func NewConcat(name string) *Concat { return &Concat{name: name} }

// Name returns the join's name.
func (c *Concat) Name() string { return c.name }

// OutShape checks that the inputs agree past their first axis and returns
// the shape with the first axes summed.
func (c *Concat) OutShape(in [][]int) ([]int, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("has no inputs")
	}
	out := slices.Clone(in[0])
	if len(out) == 0 {
		return nil, fmt.Errorf("input [] has no channel axis")
	}
	for _, s := range in[1:] {
		if len(s) != len(out) || !slices.Equal(s[1:], out[1:]) {
			return nil, fmt.Errorf("inputs [%s] and [%s] differ past the channel axis", tensor.ShapeString(in[0]), tensor.ShapeString(s))
		}
		out[0] += s[0]
	}
	return out, nil
}

// Forward copies each sample's inputs one after the other.
func (c *Concat) Forward(xs []*tensor.Tensor) *tensor.Tensor {
	n := xs[0].Shape[0]
	c.shape = append(c.shape[:0], xs[0].Shape...)
	shape := c.shape
	c.sizes = c.sizes[:0]
	for i, x := range xs {
		if x.DType != tensor.Float32 || len(x.Shape) != len(shape) || x.Shape[0] != n || !slices.Equal(x.Shape[2:], shape[2:]) || !x.Valid() {
			panic(fmt.Sprintf("train: layer %q: input %d is %v, does not fit %v", c.name, i, x, xs[0]))
		}
		if i > 0 {
			shape[1] += x.Shape[1]
		}
		c.sizes = append(c.sizes, len(x.F32)/n)
	}
	c.y.Resize(tensor.Float32, shape...)
	off := 0
	for i, x := range xs {
		sz := c.sizes[i]
		for s := range n {
			copy(c.y.F32[s*len(c.y.F32)/n+off:], x.F32[s*sz:(s+1)*sz])
		}
		off += sz
	}
	if len(c.dx) < len(xs) {
		c.dx = make([]tensor.Tensor, len(xs))
	}
	c.dxs = c.dxs[:0]
	for i, x := range xs {
		c.dx[i].Resize(tensor.Float32, x.Shape...)
		c.dxs = append(c.dxs, &c.dx[i])
	}
	return &c.y
}

// Backward splits dy back into the inputs' gradients.
func (c *Concat) Backward(dy *tensor.Tensor) []*tensor.Tensor {
	checkSame(c.name, "output gradient", dy, c.y.Shape)
	n := dy.Shape[0]
	per := len(dy.F32) / n
	off := 0
	for i, sz := range c.sizes {
		for s := range n {
			copy(c.dx[i].F32[s*sz:(s+1)*sz], dy.F32[s*per+off:])
		}
		off += sz
	}
	return c.dxs
}

// exportONNX writes a Concat along axis 1.
func (c *Concat) exportONNX(e *exporter, in []string) string {
	return e.node(c.name, "Concat", []*onnx.Attribute{intAttr("axis", 1)}, in...)
}

// buildAdd makes an Add of two computed values (a residual connection),
// or, when one input is a constant [out] and the other the output of a
// Linear made from a MatMul, sets that constant as the Linear's bias.
func buildAdd(b *onnxBuilder, n *onnx.Node) (Node, error) {
	if len(n.Inputs) != 2 {
		return Node{}, fmt.Errorf("want 2 inputs, have %d", len(n.Inputs))
	}
	x, c := n.Inputs[0], b.value(n.Inputs[1])
	if c == nil && b.value(x) != nil {
		x, c = n.Inputs[1], b.value(x)
	}
	if c == nil {
		return Combine(NewAdd(b.layerName(n, "")), n.Inputs...), nil
	}
	l, ok := b.layers[b.values[x]].(*Linear)
	if !ok || !b.matmul[l] || c.DType != tensor.Float32 || c.Len() != l.Out {
		return Node{}, fmt.Errorf("adding a constant is supported only as the [out] bias right after a MatMul")
	}
	b.matmul[l] = false
	b.state[l.Bias.Name] = tensor.FromFloat32(c.F32, l.Out)
	return alias(x), nil
}

// buildConcat makes a Concat from a Concat along axis 1.
func buildConcat(b *onnxBuilder, n *onnx.Node) (Node, error) {
	if a := n.Attr("axis"); a == nil || a.I != 1 {
		return Node{}, fmt.Errorf("only axis 1 (channels) is supported")
	}
	return Combine(NewConcat(b.layerName(n, "")), n.Inputs...), nil
}
