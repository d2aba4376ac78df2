package infer

import (
	"math"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Layout ops that move or select elements: Split, Tile, DepthToSpace,
// SpaceToDepth, Trilu, EyeLike, Size, Compress, ReverseSequence, OneHot
// and NonZero.

// takeElems resizes d to x's dtype and the given shape and sets its element
// i to x's element idx[i], or to zero where idx[i] is -1; every other
// idx[i] is within x.
func takeElems(d *tensor.Tensor, shape []int, x *tensor.Tensor, idx []int) {
	d.Resize(x.DType, shape...)
	switch x.DType.Storage() {
	case tensor.Float32:
		take(d.F32, x.F32, idx)
	case tensor.Float64:
		take(d.F64, x.F64, idx)
	case tensor.Int64:
		take(d.I64, x.I64, idx)
	case tensor.Int32:
		take(d.I32, x.I32, idx)
	case tensor.Uint8:
		take(data[uint8](d), data[uint8](x), idx)
	case tensor.Int8:
		take(data[int8](d), data[int8](x), idx)
	case tensor.Int16:
		take(data[int16](d), data[int16](x), idx)
	case tensor.Uint16:
		take(data[uint16](d), data[uint16](x), idx)
	case tensor.Uint32:
		take(data[uint32](d), data[uint32](x), idx)
	case tensor.Uint64:
		take(data[uint64](d), data[uint64](x), idx)
	case tensor.Bool:
		take(d.B, x.B, idx)
	case tensor.String:
		take(data[string](d), data[string](x), idx)
	}
}

func take[T elem](d, s []T, idx []int) {
	var zero T
	for i, j := range idx {
		if j < 0 {
			d[i] = zero
			continue
		}
		d[i] = s[j]
	}
}

// splitOp is Split: the lengths from the split attribute (opsets 1 to 11),
// from opset 1's optional second input, or from the split input (13 on);
// without them, equal parts, one per output, or from opset 18 num_outputs
// parts of ceil(dim/num_outputs) with a smaller last one.
type splitOp struct {
	n          *onnx.Node
	opset      int64
	axis       int64
	split      []int64 // the split attribute (before opset 13)
	numOutputs int64   // num_outputs (opset 18), 0 when absent
	nout       int
}

func buildSplit(n *onnx.Node, opset int64) (op, error) {
	maxIn := 1
	if opset == 1 || opset >= 13 {
		maxIn = 2
	}
	if err := checkArity(n, 1, maxIn, max(len(n.Outputs), 1)); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &splitOp{n: n, opset: opset, axis: a.int("axis", 0), nout: len(n.Outputs)}
	if opset < 13 {
		o.split = a.ints("split", -1, nil)
		if o.split != nil && len(o.split) != o.nout {
			a.fail("attribute \"split\": %d values for %d outputs", len(o.split), o.nout)
		}
	}
	if opset >= 18 && a.has("num_outputs") {
		o.numOutputs = a.int("num_outputs", 0)
		if o.numOutputs != int64(o.nout) {
			a.fail("attribute \"num_outputs\" is %d, node has %d outputs", o.numOutputs, o.nout)
		}
		if len(n.Inputs) > 1 && n.Inputs[1] != "" {
			a.fail("both input \"split\" and attribute \"num_outputs\" given")
		}
	}
	return o, a.err
}

func (o *splitOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	axis, err := normAxis(o.n, o.axis, x.Rank())
	if err != nil {
		return err
	}
	dim := x.Shape[axis]
	sizes := make([]int, o.nout)
	lens := o.split
	if t := input(in, 1); t != nil {
		if o.opset == 1 {
			if !isNumber(t.DType) || t.Rank() > 1 {
				return errorf(o.n, "input split: want a 1-D numeric tensor, got %v", t)
			}
			lens = toInt64(t)
		} else if lens, err = intValues(o.n, t, "split"); err != nil {
			return err
		}
	}
	switch {
	case lens != nil:
		if len(lens) != o.nout {
			return errorf(o.n, "split %v: %d values for %d outputs", lens, len(lens), o.nout)
		}
		sum := 0
		for i, l := range lens {
			if l < 0 || l > int64(dim-sum) {
				return errorf(o.n, "split %v does not add up to dimension %d of %v", lens, dim, x)
			}
			sizes[i] = int(l)
			sum += int(l)
		}
		if sum != dim {
			return errorf(o.n, "split %v does not add up to dimension %d of %v", lens, dim, x)
		}
	case o.numOutputs > 0:
		chunk := (dim + o.nout - 1) / o.nout
		last := dim - chunk*(o.nout-1)
		if last < 0 {
			return errorf(o.n, "cannot split dimension %d of %v into %d parts of %d", dim, x, o.nout, chunk)
		}
		for i := range sizes {
			sizes[i] = chunk
		}
		sizes[o.nout-1] = last
	default:
		if dim%o.nout != 0 {
			return errorf(o.n, "cannot split dimension %d of %v into %d equal parts", dim, x, o.nout)
		}
		for i := range sizes {
			sizes[i] = dim / o.nout
		}
	}
	st := rowMajorStrides(x.Shape)
	off := 0
	for i, sz := range sizes {
		if i < len(out) {
			shape := shapeBuf(out[i], x.Rank())
			copy(shape, x.Shape)
			shape[axis] = sz
			stridedCopy(out[i], shape, x, off*st[axis], st)
		}
		off += sz
	}
	return nil
}

// tileOp is Tile: from opset 6 the repeats input has one count per axis;
// opset 1 repeats one axis (scalar inputs tiles and axis).
type tileOp struct {
	n      *onnx.Node
	legacy bool
}

func buildTile(n *onnx.Node, opset int64) (op, error) {
	nin := 2
	if opset < 6 {
		nin = 3
	}
	if err := checkArity(n, nin, nin, 1); err != nil {
		return nil, err
	}
	return &tileOp{n, opset < 6}, nil
}

func (o *tileOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	r := x.Rank()
	var reps []int64
	if o.legacy {
		tiles, err := intValues(o.n, in[1], "tiles")
		if err != nil {
			return err
		}
		ax, err := intValues(o.n, in[2], "axis")
		if err != nil {
			return err
		}
		if len(tiles) != 1 || len(ax) != 1 {
			return errorf(o.n, "inputs tiles and axis: want one value each, got %d and %d", len(tiles), len(ax))
		}
		a, err := normAxis(o.n, ax[0], r)
		if err != nil {
			return err
		}
		reps = make([]int64, r)
		for i := range reps {
			reps[i] = 1
		}
		reps[a] = tiles[0]
	} else {
		var err error
		if reps, err = intValues(o.n, in[1], "repeats"); err != nil {
			return err
		}
		if len(reps) != r {
			return errorf(o.n, "repeats %v: want %d values for %v", reps, r, x)
		}
	}
	// The output is the input read with stride 0 over a repeat axis before
	// each of its own axes.
	shape2, strides2 := make([]int, 2*r), make([]int, 2*r)
	st := rowMajorStrides(x.Shape)
	shape := make([]int, r)
	for i, rep := range reps {
		if rep < 0 || rep > int64(maxElements) || (x.Shape[i] > 0 && int(rep) > maxElements/x.Shape[i]) {
			return errorf(o.n, "repeats %v: invalid count %d", reps, rep)
		}
		shape2[2*i], shape2[2*i+1], strides2[2*i+1] = int(rep), x.Shape[i], st[i]
		shape[i] = int(rep) * x.Shape[i]
	}
	if err := checkSizeOf(o.n, shape, x.DType); err != nil {
		return err
	}
	d := out[0]
	stridedCopy(d, shape2, x, 0, strides2)
	d.Resize(x.DType, shape...)
	return nil
}

// depthSpaceOp is DepthToSpace (mode DCR or CRD, opset 11) or
// SpaceToDepth, on NCHW tensors.
type depthSpaceOp struct {
	n       *onnx.Node
	block   int
	crd     bool
	toSpace bool
}

func buildDepthSpace(toSpace bool) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		if err := checkArity(n, 1, 1, 1); err != nil {
			return nil, err
		}
		a := attrs{n: n}
		if !a.has("blocksize") {
			return nil, errorf(n, "attribute \"blocksize\" is required")
		}
		b := a.int("blocksize", 0)
		o := &depthSpaceOp{n: n, toSpace: toSpace}
		if toSpace && opset >= 11 {
			switch m := a.string("mode", "DCR"); m {
			case "DCR":
			case "CRD":
				o.crd = true
			default:
				a.fail("attribute \"mode\": want DCR or CRD, got %q", m)
			}
		}
		if b < 1 || b > 1<<15 {
			a.fail("attribute \"blocksize\": invalid value %d", b)
		}
		o.block = int(b)
		return o, a.err
	}
}

