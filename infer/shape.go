package infer

import (
	"math"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Shape and data-movement ops: Identity, Dropout, Constant, ConstantOfShape,
// Shape, Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Gather, Concat,
// Slice, Expand and Range.

// copyElems copies n elements of s from offset so into d from offset do;
// d and s have the same dtype.
func copyElems(d *tensor.Tensor, do int, s *tensor.Tensor, so, n int) {
	tensor.CopyElems(d, do, s, so, n)
}

// stridedCopy resizes d to s's dtype and the given shape and fills it with
// the elements of s at base + sum(idx[i]*strides[i]) in row-major order of
// idx. Strides may be 0 (broadcast) or negative (reversed slices); callers
// make sure every offset is within s.
func stridedCopy(d *tensor.Tensor, shape []int, s *tensor.Tensor, base int, strides []int) {
	d.Resize(s.DType, shape...)
	switch s.DType.Storage() {
	case tensor.Float32:
		strided(d.F32, shape, s.F32, base, strides)
	case tensor.Float64:
		strided(d.F64, shape, s.F64, base, strides)
	case tensor.Int64:
		strided(d.I64, shape, s.I64, base, strides)
	case tensor.Int32:
		strided(d.I32, shape, s.I32, base, strides)
	case tensor.Uint8:
		strided(data[uint8](d), shape, data[uint8](s), base, strides)
	case tensor.Int8:
		strided(data[int8](d), shape, data[int8](s), base, strides)
	case tensor.Int16:
		strided(data[int16](d), shape, data[int16](s), base, strides)
	case tensor.Uint16:
		strided(data[uint16](d), shape, data[uint16](s), base, strides)
	case tensor.Uint32:
		strided(data[uint32](d), shape, data[uint32](s), base, strides)
	case tensor.Uint64:
		strided(data[uint64](d), shape, data[uint64](s), base, strides)
	case tensor.Bool:
		strided(d.B, shape, s.B, base, strides)
	case tensor.String:
		strided(data[string](d), shape, data[string](s), base, strides)
	}
}

func strided[T elem](d []T, shape []int, s []T, base int, strides []int) {
	if len(d) == 0 {
		return
	}
	r := len(shape)
	if r == 0 {
		d[0] = s[base]
		return
	}
	// Axes that continue the one after them (stride = next stride x next
	// size) are one axis: a transpose that keeps whole planes together
	// (ShuffleNet's channel shuffle) copies planes, not single elements.
	var shBuf, stBuf [8]int
	if r <= len(shBuf) {
		n := 0
		for k := range r {
			if n > 0 && stBuf[n-1] == strides[k]*shape[k] {
				shBuf[n-1] *= shape[k]
				stBuf[n-1] = strides[k]
				continue
			}
			shBuf[n], stBuf[n] = shape[k], strides[k]
			n++
		}
		shape, strides, r = shBuf[:n], stBuf[:n], n
	}
	inner, step := shape[r-1], strides[r-1]
	idx := make([]int, r-1)
	off := base
	for o := 0; o < len(d); o += inner {
		if step == 1 {
			copy(d[o:o+inner], s[off:off+inner])
		} else {
			p := off
			for i := range d[o : o+inner] {
				d[o+i] = s[p]
				p += step
			}
		}
		for k := r - 2; k >= 0; k-- {
			idx[k]++
			off += strides[k]
			if idx[k] < shape[k] {
				break
			}
			off -= strides[k] * shape[k]
			idx[k] = 0
		}
	}
}

// rowMajorStrides returns the element strides of a contiguous tensor.
func rowMajorStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

// reshaper is embedded in the ops that only change a shape (Flatten,
// Reshape, Squeeze, Unsqueeze). Their output is a copy of the input with
// the new shape, or, once the plan has marked the op as a view, the
// input's own elements under the new shape: which relies on no op
// writing into its inputs.
type reshaper struct{ view bool }

// markView lets the op share its input's elements.
func (r *reshaper) markView() { r.view = true }

func (r *reshaper) isView() bool { return r.view }

// reshape makes d x with the given shape (same element count).
func (r *reshaper) reshape(d, x *tensor.Tensor, shape []int) {
	if !r.view {
		d.Resize(x.DType, shape...)
		copyElems(d, 0, x, 0, x.Len())
		return
	}
	d.ShareFrom(x, shape...)
}

// validDType reports whether t holds one of the supported dtypes.
func validDType(t *tensor.Tensor) bool { return t.DType != tensor.Invalid && t.DType.Size() != 0 }

// identityOp is Identity (all versions, tensors only).
type identityOp struct{ n *onnx.Node }

func buildIdentity(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	return &identityOp{n}, nil
}

func (o *identityOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	if !validDType(in[0]) {
		return errorf(o.n, "unsupported dtype %v", in[0].DType)
	}
	out[0].CopyFrom(in[0])
	return nil
}

// dropoutOp is Dropout at inference: the identity, with an all-true mask
// (all-ones of the input's dtype before opset 10). From opset 12 the ratio
// and training_mode inputs exist; training mode is supported only with
// ratio 0, where it is the identity too. Before opset 7 the is_test
// attribute selects the mode: an explicit is_test=0 with a nonzero ratio is
// training mode and unsupported, an absent one is read as inference (as
// ONNX's version converter to opset 7 does); opset 1's consumed_inputs has
// no effect.
type dropoutOp struct {
	n        *onnx.Node
	boolMask bool
}

func buildDropout(n *onnx.Node, opset int64) (op, error) {
	maxIn := 1
	if opset >= 12 {
		maxIn = 3
	}
	if err := checkArity(n, 1, maxIn, 2); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	ratio := a.float("ratio", 0.5)
	training := false
	if opset < 7 {
		a.ints("consumed_inputs", -1, nil)
		training = a.has("is_test") && a.int("is_test", 0) == 0 && ratio != 0
	} else {
		a.int("seed", 0)
	}
	if a.err != nil {
		return nil, a.err
	}
	if training {
		return nil, unsupportedf(n, "is_test=0 (training mode)")
	}
	return &dropoutOp{n, opset >= 10}, nil
}

func (o *dropoutOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if !isFloat(x.DType) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	if t := input(in, 2); t != nil {
		if t.DType != tensor.Bool || t.Len() != 1 {
			return errorf(o.n, "training_mode: want a bool scalar, got %v", t)
		}
		if t.B[0] {
			ratio := 0.5
			if r := input(in, 1); r != nil {
				if !isFloat(r.DType) || r.Len() != 1 {
					return errorf(o.n, "ratio: want a float scalar, got %v", r)
				}
				ratio = r.Float64At(0)
			}
			if ratio != 0 {
				return errorf(o.n, "training mode is not supported")
			}
		}
	}
	out[0].CopyFrom(x)
	if m := output(out, 1); m != nil {
		one := &tensor.Tensor{DType: tensor.Bool, B: []bool{true}}
		if !o.boolMask {
			one = tensor.New(x.DType)
			castInto(one, &tensor.Tensor{DType: tensor.Bool, B: []bool{true}})
		}
		stridedCopy(m, x.Shape, one, 0, make([]int, x.Rank()))
	}
	return nil
}

// constantOp is Constant: value (opset 1), sparse_value (11, not
// supported), value_float(s), value_int(s), value_string(s) (12; strings not
// supported).
type constantOp struct{ t *tensor.Tensor }

func buildConstant(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 0, 0, 1); err != nil {
		return nil, err
	}
	if len(n.Attrs) != 1 {
		return nil, errorf(n, "want exactly one value attribute, got %d attributes", len(n.Attrs))
	}
	a := attrs{n: n}
	var t *tensor.Tensor
	switch name := n.Attrs[0].Name; name {
	case "value":
		if at := a.get(name, onnx.AttrTensor); at != nil {
			if at.T == nil || !validDType(at.T) || !at.T.Valid() {
				return nil, errorf(n, "attribute %q: invalid or unsupported tensor", name)
			}
			t = at.T.Clone()
		}
	case "value_float":
		t = tensor.FromFloat32([]float32{a.float(name, 0)})
	case "value_floats":
		v := a.floats(name, nil)
		t = tensor.FromFloat32(append([]float32(nil), v...), len(v))
	case "value_int":
		t = tensor.FromInt64([]int64{a.int(name, 0)})
	case "value_ints":
		v := a.ints(name, -1, nil)
		t = tensor.FromInt64(append([]int64(nil), v...), len(v))
	case "sparse_value", "value_string", "value_strings":
		return nil, errorf(n, "attribute %q is not supported", name)
	default:
		return nil, errorf(n, "unknown attribute %q", name)
	}
	if a.err != nil {
		return nil, a.err
	}
	return &constantOp{t}, nil
}

