package infer

import (
	"fmt"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// padOp is Pad (opsets 1, 2, 11, 13, 18, 19, 21, 23, 24, 25; every dtype of
// package tensor). Modes constant, reflect and edge, and wrap from opset 19.
// Before opset 11 the pads and the constant come from attributes (pads is
// named paddings in opset 1); from 11 they are inputs, with an optional
// axes input from 18. A negative pad
// removes elements; edge, reflect and wrap then extend what remains, and
// reflect repeats its mirror image when a pad exceeds the axis size (as
// numpy.pad does).
type padOp struct {
	mode     string
	pads     []int64 // opset < 11: from the attribute
	value    float32 // opset < 11: constant value attribute
	fromAttr bool
}

func buildPad(n *onnx.Node, opset int64) (op, error) {
	maxIn := 1
	switch {
	case opset >= 18:
		maxIn = 4
	case opset >= 11:
		maxIn = 3
	}
	minIn := 1
	if opset >= 11 {
		minIn = 2
	}
	if err := checkArity(n, minIn, maxIn, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &padOp{mode: a.string("mode", "constant")}
	switch o.mode {
	case "constant", "reflect", "edge":
	case "wrap":
		if opset < 19 {
			a.fail("attribute \"mode\": \"wrap\" needs opset 19")
		}
	default:
		a.fail("attribute \"mode\": unknown value %q", o.mode)
	}
	if opset < 11 {
		o.fromAttr = true
		name := "pads"
		if opset < 2 {
			name = "paddings" // same layout: begins of every axis, then ends
		}
		if !a.has(name) {
			a.fail("attribute %q is required", name)
		}
		o.pads = a.ints(name, -1, nil)
		o.value = a.float("value", 0)
	}
	if a.err != nil {
		return nil, a.err
	}
	return o, nil
}

// padAxis is the geometry of one axis: output index o reads source index
// start + (o - left) when that lies in [start, start+n).
type padAxis struct {
	in, out, start, n, left int
}

// src maps output index o to a source index, or -1 for the constant.
func (ax *padAxis) src(o int, mode string) int {
	s := o - ax.left
	if s >= 0 && s < ax.n {
		return ax.start + s
	}
	switch mode {
	case "edge":
		s = min(max(s, 0), ax.n-1)
	case "wrap":
		s = ((s % ax.n) + ax.n) % ax.n
	case "reflect":
		if ax.n == 1 {
			s = 0
			break
		}
		period := 2 * (ax.n - 1)
		s = ((s % period) + period) % period
		if s >= ax.n {
			s = period - s
		}
	default:
		return -1
	}
	return ax.start + s
}

func (o *padOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	r := x.Rank()
	var pads []int64
	if o.fromAttr {
		pads = o.pads
	} else {
		p := in[1]
		if p.DType != tensor.Int64 || p.Rank() != 1 {
			return fmt.Errorf("input pads is %v, want 1-D int64", p)
		}
		pads = p.I64
	}
	var axbuf [8]padAxis
	axes := axbuf[:0]
	if r > len(axbuf) {
		axes = make([]padAxis, 0, r)
	}
	axes = axes[:r]
	for d := range axes {
		axes[d] = padAxis{in: x.Shape[d]}
	}
	// begin and end pads per axis, gathered in axes[d].left (begin) and
	// axes[d].out (end) before the geometry is computed.
	if len(in) > 3 && in[3] != nil {
		ai := in[3]
		if (ai.DType != tensor.Int64 && ai.DType != tensor.Int32) || ai.Rank() != 1 {
			return fmt.Errorf("input axes is %v, want 1-D int64 or int32", ai)
		}
		na := ai.Len()
		if len(pads) != 2*na {
			return fmt.Errorf("pads has %d values, want %d for %d axes", len(pads), 2*na, na)
		}
		var seen [64]bool
		for i := 0; i < na; i++ {
			a := int64(ai.Float64At(i))
			if a < -int64(r) || a >= int64(r) {
				return fmt.Errorf("axis %d out of range for rank %d", a, r)
			}
			if a < 0 {
				a += int64(r)
			}
			if int(a) < len(seen) {
				if seen[a] {
					return fmt.Errorf("axis %d repeated", a)
				}
				seen[a] = true
			}
			if err := setPads(&axes[a], pads[i], pads[na+i]); err != nil {
				return err
			}
		}
	} else {
		if len(pads) != 2*r {
			return fmt.Errorf("pads has %d values, want %d for %v", len(pads), 2*r, x)
		}
		for d := range axes {
			if err := setPads(&axes[d], pads[d], pads[r+d]); err != nil {
				return err
			}
		}
	}
	var shbuf [8]int
	yshape := shbuf[:0]
	if r > len(shbuf) {
		yshape = make([]int, 0, r)
	}
	for d := range axes {
		ax := &axes[d]
		begin, end := ax.left, ax.out
		ax.out = ax.in + begin + end
		if ax.out < 0 {
			return fmt.Errorf("pads %d and %d remove more than the %d elements of axis %d", begin, end, ax.in, d)
		}
		ax.start = max(0, -begin)
		ax.left = max(0, begin)
		ax.n = ax.in - ax.start - max(0, -end)
		if ax.n <= 0 {
			ax.start, ax.n = 0, 0
		}
		if ax.n <= 0 && ax.out > 0 && o.mode != "constant" {
			return fmt.Errorf("mode %q: axis %d has no elements to extend", o.mode, d)
		}
		yshape = append(yshape, ax.out)
	}
	if err := checkAlloc(yshape...); err != nil {
		return err
	}
	y := out[0]
	resize(y, x.DType, yshape...)

	var cval *tensor.Tensor
	if !o.fromAttr && len(in) > 2 && in[2] != nil {
		cval = in[2]
		if cval.DType != x.DType || cval.Len() > 1 {
			return fmt.Errorf("input constant_value is %v, want a %v scalar", cval, x.DType)
		}
		if cval.Len() == 0 {
			cval = nil
		}
	}
	switch x.DType {
	case tensor.Float32:
		c := o.value
		if cval != nil {
			c = cval.F32[0]
		}
		padData(axes, o.mode, x.F32, y.F32, c)
	case tensor.Float64:
		c := float64(o.value)
		if cval != nil {
			c = cval.F64[0]
		}
		padData(axes, o.mode, x.F64, y.F64, c)
	case tensor.Int64:
		c := int64(o.value)
		if cval != nil {
			c = cval.I64[0]
		}
		padData(axes, o.mode, x.I64, y.I64, c)
	case tensor.Int32:
		c := int32(o.value)
		if cval != nil {
			c = cval.I32[0]
		}
		padData(axes, o.mode, x.I32, y.I32, c)
	case tensor.Uint8:
		c := uint8(o.value)
		if cval != nil {
			c = cval.U8[0]
		}
		padData(axes, o.mode, x.U8, y.U8, c)
	case tensor.Int8:
		c := int8(o.value)
		if cval != nil {
			c = cval.I8[0]
		}
		padData(axes, o.mode, x.I8, y.I8, c)
	case tensor.Bool:
		c := o.value != 0
		if cval != nil {
			c = cval.B[0]
		}
		padData(axes, o.mode, x.B, y.B, c)
	case tensor.Int16:
		padWith(axes, o.mode, x, y, cval, int16(o.value))
	case tensor.Uint16:
		padWith(axes, o.mode, x, y, cval, uint16(o.value))
	case tensor.Uint32:
		padWith(axes, o.mode, x, y, cval, uint32(o.value))
	case tensor.Uint64:
		padWith(axes, o.mode, x, y, cval, uint64(o.value))
	case tensor.String:
		padWith(axes, o.mode, x, y, cval, "")
	default:
		return fmt.Errorf("unsupported input %v", x)
	}
	return nil
}

// padWith is padData on the slices of x and y, padding with cval's value
// when given, else c.
func padWith[T elem](axes []padAxis, mode string, x, y, cval *tensor.Tensor, c T) {
	if cval != nil {
		c = data[T](cval)[0]
	}
	padData(axes, mode, data[T](x), data[T](y), c)
}

// setPads records an axis's begin and end pads (in left and out until the
// geometry is computed), bounding them so that sizes cannot overflow.
func setPads(ax *padAxis, begin, end int64) error {
	const limit = 1 << 40
	if begin < -limit || begin > limit || end < -limit || end > limit {
		return fmt.Errorf("pads %d, %d out of range", begin, end)
	}
	ax.left, ax.out = int(begin), int(end)
	return nil
}

// padData fills y from x one row (last axis) at a time.
func padData[E any](axes []padAxis, mode string, x, y []E, c E) {
	r := len(axes)
	if r == 0 {
		copy(y, x)
		return
	}
	last := &axes[r-1]
	rows := len(y) / max(last.out, 1)
	if last.out == 0 {
		return
	}
	var posbuf [8]int
	pos := posbuf[:0]
	if r > len(posbuf) {
		pos = make([]int, 0, r)
	}
	pos = pos[:r-1]
	clear(pos)
	for row := 0; row < rows; row++ {
		dst := y[row*last.out : (row+1)*last.out]
		off := 0
		for d := 0; d < r-1; d++ {
			s := axes[d].src(pos[d], mode)
			if s < 0 {
				off = -1
				break
			}
			off = off*axes[d].in + s
		}
		if off < 0 {
			for j := range dst {
				dst[j] = c
			}
		} else {
			src := x[off*last.in : (off+1)*last.in]
			// Middle: a straight copy; both sides element by element.
			lo, hi := min(last.left, len(dst)), min(last.left+last.n, len(dst))
			copy(dst[lo:hi], src[last.start:last.start+hi-lo])
			for j := 0; j < lo; j++ {
				dst[j] = srcOr(src, last.src(j, mode), c)
			}
			for j := hi; j < len(dst); j++ {
				dst[j] = srcOr(src, last.src(j, mode), c)
			}
		}
		for d := r - 2; d >= 0; d-- {
			pos[d]++
			if pos[d] < axes[d].out {
				break
			}
			pos[d] = 0
		}
	}
}

func srcOr[E any](src []E, i int, c E) E {
	if i < 0 {
		return c
	}
	return src[i]
}