func (o *depthSpaceOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	if x.Rank() != 4 {
		return errorf(o.n, "want a 4-D input, got %v", x)
	}
	n, c, h, w, b := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], o.block
	var shape6, strides6 []int
	shape := make([]int, 4)
	if o.toSpace {
		if c%(b*b) != 0 {
			return errorf(o.n, "channels of %v are not a multiple of blocksize² %d", x, b*b)
		}
		cc := c / (b * b)
		// Output [n, cc, h, b, w, b] read from the input viewed as
		// [n, b, b, cc, h, w] (DCR) or [n, cc, b, b, h, w] (CRD).
		shape6 = []int{n, cc, h, b, w, b}
		if o.crd {
			strides6 = []int{c * h * w, b * b * h * w, w, b * h * w, 1, h * w}
		} else {
			strides6 = []int{c * h * w, h * w, w, b * cc * h * w, 1, cc * h * w}
		}
		shape[0], shape[1], shape[2], shape[3] = n, cc, h*b, w*b
	} else {
		if h%b != 0 || w%b != 0 {
			return errorf(o.n, "height and width of %v are not multiples of blocksize %d", x, b)
		}
		// Output [n, b, b, c, h/b, w/b] read from the input viewed as
		// [n, c, h/b, b, w/b, b].
		shape6 = []int{n, b, b, c, h / b, w / b}
		strides6 = []int{c * h * w, w, 1, h * w, b * w, b}
		shape[0], shape[1], shape[2], shape[3] = n, c*b*b, h/b, w/b
	}
	if err := checkSize(o.n, shape); err != nil {
		return err
	}
	d := out[0]
	stridedCopy(d, shape6, x, 0, strides6)
	d.Resize(x.DType, shape...)
	return nil
}