func (o *constantOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	out[0].CopyFrom(o.t)
	return nil
}

// constantOfShapeOp is ConstantOfShape (opset 9 and later).
type constantOfShapeOp struct {
	n     *onnx.Node
	value *tensor.Tensor // one element
}

func buildConstantOfShape(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &constantOfShapeOp{n: n, value: tensor.FromFloat32([]float32{0})}
	if at := a.get("value", onnx.AttrTensor); at != nil {
		if at.T == nil || !validDType(at.T) || !at.T.Valid() || at.T.Len() != 1 {
			return nil, errorf(n, "attribute \"value\": want a one-element tensor")
		}
		o.value = at.T.Clone()
	}
	if a.err != nil {
		return nil, a.err
	}
	return o, nil
}

func (o *constantOfShapeOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	shape, err := shapeInput(o.n, in[0], "shape")
	if err != nil {
		return err
	}
	if err := checkSizeOf(o.n, shape, o.value.DType); err != nil {
		return err
	}
	stridedCopy(out[0], shape, o.value, 0, make([]int, len(shape)))
	return nil
}

// shapeInput reads a 1-D int64 shape tensor; dimensions must be >= 0.
func shapeInput(n *onnx.Node, t *tensor.Tensor, what string) ([]int, error) {
	v, err := intValues(n, t, what)
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(v))
	for i, d := range v {
		if d < 0 || d > int64(maxElements) {
			return nil, errorf(n, "input %s: invalid dimension %d", what, d)
		}
		shape[i] = int(d)
	}
	return shape, nil
}

