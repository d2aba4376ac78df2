package infer

import (
	"fmt"
	"slices"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Helpers shared by the ops: multidirectional (numpy) broadcasting, typed
// access to a tensor's data, and size checks.

// maxElements bounds the size of an output whose shape comes from tensor
// values or from broadcasting rather than from the size of an input, so that
// a hostile model cannot make an op allocate without bound.
var maxElements = 1 << 30

// checkSize returns an error naming n if shape has a negative dimension, or
// if its element count overflows or exceeds maxElements.
func checkSize(n *onnx.Node, shape []int) error {
	for _, d := range shape {
		if d < 0 {
			return errorf(n, "output shape %v: negative dimension", shape)
		}
	}
	c := tensor.NumElements(shape)
	if c < 0 || c > maxElements {
		return errorf(n, "output shape %v: more than %d elements", shape, maxElements)
	}
	return nil
}

// checkSizeOf is checkSize for an output of element type dt, which must
// also fit in DefaultMaxTensorBytes: the ops whose output size comes from
// values or grows with their inputs (ConstantOfShape, Expand, Tile, Concat,
// Gather, OneHot, broadcasting arithmetic) check it before allocating, so
// that a small hostile model cannot make one allocate gigabytes.
func checkSizeOf(n *onnx.Node, shape []int, dt tensor.DType) error {
	if err := checkSize(n, shape); err != nil {
		return err
	}
	if b := int64(tensor.NumElements(shape)) * int64(dt.Size()); b > DefaultMaxTensorBytes {
		return errorf(n, "output %v%v: %d bytes, more than %d", dt, shape, b, int64(DefaultMaxTensorBytes))
	}
	return nil
}

// broadcastShape returns the numpy broadcast of the shapes: the shapes are
// right-aligned and each dimension must be equal or 1 in all of them.
func broadcastShape(shapes ...[]int) ([]int, error) {
	return broadcastShapeInto(nil, shapes...)
}

// broadcastShapeInto is broadcastShape building the result in buf's storage
// when it is large enough (pass an output's Shape[:0] to reuse it).
func broadcastShapeInto(buf []int, shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := buf[:0]
	if cap(out) < rank {
		out = make([]int, rank)
	}
	out = out[:rank]
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			switch o := out[off+i]; {
			case d == o || d == 1:
			case o == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("shapes %s are not broadcastable", shapeList(shapes))
			}
		}
	}
	if err := checkPlanDims(out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkPlanDims returns an error if shape has more dimensions of size > 1
// than a bcastPlan can walk.
func checkPlanDims(shape []int) error {
	n := 0
	for _, d := range shape {
		if d != 1 {
			n++
		}
	}
	if n > planDims+1 {
		return fmt.Errorf("shape %s: more than %d dimensions of size > 1 are not supported", tensor.ShapeString(shape), planDims+1)
	}
	return nil
}

func shapeList(shapes [][]int) string {
	s := ""
	for i, sh := range shapes {
		if i > 0 {
			s += ", "
		}
		s += tensor.ShapeString(sh)
	}
	return s
}

// planDims is the most dimensions of size > 1 a bcastPlan walks; its
// state then fits in fixed arrays, so planning allocates nothing.
// broadcastShapeInto rejects shapes with more.
const planDims = 16

// planInputs is the most inputs a bcastPlan walks (Where has three).
const planInputs = 3

// bcastPlan walks an output shape that up to planInputs inputs broadcast
// to, one contiguous run of output elements (a block) at a time. Output
// dimensions of size 1 are dropped and adjacent dimensions that every input
// walks the same way are merged, so per-channel bias on NCHW becomes an
// [N*C, H*W] walk whose blocks are H*W long.
type bcastPlan struct {
	nd      int                       // number of outer dimensions
	dims    [planDims]int             // outer dimensions (all but the innermost), merged
	strides [planInputs][planDims]int // per input, its stride for each of dims
	step    [planInputs]int           // per input, its stride along a block: 0 (repeat) or 1
	inner   int                       // block length: the innermost merged dimension
	total   int                       // number of output elements
}

// init plans the walk of out for inputs of the given shapes, each of which
// must broadcast to out, and out must have at most planDims dimensions of
// size > 1 (check with broadcastShapeInto first).
func (p *bcastPlan) init(out []int, ins ...[]int) {
	*p = bcastPlan{total: tensor.NumElements(out), inner: 1}
	if len(ins) > planInputs {
		panic("infer: bcastPlan: too many inputs")
	}
	n := 0 // merged dimensions so far, the innermost included
	for i, d := range out {
		if d == 1 {
			continue
		}
		// Per input, the stride of this output dimension (0 where broadcast).
		var st [planInputs]int
		for k, s := range ins {
			j := i - (len(out) - len(s))
			if j < 0 || s[j] == 1 {
				continue
			}
			st[k] = tensor.NumElements(s[j+1:])
		}
		// Merge with the previous dimension when every input walks on.
		if n > 0 {
			ok := true
			for k := range ins {
				if p.strides[k][n-1] != st[k]*d {
					ok = false
					break
				}
			}
			if ok {
				p.dims[n-1] *= d
				for k := range ins {
					p.strides[k][n-1] = st[k]
				}
				continue
			}
		}
		if n == planDims {
			// The innermost dimension is kept apart below, so planDims+1
			// dimensions fit; broadcastShapeInto allows no more.
			p.inner = d
			p.step = st
			p.nd = n
			return
		}
		p.dims[n] = d
		for k := range ins {
			p.strides[k][n] = st[k]
		}
		n++
	}
	if n > 0 {
		n--
		p.inner = p.dims[n]
		for k := range ins {
			p.step[k] = p.strides[k][n]
		}
	}
	p.nd = n
}

// each calls fn for every block in order: off holds each input's offset of
// the block's first element, dst the output offset.
func (p *bcastPlan) each(fn func(off [planInputs]int, dst int)) {
	if p.total == 0 {
		return
	}
	var off [planInputs]int
	var idx [planDims]int
	for dst := 0; dst < p.total; dst += p.inner {
		fn(off, dst)
		// Advance the odometer over the outer dimensions.
		for i := p.nd - 1; i >= 0; i-- {
			idx[i]++
			for k := range off {
				off[k] += p.strides[k][i]
			}
			if idx[i] < p.dims[i] {
				break
			}
			for k := range off {
				off[k] -= p.strides[k][i] * p.dims[i]
			}
			idx[i] = 0
		}
	}
}

// binKernel computes one block of a binary elementwise op: d[i] = f(a[i], b[i])
// where an input of length 1 is repeated. Implementations give tight loops for
// the three cases: both vectors, vector and scalar, scalar and vector.
type binKernel[T, U any] struct {
	vv func(d []U, a, b []T)
	vs func(d []U, a []T, b T)
	sv func(d []U, a T, b []T)
}

// funcKernel builds a binKernel from a scalar function (slower: one call per
// element; for the ops that are not on any hot path).
func funcKernel[T, U any](f func(a, b T) U) binKernel[T, U] {
	return binKernel[T, U]{
		vv: func(d []U, a, b []T) {
			for i := range d {
				d[i] = f(a[i], b[i])
			}
		},
		vs: func(d []U, a []T, b T) {
			for i := range d {
				d[i] = f(a[i], b)
			}
		},
		sv: func(d []U, a T, b []T) {
			for i := range d {
				d[i] = f(a, b[i])
			}
		},
	}
}

// broadcastBinary computes d = k(a, b) with numpy broadcasting; dshape must be
// the broadcast of ashape and bshape and len(d) its element count.
func broadcastBinary[T, U any](k *binKernel[T, U], d []U, dshape []int, a []T, ashape []int, b []T, bshape []int) {
	switch {
	case len(d) == 0:
		return
	case slices.Equal(ashape, bshape):
		k.vv(d, a, b)
		return
	case len(b) == 1 && len(a) == len(d):
		k.vs(d, a, b[0])
		return
	case len(a) == 1 && len(b) == len(d):
		k.sv(d, a[0], b)
		return
	}
	var p bcastPlan
	p.init(dshape, ashape, bshape)
	n := p.inner
	p.each(func(off [planInputs]int, o int) {
		blk := d[o : o+n]
		switch {
		case p.step[0] == 1 && p.step[1] == 1:
			k.vv(blk, a[off[0]:off[0]+n], b[off[1]:off[1]+n])
		case p.step[0] == 1:
			k.vs(blk, a[off[0]:off[0]+n], b[off[1]])
		case p.step[1] == 1:
			k.sv(blk, a[off[0]], b[off[1]:off[1]+n])
		default: // only when the output has one element
			k.vs(blk, a[off[0]:off[0]+1], b[off[1]])
		}
	})
}

// broadcastTo copies src (of shape sshape) into d, broadcasting it to dshape.
func broadcastTo[T any](d []T, dshape []int, src []T, sshape []int) {
	if len(d) == 0 {
		return
	}
	if len(src) == len(d) {
		copy(d, src)
		return
	}
	var p bcastPlan
	p.init(dshape, sshape)
	n := p.inner
	p.each(func(off [planInputs]int, o int) {
		if p.step[0] == 1 {
			copy(d[o:o+n], src[off[0]:off[0]+n])
			return
		}
		v := src[off[0]]
		for i := o; i < o+n; i++ {
			d[i] = v
		}
	})
}

// elem is the set of Go element types a tensor can hold.
type elem interface {
	number | bool | string
}

// number is the element types with arithmetic (uint16 also holds the bits
// of float16 and bfloat16, which the ops see as float32: see narrow.go).
type number interface {
	float32 | float64 | int64 | int32 | int16 | int8 | uint64 | uint32 | uint16 | uint8
}

// integer is the integer element types.
type integer interface {
	int64 | int32 | int16 | int8 | uint64 | uint32 | uint16 | uint8
}

// dtypeOf returns the tensor dtype holding elements of type T.
func dtypeOf[T elem]() tensor.DType {
	var z T
	switch any(z).(type) {
	case float32:
		return tensor.Float32
	case float64:
		return tensor.Float64
	case int64:
		return tensor.Int64
	case int32:
		return tensor.Int32
	case int16:
		return tensor.Int16
	case int8:
		return tensor.Int8
	case uint64:
		return tensor.Uint64
	case uint32:
		return tensor.Uint32
	case uint16:
		return tensor.Uint16
	case uint8:
		return tensor.Uint8
	case bool:
		return tensor.Bool
	case string:
		return tensor.String
	}
	return tensor.Invalid
}

// data returns t's data slice of element type T. t.DType must be
// held in Ts (else the result is nil).
func data[T elem](t *tensor.Tensor) []T { return tensor.Data[T](t) }

// normAxis maps axis in [-rank, rank) to [0, rank).
func normAxis(n *onnx.Node, axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, errorf(n, "axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// shapeBuf returns a slice of n ints for building the shape of d, reusing
// d's own shape storage: passing it to d.Resize copies it onto itself, so
// ops that compute an output shape allocate nothing once warm.
func shapeBuf(d *tensor.Tensor, n int) []int {
	if cap(d.Shape) >= n {
		return d.Shape[:n]
	}
	return make([]int, n)
}

// input returns in[i], or nil when the optional input is absent.
func input(in []*tensor.Tensor, i int) *tensor.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// output returns out[i], or nil when the optional output is not wanted.
func output(out []*tensor.Tensor, i int) *tensor.Tensor {
	if i < len(out) {
		return out[i]
	}
	return nil
}

// intValues reads a 0-d or 1-d int64 or int32 tensor (shapes, axes, indices
// given as inputs) into an []int64.
func intValues(n *onnx.Node, t *tensor.Tensor, what string) ([]int64, error) {
	if t.Rank() > 1 {
		return nil, errorf(n, "input %s: want a 1-D tensor, got %v", what, t)
	}
	switch t.DType {
	case tensor.Int64:
		return t.I64, nil
	case tensor.Int32:
		v := make([]int64, len(t.I32))
		for i, x := range t.I32 {
			v[i] = int64(x)
		}
		return v, nil
	}
	return nil, errorf(n, "input %s: want int64, got %v", what, t.DType)
}

// fill sets every element of s to v, by doubling copies (memmove is
// vectorized; a plain loop is not).
func fill[T any](s []T, v T) {
	if len(s) == 0 {
		return
	}
	s[0] = v
	for k := 1; k < len(s); k *= 2 {
		copy(s[k:], s[:k])
	}
}