// triluOp is Trilu (opset 14): keeps the elements on and above (upper) or
// on and below (lower) the k-th diagonal of the last two axes, zeroes the
// others.
type triluOp struct {
	n     *onnx.Node
	upper bool
}

func buildTrilu(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &triluOp{n, a.int("upper", 1) != 0}
	return o, a.err
}

func (o *triluOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	if x.Rank() < 2 {
		return errorf(o.n, "want an input of rank >= 2, got %v", x)
	}
	k := int64(0)
	if t := input(in, 1); t != nil {
		v, err := intValues(o.n, t, "k")
		if err != nil {
			return err
		}
		if len(v) != 1 {
			return errorf(o.n, "input k: want one value, got %d", len(v))
		}
		k = v[0]
	}
	rows, cols := x.Shape[x.Rank()-2], x.Shape[x.Rank()-1]
	// Clamping k to the matrix keeps j-i-k from overflowing.
	k = min(max(k, -int64(rows)-1), int64(cols)+1)
	d := out[0]
	d.Resize(x.DType, x.Shape...)
	copyElems(d, 0, x, 0, x.Len())
	switch d.DType {
	case tensor.Float32:
		trilu(d.F32, rows, cols, int(k), o.upper)
	case tensor.Float64:
		trilu(d.F64, rows, cols, int(k), o.upper)
	case tensor.Int64:
		trilu(d.I64, rows, cols, int(k), o.upper)
	case tensor.Int32:
		trilu(d.I32, rows, cols, int(k), o.upper)
	case tensor.Uint8:
		trilu(d.U8, rows, cols, int(k), o.upper)
	case tensor.Int8:
		trilu(d.I8, rows, cols, int(k), o.upper)
	case tensor.Int16:
		trilu(data[int16](d), rows, cols, int(k), o.upper)
	case tensor.Uint16:
		trilu(data[uint16](d), rows, cols, int(k), o.upper)
	case tensor.Uint32:
		trilu(data[uint32](d), rows, cols, int(k), o.upper)
	case tensor.Uint64:
		trilu(data[uint64](d), rows, cols, int(k), o.upper)
	case tensor.Bool:
		trilu(d.B, rows, cols, int(k), o.upper)
	}
	return nil
}