// shapeOp is Shape, with start and end from opset 15.
type shapeOp struct {
	n          *onnx.Node
	start, end int64
	hasEnd     bool
}

func buildShape(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	o := &shapeOp{n: n}
	if opset >= 15 {
		a := attrs{n: n}
		o.start = a.int("start", 0)
		o.hasEnd = a.has("end")
		o.end = a.int("end", 0)
		if a.err != nil {
			return nil, a.err
		}
	}
	return o, nil
}

func (o *shapeOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	r := int64(in[0].Rank())
	clamp := func(i int64) int64 {
		if i < 0 {
			i += r
		}
		return min(max(i, 0), r)
	}
	start, end := clamp(o.start), r
	if o.hasEnd {
		end = clamp(o.end)
	}
	end = max(end, start)
	d := out[0]
	sh := shapeBuf(d, 1)
	sh[0] = int(end - start)
	d.Resize(tensor.Int64, sh...)
	for i := start; i < end; i++ {
		d.I64[i-start] = int64(in[0].Shape[i])
	}
	return nil
}

// flattenOp is Flatten: [prod(shape[:axis]), prod(shape[axis:])], with
// axis in [-rank, rank] (negative from opset 11).
type flattenOp struct {
	reshaper
	n    *onnx.Node
	axis int64
}

func buildFlatten(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &flattenOp{n: n, axis: a.int("axis", 1)}
	return o, a.err
}

func (o *flattenOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	r := int64(x.Rank())
	axis := o.axis
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis > r {
		return errorf(o.n, "axis %d out of range for rank %d", o.axis, r)
	}
	shape := shapeBuf(out[0], 2)
	shape[0], shape[1] = tensor.NumElements(x.Shape[:axis]), tensor.NumElements(x.Shape[axis:])
	o.reshape(out[0], x, shape)
	return nil
}

// reshapeOp is Reshape: the shape from the shape attribute before opset 5
// (opset 1's consumed_inputs has no effect), from input 1 after;
// allowzero from 14.
type reshapeOp struct {
	reshaper
	n         *onnx.Node
	allowzero bool
	attrShape []int64 // opset < 5
	fromAttr  bool
}