func trilu[T elem](v []T, rows, cols, k int, upper bool) {
	var zero T
	for m := 0; m < len(v); m += rows * cols {
		for i := range rows {
			row := v[m+i*cols : m+(i+1)*cols]
			for j := range row {
				if (upper && j-i < k) || (!upper && j-i > k) {
					row[j] = zero
				}
			}
		}
	}
}

// eyeLikeOp is EyeLike (opsets 9 and 22): ones on the k-th diagonal of a
// 2-D tensor shaped like the input, of the dtype attribute's type or the
// input's.
type eyeLikeOp struct {
	n     *onnx.Node
	dtype tensor.DType // Invalid: the input's
	k     int64
}

func buildEyeLike(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &eyeLikeOp{n: n, k: a.int("k", 0)}
	if a.has("dtype") {
		code := a.int("dtype", 0)
		if o.dtype = onnx.DTypeOf(int32(code)); o.dtype == tensor.Invalid && a.err == nil {
			return nil, unsupportedf(n, "attribute \"dtype\": data type %d", code)
		}
	}
	return o, a.err
}

func (o *eyeLikeOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if x.Rank() != 2 {
		return errorf(o.n, "want a 2-D input, got %v", x)
	}
	dt := o.dtype
	if dt == tensor.Invalid {
		dt = x.DType
	}
	if dt == tensor.Invalid || dt.Size() == 0 {
		return errorf(o.n, "unsupported dtype %v", dt)
	}
	rows, cols := x.Shape[0], x.Shape[1]
	k := min(max(o.k, -int64(rows)), int64(cols))
	d := out[0]
	d.Resize(dt, rows, cols)
	switch dt {
	case tensor.Float32:
		eye(d.F32, rows, cols, int(k), 1)
	case tensor.Float64:
		eye(d.F64, rows, cols, int(k), 1)
	case tensor.Int64:
		eye(d.I64, rows, cols, int(k), 1)
	case tensor.Int32:
		eye(d.I32, rows, cols, int(k), 1)
	case tensor.Uint8:
		eye(d.U8, rows, cols, int(k), 1)
	case tensor.Int8:
		eye(d.I8, rows, cols, int(k), 1)
	case tensor.Int16:
		eye(data[int16](d), rows, cols, int(k), 1)
	case tensor.Uint16:
		eye(data[uint16](d), rows, cols, int(k), 1)
	case tensor.Uint32:
		eye(data[uint32](d), rows, cols, int(k), 1)
	case tensor.Uint64:
		eye(data[uint64](d), rows, cols, int(k), 1)
	case tensor.Bool:
		eye(d.B, rows, cols, int(k), true)
	default: // float16, bfloat16, float8, ...: through the table's conversions
		for i := range rows * cols {
			v := 0.0
			if i%cols-i/cols == int(k) {
				v = 1
			}
			d.SetFloat64(i, v)
		}
	}
	return nil
}

func eye[T elem](v []T, rows, cols, k int, one T) {
	clear(v)
	for i := max(0, -k); i < rows && i+k < cols; i++ {
		v[i*cols+i+k] = one
	}
}

// sizeOp is Size: the input's element count as an int64 scalar.
type sizeOp struct{}