func buildReshape(n *onnx.Node, opset int64) (op, error) {
	if opset < 5 {
		if err := checkArity(n, 1, 1, 1); err != nil {
			return nil, err
		}
		a := attrs{n: n}
		if !a.has("shape") {
			return nil, errorf(n, "attribute \"shape\" is required")
		}
		o := &reshapeOp{n: n, fromAttr: true, attrShape: a.ints("shape", -1, nil)}
		a.ints("consumed_inputs", -1, nil)
		if a.err != nil {
			return nil, a.err
		}
		return o, nil
	}
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	o := &reshapeOp{n: n}
	if opset >= 14 {
		a := attrs{n: n}
		o.allowzero = a.int("allowzero", 0) != 0
		if a.err != nil {
			return nil, a.err
		}
	}
	return o, nil
}

func (o *reshapeOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	spec := o.attrShape
	if !o.fromAttr {
		var err error
		if spec, err = intValues(o.n, in[1], "shape"); err != nil {
			return err
		}
	}
	shape := shapeBuf(out[0], len(spec))
	infer := -1
	known := 1 // product of the dimensions other than the inferred one
	for i, d := range spec {
		switch {
		case d == 0 && !o.allowzero:
			if i >= x.Rank() {
				return errorf(o.n, "shape %v: 0 at index %d copies a dimension the %d-D input lacks", spec, i, x.Rank())
			}
			shape[i] = x.Shape[i]
		case d == -1:
			if infer >= 0 {
				return errorf(o.n, "shape %v: more than one -1", spec)
			}
			infer = i
			continue
		case d < 0 || d > int64(maxElements):
			return errorf(o.n, "shape %v: invalid dimension %d", spec, d)
		default:
			shape[i] = int(d)
		}
		if shape[i] != 0 && known > math.MaxInt/shape[i] {
			return errorf(o.n, "shape %v: too many elements", spec)
		}
		known *= shape[i]
	}
	n := x.Len()
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			return errorf(o.n, "cannot reshape %v to %v", x, spec)
		}
		shape[infer] = n / known
	} else if known != n {
		return errorf(o.n, "cannot reshape %v to %v", x, spec)
	}
	o.reshape(out[0], x, shape)
	return nil
}

// squeezeOp is Squeeze or Unsqueeze: axes from the attribute before opset
// 13, from input 1 after.
type squeezeOp struct {
	reshaper
	n         *onnx.Node
	unsqueeze bool
	axesInput bool
	axes      []int64
}

func buildSqueeze(unsqueeze bool) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		o := &squeezeOp{n: n, unsqueeze: unsqueeze, axesInput: opset >= 13}
		minIn, maxIn := 1, 1
		if o.axesInput {
			maxIn = 2
			if unsqueeze {
				minIn = 2
			}
		}
		if err := checkArity(n, minIn, maxIn, 1); err != nil {
			return nil, err
		}
		if !o.axesInput {
			a := attrs{n: n}
			o.axes = a.ints("axes", -1, nil)
			if a.err != nil {
				return nil, a.err
			}
			if unsqueeze && o.axes == nil {
				return nil, errorf(n, "attribute \"axes\" is required")
			}
		}
		return o, nil
	}
}

func (o *squeezeOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	axes := o.axes
	if t := input(in, 1); o.axesInput && t != nil {
		v, err := intValues(o.n, t, "axes")
		if err != nil {
			return err
		}
		axes = v
	}
	var flagBuf [16]bool
	var shape []int
	if o.unsqueeze {
		r := x.Rank() + len(axes)
		ins := flags(flagBuf[:], r)
		for _, a := range axes {
			i, err := normAxis(o.n, a, r)
			if err != nil {
				return err
			}
			if ins[i] {
				return errorf(o.n, "axis %d repeated", a)
			}
			ins[i] = true
		}
		shape = shapeBuf(out[0], r)
		j := 0
		for i := range r {
			if ins[i] {
				shape[i] = 1
			} else {
				shape[i] = x.Shape[j]
				j++
			}
		}
	} else {
		drop := flags(flagBuf[:], x.Rank())
		for _, a := range axes {
			i, err := normAxis(o.n, a, x.Rank())
			if err != nil {
				return err
			}
			if x.Shape[i] != 1 {
				return errorf(o.n, "cannot squeeze axis %d of %v: size is not 1", a, x)
			}
			drop[i] = true
		}
		if len(axes) == 0 {
			for i, d := range x.Shape {
				drop[i] = d == 1
			}
		}
		k := 0
		for _, dr := range drop {
			if !dr {
				k++
			}
		}
		// The output's own shape storage holds k values (no allocation).
		shape = shapeBuf(out[0], k)[:0]
		for i, d := range x.Shape {
			if !drop[i] {
				shape = append(shape, d)
			}
		}
	}
	o.reshape(out[0], x, shape)
	return nil
}