func buildSize(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	return sizeOp{}, nil
}

func (sizeOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	out[0].Resize(tensor.Int64)
	out[0].I64[0] = int64(in[0].Len())
	return nil
}

// compressOp is Compress: the slices along axis (the flattened input when
// axis is absent) where the 1-D bool condition is true; a condition shorter
// than the axis leaves the rest out.
type compressOp struct {
	n       *onnx.Node
	axis    int64
	hasAxis bool
}

func buildCompress(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &compressOp{n: n, hasAxis: a.has("axis"), axis: a.int("axis", 0)}
	return o, a.err
}

func (o *compressOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, c := in[0], in[1]
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	if c.DType != tensor.Bool || c.Rank() != 1 {
		return errorf(o.n, "input condition: want a 1-D bool tensor, got %v", c)
	}
	outer, dim, inner := 1, x.Len(), 1
	axis := 0
	if o.hasAxis {
		var err error
		if axis, err = normAxis(o.n, o.axis, x.Rank()); err != nil {
			return err
		}
		outer, dim, inner = tensor.NumElements(x.Shape[:axis]), x.Shape[axis], tensor.NumElements(x.Shape[axis+1:])
	}
	if len(c.B) > dim {
		return errorf(o.n, "condition has %d values for dimension %d", len(c.B), dim)
	}
	var sel []int
	for j, b := range c.B {
		if b {
			sel = append(sel, j)
		}
	}
	idx := make([]int, 0, outer*len(sel)*inner)
	for i := range outer {
		for _, j := range sel {
			for k := range inner {
				idx = append(idx, (i*dim+j)*inner+k)
			}
		}
	}
	var shape []int
	if o.hasAxis {
		shape = append(shapeBuf(out[0], x.Rank())[:0], x.Shape...)
		shape[axis] = len(sel)
	} else {
		shape = append(shapeBuf(out[0], 1)[:0], len(sel))
	}
	takeElems(out[0], shape, x, idx)
	return nil
}

// reverseSequenceOp is ReverseSequence (opset 10): for each batch entry b,
// the first sequence_lens[b] elements along the time axis are reversed.
type reverseSequenceOp struct {
	n                *onnx.Node
	batchAxis, tAxis int
}

func buildReverseSequence(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	b, t := a.int("batch_axis", 1), a.int("time_axis", 0)
	if a.err != nil {
		return nil, a.err
	}
	if (b != 0 && b != 1) || (t != 0 && t != 1) || b == t {
		return nil, errorf(n, "attributes batch_axis %d and time_axis %d: want 0 and 1 in some order", b, t)
	}
	return &reverseSequenceOp{n, int(b), int(t)}, nil
}

func (o *reverseSequenceOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	if x.Rank() < 2 {
		return errorf(o.n, "want an input of rank >= 2, got %v", x)
	}
	lens, err := intValues(o.n, in[1], "sequence_lens")
	if err != nil {
		return err
	}
	batch, steps := x.Shape[o.batchAxis], x.Shape[o.tAxis]
	if len(lens) != batch {
		return errorf(o.n, "sequence_lens has %d values for batch size %d", len(lens), batch)
	}
	for _, l := range lens {
		if l < 0 || l > int64(steps) {
			return errorf(o.n, "sequence length %d out of range [0, %d]", l, steps)
		}
	}
	d := out[0]
	d.Resize(x.DType, x.Shape...)
	d1, inner := x.Shape[1], tensor.NumElements(x.Shape[2:])
	for i0 := range x.Shape[0] {
		for i1 := range d1 {
			b, t := i0, i1
			if o.batchAxis == 1 {
				b, t = i1, i0
			}
			if l := int(lens[b]); t < l {
				t = l - 1 - t
			}
			s0, s1 := b, t
			if o.batchAxis == 1 {
				s0, s1 = t, b
			}
			copyElems(d, (i0*d1+i1)*inner, x, (s0*d1+s1)*inner, inner)
		}
	}
	return nil
}