// flags returns n false values in buf when it is large enough (so that
// they can live on the caller's stack), else in a new slice.
func flags(buf []bool, n int) []bool {
	if n <= len(buf) {
		clear(buf[:n])
		return buf[:n]
	}
	return make([]bool, n)
}

// transposeOp is Transpose: perm defaults to reversing the axes.
type transposeOp struct {
	n    *onnx.Node
	perm []int64
}

func buildTranspose(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &transposeOp{n, a.ints("perm", -1, nil)}
	return o, a.err
}

func (o *transposeOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	r := x.Rank()
	perm := o.perm
	if perm == nil {
		perm = make([]int64, r)
		for i := range perm {
			perm[i] = int64(r - 1 - i)
		}
	}
	if len(perm) != r {
		return errorf(o.n, "perm %v: want %d values for %v", perm, r, x)
	}
	seen := make([]bool, r)
	st := rowMajorStrides(x.Shape)
	shape := make([]int, r)
	strides := make([]int, r)
	for i, p := range perm {
		if p < 0 || p >= int64(r) || seen[p] {
			return errorf(o.n, "perm %v is not a permutation of 0..%d", perm, r-1)
		}
		seen[p] = true
		shape[i], strides[i] = x.Shape[p], st[p]
	}
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	stridedCopy(out[0], shape, x, 0, strides)
	return nil
}

// gatherOp is Gather along any axis; negative indices count from the end
// (opset 11 and later; opset 1 left them undefined, so accepting them too
// is harmless).
type gatherOp struct {
	n    *onnx.Node
	axis int64
}

func buildGather(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &gatherOp{n, a.int("axis", 0)}
	return o, a.err
}

func (o *gatherOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, it := in[0], in[1]
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	if it.DType != tensor.Int64 && it.DType != tensor.Int32 {
		return errorf(o.n, "indices: want int64 or int32, got %v", it.DType)
	}
	axis, err := normAxis(o.n, o.axis, x.Rank())
	if err != nil {
		return err
	}
	size := x.Shape[axis]
	ni := it.Len()
	for i := range ni {
		if v := gatherIndex(it, i); v < -int64(size) || v >= int64(size) {
			return errorf(o.n, "index %d out of range for axis %d of size %d", v, o.axis, size)
		}
	}
	d := out[0]
	shape := shapeBuf(d, x.Rank()-1+it.Rank())
	copy(shape, x.Shape[:axis])
	copy(shape[axis:], it.Shape)
	copy(shape[axis+it.Rank():], x.Shape[axis+1:])
	if err := checkSizeOf(o.n, shape, x.DType); err != nil {
		return err
	}
	outer, inner := tensor.NumElements(x.Shape[:axis]), tensor.NumElements(x.Shape[axis+1:])
	d.Resize(x.DType, shape...)
	if d.Len() == 0 {
		return nil
	}
	for i := 0; i < outer; i++ {
		for j := range ni {
			k := int(gatherIndex(it, j))
			if k < 0 {
				k += size
			}
			copyElems(d, (i*ni+j)*inner, x, (i*size+k)*inner, inner)
		}
	}
	return nil
}

// gatherIndex returns element i of an int64 or int32 indices tensor.
func gatherIndex(t *tensor.Tensor, i int) int64 {
	if t.DType == tensor.Int64 {
		return t.I64[i]
	}
	return int64(t.I32[i])
}

// concatOp is Concat (axis required from opset 4, negative from 11).
type concatOp struct {
	n    *onnx.Node
	axis int64
}

func buildConcat(n *onnx.Node, opset int64) (op, error) {
	if len(n.Inputs) < 1 {
		return nil, errorf(n, "want at least 1 input")
	}
	if err := checkArity(n, len(n.Inputs), len(n.Inputs), 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	if opset >= 4 && !a.has("axis") {
		return nil, errorf(n, "attribute \"axis\" is required")
	}
	o := &concatOp{n, a.int("axis", 1)}
	return o, a.err
}

func (o *concatOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x0 := in[0]
	if !validDType(x0) {
		return errorf(o.n, "unsupported dtype %v", x0.DType)
	}
	axis, err := normAxis(o.n, o.axis, x0.Rank())
	if err != nil {
		return err
	}
	d := out[0]
	shape := shapeBuf(d, x0.Rank())
	copy(shape, x0.Shape)
	shape[axis] = 0
	for _, t := range in {
		if t.DType != x0.DType {
			return errorf(o.n, "input dtypes differ: %v and %v", x0.DType, t.DType)
		}
		if t.Rank() != x0.Rank() {
			return errorf(o.n, "inputs %v and %v differ in rank", x0, t)
		}
		for i, d := range t.Shape {
			if i != axis && d != x0.Shape[i] {
				return errorf(o.n, "inputs %v and %v differ outside axis %d", x0, t, o.axis)
			}
		}
		shape[axis] += t.Shape[axis]
	}
	if err := checkSizeOf(o.n, shape, x0.DType); err != nil {
		return err
	}
	d.Resize(x0.DType, shape...)
	outer, inner := tensor.NumElements(shape[:axis]), tensor.NumElements(shape[axis+1:])
	if inner == 0 {
		return nil
	}
	off := 0
	for i := 0; i < outer; i++ {
		for _, t := range in {
			blk := t.Shape[axis] * inner
			copyElems(d, off, t, i*blk, blk)
			off += blk
		}
	}
	return nil
}

// sliceOp is Slice: starts, ends and axes attributes before opset 10; from
// 10 the inputs starts, ends, optional axes and optional steps.
type sliceOp struct {
	n                  *onnx.Node
	fromInputs         bool
	starts, ends, axes []int64
}

func buildSlice(n *onnx.Node, opset int64) (op, error) {
	o := &sliceOp{n: n, fromInputs: opset >= 10}
	if o.fromInputs {
		if err := checkArity(n, 3, 5, 1); err != nil {
			return nil, err
		}
		return o, nil
	}
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	if !a.has("starts") || !a.has("ends") {
		return nil, errorf(n, "attributes \"starts\" and \"ends\" are required")
	}
	o.starts = a.ints("starts", -1, nil)
	o.ends = a.ints("ends", len(o.starts), nil)
	o.axes = a.ints("axes", len(o.starts), nil)
	return o, a.err
}

func (o *sliceOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	starts, ends, axes := o.starts, o.ends, o.axes
	var steps []int64
	if o.fromInputs {
		var err error
		names := []string{"starts", "ends", "axes", "steps"}
		vals := make([][]int64, 4)
		for i := range vals {
			if t := input(in, i+1); t != nil {
				if vals[i], err = intValues(o.n, t, names[i]); err != nil {
					return err
				}
				if len(vals[i]) != len(vals[0]) {
					return errorf(o.n, "input %s has %d values, starts has %d", names[i], len(vals[i]), len(vals[0]))
				}
			}
		}
		starts, ends, axes, steps = vals[0], vals[1], vals[2], vals[3]
	}
	r := x.Rank()
	if len(starts) > r {
		return errorf(o.n, "%d starts for %v", len(starts), x)
	}
	shape := append([]int(nil), x.Shape...)
	st := rowMajorStrides(x.Shape)
	strides := append([]int(nil), st...)
	base := 0
	done := make([]bool, r)
	for i := range starts {
		ax := int64(i)
		if axes != nil {
			ax = axes[i]
		}
		a, err := normAxis(o.n, ax, r)
		if err != nil {
			return err
		}
		if done[a] {
			return errorf(o.n, "axis %d repeated", ax)
		}
		done[a] = true
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return errorf(o.n, "step 0 on axis %d", ax)
		}
		dim := int64(x.Shape[a])
		// |step| beyond the dimension selects at most one element; clamping
		// it keeps the offsets below from overflowing.
		step = max(min(step, max(dim, 1)), -max(dim, 1))
		start, end := starts[i], ends[i]
		if start < 0 {
			start += dim
		}
		if end < 0 {
			end += dim
		}
		var n int64
		if step > 0 {
			start, end = min(max(start, 0), dim), min(max(end, 0), dim)
			if end > start {
				n = (end - start + step - 1) / step
			}
		} else {
			start, end = min(max(start, 0), dim-1), min(max(end, -1), dim-1)
			if start > end {
				n = (start - end - step - 1) / -step
			}
		}
		shape[a] = int(n)
		if n > 0 {
			base += int(start) * st[a]
		}
		strides[a] = int(step) * st[a]
	}
	stridedCopy(out[0], shape, x, base, strides)
	return nil
}