// oneHotOp is OneHot: a new axis of size depth holding values[1] where the
// index points and values[0] elsewhere. Indices outside [0, depth) (opset
// 9) or [-depth, depth) (opset 11, negative counting from the end) give a
// row of values[0].
type oneHotOp struct {
	n        *onnx.Node
	axis     int64
	negative bool
}

func buildOneHot(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 3, 3, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &oneHotOp{n: n, axis: a.int("axis", -1), negative: opset >= 11}
	return o, a.err
}

func (o *oneHotOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	it, dt, vt := in[0], in[1], in[2]
	if !isNumber(it.DType) {
		return errorf(o.n, "input indices: unsupported dtype %v", it.DType)
	}
	if !isNumber(dt.DType) || dt.Len() != 1 || dt.Rank() > 1 {
		return errorf(o.n, "input depth: want one number, got %v", dt)
	}
	if !validDType(vt) || vt.Len() != 2 || vt.Rank() != 1 {
		return errorf(o.n, "input values: want 2 values [off, on], got %v", vt)
	}
	df := dt.Float64At(0)
	if !(df >= 0 && df <= float64(maxElements)) {
		return errorf(o.n, "invalid depth %v", df)
	}
	depth := int(df)
	r := it.Rank() + 1
	axis, err := normAxis(o.n, o.axis, r)
	if err != nil {
		return err
	}
	shape := shapeBuf(out[0], r)
	copy(shape, it.Shape[:axis])
	shape[axis] = depth
	copy(shape[axis+1:], it.Shape[axis:])
	if err := checkSizeOf(o.n, shape, vt.DType); err != nil {
		return err
	}
	ind := toFloat64(it)
	outer, inner := tensor.NumElements(it.Shape[:axis]), tensor.NumElements(it.Shape[axis:])
	idx := make([]int, outer*depth*inner)
	for i := range outer {
		for k := range inner {
			v := ind[i*inner+k]
			if v != math.Trunc(v) {
				continue // a fractional index points nowhere, as in onnxruntime
			}
			if v < 0 && o.negative {
				v += float64(depth)
			}
			if v >= 0 && v < float64(depth) {
				idx[(i*depth+int(v))*inner+k] = 1
			}
		}
	}
	takeElems(out[0], shape, vt, idx)
	return nil
}

// nonZeroOp is NonZero: the indices of the nonzero elements, one row per
// axis (a scalar counts as one axis), in row-major order.
type nonZeroOp struct{ n *onnx.Node }

func buildNonZero(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	return &nonZeroOp{n}, nil
}

func (o *nonZeroOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	var nz []int
	switch x.DType {
	case tensor.Float32:
		nz = nonZero(x.F32)
	case tensor.Float64:
		nz = nonZero(x.F64)
	case tensor.Int64:
		nz = nonZero(x.I64)
	case tensor.Int32:
		nz = nonZero(x.I32)
	case tensor.Uint8:
		nz = nonZero(x.U8)
	case tensor.Int8:
		nz = nonZero(x.I8)
	case tensor.Int16:
		nz = nonZero(data[int16](x))
	case tensor.Uint16:
		nz = nonZero(data[uint16](x))
	case tensor.Uint32:
		nz = nonZero(data[uint32](x))
	case tensor.Uint64:
		nz = nonZero(data[uint64](x))
	case tensor.Bool:
		nz = nonZero(x.B)
	default:
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	shape := x.Shape
	if len(shape) == 0 {
		shape = []int{1}
	}
	d := out[0]
	d.Resize(tensor.Int64, len(shape), len(nz))
	st := rowMajorStrides(shape)
	for j, i := range nz {
		for a, s := range st {
			d.I64[a*len(nz)+j] = int64(i / s % shape[a])
		}
	}
	return nil
}

// nonZero returns the positions of v's elements that are not zero (NaN is
// not zero).
func nonZero[T elem](v []T) []int {
	var zero T
	var nz []int
	for i, x := range v {
		if x != zero {
			nz = append(nz, i)
		}
	}
	return nz
}