// expandOp is Expand (opset 8 and later): broadcast the input to a shape
// (bidirectionally: the result is the broadcast of both shapes).
type expandOp struct{ n *onnx.Node }

func buildExpand(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	return &expandOp{n}, nil
}

func (o *expandOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	want, err := shapeInput(o.n, in[1], "shape")
	if err != nil {
		return err
	}
	shape, err := broadcastShape(x.Shape, want)
	if err != nil {
		return errorf(o.n, "%v", err)
	}
	if err := checkSizeOf(o.n, shape, x.DType); err != nil {
		return err
	}
	st := rowMajorStrides(x.Shape)
	strides := make([]int, len(shape))
	off := len(shape) - x.Rank()
	for i, d := range x.Shape {
		if d != 1 {
			strides[off+i] = st[i]
		}
	}
	stridedCopy(out[0], shape, x, 0, strides)
	return nil
}

// rangeOp is Range (opset 11): start, start+delta, ... up to limit
// (exclusive), for float32, float64, int32 and int64 scalars.
type rangeOp struct{ n *onnx.Node }

func buildRange(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 3, 3, 1); err != nil {
		return nil, err
	}
	return &rangeOp{n}, nil
}

func (o *rangeOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	for _, t := range in {
		if t.DType != in[0].DType || t.Len() != 1 {
			return errorf(o.n, "want three %v scalars, got %v", in[0].DType, t)
		}
	}
	switch in[0].DType {
	case tensor.Float32:
		return rangeFloat(o.n, in[0].F32[0], in[1].F32[0], in[2].F32[0], out[0])
	case tensor.Float64:
		return rangeFloat(o.n, in[0].F64[0], in[1].F64[0], in[2].F64[0], out[0])
	case tensor.Int64:
		return rangeInt(o.n, in[0].I64[0], in[1].I64[0], in[2].I64[0], out[0])
	case tensor.Int32:
		return rangeInt(o.n, in[0].I32[0], in[1].I32[0], in[2].I32[0], out[0])
	}
	return errorf(o.n, "unsupported dtype %v", in[0].DType)
}

func rangeFloat[T float32 | float64](n *onnx.Node, start, limit, delta T, d *tensor.Tensor) error {
	c := math.Ceil(float64(limit-start) / float64(delta))
	if delta == 0 || math.IsNaN(c) || c > float64(maxElements) {
		return errorf(n, "invalid range start %v limit %v delta %v", start, limit, delta)
	}
	cnt := int(max(c, 0))
	d.Resize(dtypeOf[T](), cnt)
	v := data[T](d)
	for i := range v {
		v[i] = start + T(i)*delta
	}
	return nil
}

func rangeInt[T int64 | int32](n *onnx.Node, start, limit, delta T, d *tensor.Tensor) error {
	if delta == 0 {
		return errorf(n, "delta is 0")
	}
	// Count in uint64 so that extreme values cannot overflow.
	var span, step uint64
	switch {
	case delta > 0 && limit > start:
		span, step = uint64(int64(limit)-int64(start)), uint64(int64(delta))
	case delta < 0 && limit < start:
		span, step = uint64(int64(start)-int64(limit)), uint64(-int64(delta))
	}
	var cnt uint64
	if step > 0 {
		cnt = span / step
		if span%step != 0 {
			cnt++
		}
	}
	if cnt > uint64(maxElements) {
		return errorf(n, "range of %d elements is too large", cnt)
	}
	d.Resize(dtypeOf[T](), int(cnt))
	v := data[T](d)
	for i := range v {
		v[i] = start + T(i)*delta
	}
	return nil
}
