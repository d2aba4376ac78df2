package infer

import (
	"slices"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Index ops: ArgMax, ArgMin, TopK, GatherElements, GatherND,
// ScatterElements, Scatter and ScatterND. Negative indices count from the
// end; an index out of range is an error naming the node.

// argOp is ArgMax or ArgMin: the int64 index of the first (or with
// select_last_index, opset 12, the last) extreme element along axis.
type argOp struct {
	n          *onnx.Node
	isMax      bool
	axis       int64
	keep, last bool
}

func buildArg(isMax bool) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		if err := checkArity(n, 1, 1, 1); err != nil {
			return nil, err
		}
		a := attrs{n: n}
		o := &argOp{n: n, isMax: isMax, axis: a.int("axis", 0), keep: a.int("keepdims", 1) != 0}
		if opset >= 12 {
			o.last = a.int("select_last_index", 0) != 0
		}
		return o, a.err
	}
}

func (o *argOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	axis, err := normAxis(o.n, o.axis, x.Rank())
	if err != nil {
		return err
	}
	size := x.Shape[axis]
	if size == 0 {
		return errorf(o.n, "axis %d of %v is empty", o.axis, x)
	}
	outer, inner := tensor.NumElements(x.Shape[:axis]), tensor.NumElements(x.Shape[axis+1:])
	d := out[0]
	shape := append(shapeBuf(d, x.Rank())[:0], x.Shape...)
	if o.keep {
		shape[axis] = 1
	} else {
		shape = append(shape[:axis], shape[axis+1:]...)
	}
	d.Resize(tensor.Int64, shape...)
	switch x.DType {
	case tensor.Float32:
		argExtreme(d.I64, x.F32, outer, size, inner, o.isMax, o.last)
	case tensor.Float64:
		argExtreme(d.I64, x.F64, outer, size, inner, o.isMax, o.last)
	case tensor.Int64:
		argExtreme(d.I64, x.I64, outer, size, inner, o.isMax, o.last)
	case tensor.Int32:
		argExtreme(d.I64, x.I32, outer, size, inner, o.isMax, o.last)
	case tensor.Uint8:
		argExtreme(d.I64, x.U8, outer, size, inner, o.isMax, o.last)
	case tensor.Int8:
		argExtreme(d.I64, x.I8, outer, size, inner, o.isMax, o.last)
	case tensor.Int16:
		argExtreme(d.I64, data[int16](x), outer, size, inner, o.isMax, o.last)
	case tensor.Uint16:
		argExtreme(d.I64, data[uint16](x), outer, size, inner, o.isMax, o.last)
	case tensor.Uint32:
		argExtreme(d.I64, data[uint32](x), outer, size, inner, o.isMax, o.last)
	case tensor.Uint64:
		argExtreme(d.I64, data[uint64](x), outer, size, inner, o.isMax, o.last)
	default:
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	return nil
}

func argExtreme[T number](d []int64, x []T, outer, size, inner int, isMax, last bool) {
	for i := range outer {
		for k := range inner {
			base := i*size*inner + k
			best, bi := x[base], 0
			for j := 1; j < size; j++ {
				v := x[base+j*inner]
				var better bool
				switch {
				case v != v: // NaN wins over numbers, as in onnxruntime and PyTorch
					better = best == best || last
				case best != best:
				case isMax:
					better = v > best || (last && v == best)
				default:
					better = v < best || (last && v == best)
				}
				if better {
					best, bi = v, j
				}
			}
			d[i*inner+k] = int64(bi)
		}
	}
}

// topKOp is TopK: the k largest (or from opset 11 with largest=0 smallest)
// elements along axis and their int64 indices, sorted, equal values in
// index order. k is an attribute in opset 1, the K input from 10; sorted=0
// (opset 11) leaves the order unspecified, so the sorted order is used.
type topKOp struct {
	n       *onnx.Node
	k       int64
	kInput  bool
	axis    int64
	largest bool
}

func buildTopK(n *onnx.Node, opset int64) (op, error) {
	nin := 2
	if opset < 10 {
		nin = 1
	}
	if err := checkArity(n, nin, nin, 2); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &topKOp{n: n, kInput: opset >= 10, axis: a.int("axis", -1), largest: true}
	if !o.kInput {
		if !a.has("k") {
			return nil, errorf(n, "attribute \"k\" is required")
		}
		o.k = a.int("k", 0)
	}
	if opset >= 11 {
		o.largest = a.int("largest", 1) != 0
		a.int("sorted", 1)
	}
	return o, a.err
}

func (o *topKOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	axis, err := normAxis(o.n, o.axis, x.Rank())
	if err != nil {
		return err
	}
	k := o.k
	if o.kInput {
		v, err := intValues(o.n, in[1], "K")
		if err != nil {
			return err
		}
		if len(v) != 1 {
			return errorf(o.n, "input K: want one value, got %d", len(v))
		}
		k = v[0]
	}
	size := x.Shape[axis]
	if k < 0 || k > int64(size) {
		return errorf(o.n, "k %d out of range for axis %d of %v", k, o.axis, x)
	}
	outer, inner := tensor.NumElements(x.Shape[:axis]), tensor.NumElements(x.Shape[axis+1:])
	shape := append([]int(nil), x.Shape...)
	shape[axis] = int(k)
	idx := make([]int, outer*int(k)*inner)
	switch x.DType {
	case tensor.Float32:
		topK(idx, x.F32, outer, size, inner, int(k), o.largest)
	case tensor.Float64:
		topK(idx, x.F64, outer, size, inner, int(k), o.largest)
	case tensor.Int64:
		topK(idx, x.I64, outer, size, inner, int(k), o.largest)
	case tensor.Int32:
		topK(idx, x.I32, outer, size, inner, int(k), o.largest)
	case tensor.Uint8:
		topK(idx, x.U8, outer, size, inner, int(k), o.largest)
	case tensor.Int8:
		topK(idx, x.I8, outer, size, inner, int(k), o.largest)
	case tensor.Int16:
		topK(idx, data[int16](x), outer, size, inner, int(k), o.largest)
	case tensor.Uint16:
		topK(idx, data[uint16](x), outer, size, inner, int(k), o.largest)
	case tensor.Uint32:
		topK(idx, data[uint32](x), outer, size, inner, int(k), o.largest)
	case tensor.Uint64:
		topK(idx, data[uint64](x), outer, size, inner, int(k), o.largest)
	default:
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	takeElems(out[0], shape, x, idx)
	if ind := output(out, 1); ind != nil {
		ind.Resize(tensor.Int64, shape...)
		for i, j := range idx {
			ind.I64[i] = int64(j / inner % size)
		}
	}
	return nil
}

// topK sets idx (shape [outer, k, inner]) to the flat positions in x of
// the k extreme elements of each row along the middle axis.
func topK[T number](idx []int, x []T, outer, size, inner, k int, largest bool) {
	row := make([]int, size)
	for i := range outer {
		for c := range inner {
			base := i*size*inner + c
			for j := range row {
				row[j] = j
			}
			// NaN is larger than every number, as in torch.topk.
			slices.SortStableFunc(row, func(a, b int) int {
				if largest {
					return compareNaNLast(x[base+b*inner], x[base+a*inner])
				}
				return compareNaNLast(x[base+a*inner], x[base+b*inner])
			})
			for j := range k {
				idx[(i*k+j)*inner+c] = base + row[j]*inner
			}
		}
	}
}

// indexAt returns element i of an int64 or int32 index tensor normalized
// into [0, size), or false when it is out of [-size, size).
func indexAt(t *tensor.Tensor, i, size int) (int, bool) {
	v := gatherIndex(t, i)
	if v < 0 {
		v += int64(size)
	}
	return int(v), v >= 0 && v < int64(size)
}

// elementOffsets returns, for each element of the index tensor it (same
// rank as x, no dimension larger than x's off axis), the flat position in
// x of that element's coordinates with the one along axis replaced by the
// index's value. It is the addressing of GatherElements and
// ScatterElements.
func elementOffsets(n *onnx.Node, x, it *tensor.Tensor, axisAttr int64) ([]int, error) {
	if it.DType != tensor.Int64 && it.DType != tensor.Int32 {
		return nil, errorf(n, "indices: want int64 or int32, got %v", it.DType)
	}
	if it.Rank() != x.Rank() {
		return nil, errorf(n, "indices %v and data %v differ in rank", it, x)
	}
	axis, err := normAxis(n, axisAttr, x.Rank())
	if err != nil {
		return nil, err
	}
	for i, d := range it.Shape {
		if i != axis && d > x.Shape[i] {
			return nil, errorf(n, "indices %v exceed data %v on axis %d", it, x, i)
		}
	}
	st := rowMajorStrides(x.Shape)
	ist := rowMajorStrides(it.Shape)
	offs := make([]int, it.Len())
	for i := range offs {
		off := 0
		for a, s := range ist {
			c := i / s % it.Shape[a]
			if a == axis {
				var ok bool
				if c, ok = indexAt(it, i, x.Shape[axis]); !ok {
					return nil, errorf(n, "index %d out of range for axis %d of size %d", gatherIndex(it, i), axisAttr, x.Shape[axis])
				}
			}
			off += c * st[a]
		}
		offs[i] = off
	}
	return offs, nil
}

// gatherElementsOp is GatherElements (opsets 11 and 13).
type gatherElementsOp struct {
	n    *onnx.Node
	axis int64
}

func buildGatherElements(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &gatherElementsOp{n, a.int("axis", 0)}
	return o, a.err
}

func (o *gatherElementsOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, it := in[0], in[1]
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	offs, err := elementOffsets(o.n, x, it, o.axis)
	if err != nil {
		return err
	}
	takeElems(out[0], it.Shape, x, offs)
	return nil
}

// reduction is how a scatter combines an update with the element it
// lands on.
type reduction uint8

const (
	reduceNone reduction = iota
	reduceAdd
	reduceMul
	reduceMax
	reduceMin
)

// readReduction reads the reduction attribute: add and mul from opset 16,
// max and min from 18.
func readReduction(a *attrs, opset int64) reduction {
	if opset < 16 {
		return reduceNone
	}
	switch r := a.string("reduction", "none"); {
	case r == "none":
	case r == "add":
		return reduceAdd
	case r == "mul":
		return reduceMul
	case r == "max" && opset >= 18:
		return reduceMax
	case r == "min" && opset >= 18:
		return reduceMin
	default:
		a.fail("attribute \"reduction\": invalid value %q", r)
	}
	return reduceNone
}

// scatterInto copies x into d and then applies the updates u: block j of
// block elements of u goes to d from offs[j] on.
func scatterInto(n *onnx.Node, d, x, u *tensor.Tensor, offs []int, block int, red reduction) error {
	if u.DType != x.DType {
		return errorf(n, "updates dtype %v differs from data dtype %v", u.DType, x.DType)
	}
	d.Resize(x.DType, x.Shape...)
	copyElems(d, 0, x, 0, x.Len())
	switch x.DType {
	case tensor.Float32:
		scatter(d.F32, u.F32, offs, block, red)
	case tensor.Float64:
		scatter(d.F64, u.F64, offs, block, red)
	case tensor.Int64:
		scatter(d.I64, u.I64, offs, block, red)
	case tensor.Int32:
		scatter(d.I32, u.I32, offs, block, red)
	case tensor.Uint8:
		scatter(d.U8, u.U8, offs, block, red)
	case tensor.Int8:
		scatter(d.I8, u.I8, offs, block, red)
	case tensor.Int16:
		scatter(data[int16](d), data[int16](u), offs, block, red)
	case tensor.Uint16:
		scatter(data[uint16](d), data[uint16](u), offs, block, red)
	case tensor.Uint32:
		scatter(data[uint32](d), data[uint32](u), offs, block, red)
	case tensor.Uint64:
		scatter(data[uint64](d), data[uint64](u), offs, block, red)
	case tensor.Bool:
		if red != reduceNone {
			return errorf(n, "reduction on bool data is not supported")
		}
		for j, off := range offs {
			copy(d.B[off:off+block], u.B[j*block:(j+1)*block])
		}
	default:
		return errorf(n, "unsupported dtype %v", x.DType)
	}
	return nil
}

func scatter[T number](d, u []T, offs []int, block int, red reduction) {
	for j, off := range offs {
		dst, src := d[off:off+block], u[j*block:(j+1)*block]
		for i, v := range src {
			switch red {
			case reduceNone:
				dst[i] = v
			case reduceAdd:
				dst[i] += v
			case reduceMul:
				dst[i] *= v
			case reduceMax:
				dst[i] = max(dst[i], v)
			case reduceMin:
				dst[i] = min(dst[i], v)
			}
		}
	}
}

// scatterElementsOp is ScatterElements (opset 11, reduction from 16) and
// the deprecated Scatter (opsets 9 and 11).
type scatterElementsOp struct {
	n    *onnx.Node
	axis int64
	red  reduction
}

func buildScatterElements(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 3, 3, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &scatterElementsOp{n: n, axis: a.int("axis", 0)}
	if n.OpType == "ScatterElements" {
		o.red = readReduction(&a, opset)
	}
	return o, a.err
}

func (o *scatterElementsOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, it, u := in[0], in[1], in[2]
	if !slices.Equal(it.Shape, u.Shape) {
		return errorf(o.n, "updates %v and indices %v differ in shape", u, it)
	}
	offs, err := elementOffsets(o.n, x, it, o.axis)
	if err != nil {
		return err
	}
	return scatterInto(o.n, out[0], x, u, offs, 1, o.red)
}

// ndOffsets reads the index tuples of GatherND and ScatterND: indices has
// shape [b..., m..., k] where b are the batch_dims leading dimensions
// shared with x. It returns the flat offset in x of each tuple's slice
// (of block elements).
func ndOffsets(n *onnx.Node, x, it *tensor.Tensor, batchDims int) (offs []int, block int, err error) {
	if it.DType != tensor.Int64 && it.DType != tensor.Int32 {
		return nil, 0, errorf(n, "indices: want int64, got %v", it.DType)
	}
	q, r := it.Rank(), x.Rank()
	if q < 1 || r < 1 || batchDims < 0 || batchDims >= min(q, r) {
		return nil, 0, errorf(n, "batch_dims %d invalid for data %v and indices %v", batchDims, x, it)
	}
	k := it.Shape[q-1]
	if k > r-batchDims {
		return nil, 0, errorf(n, "index tuples of %d values for data %v with %d batch dimensions", k, x, batchDims)
	}
	for i := range batchDims {
		if it.Shape[i] != x.Shape[i] {
			return nil, 0, errorf(n, "indices %v and data %v differ in batch dimension %d", it, x, i)
		}
	}
	st := rowMajorStrides(x.Shape)
	block = tensor.NumElements(x.Shape[batchDims+k:])
	batches := tensor.NumElements(x.Shape[:batchDims])
	tuples := tensor.NumElements(it.Shape[:q-1])
	perBatch := 0
	if batches > 0 {
		perBatch = tuples / batches
	}
	batchStride := tensor.NumElements(x.Shape[batchDims:])
	offs = make([]int, tuples)
	for t := range offs {
		off := 0
		if perBatch > 0 {
			off = t / perBatch * batchStride
		}
		for j := range k {
			size := x.Shape[batchDims+j]
			c, ok := indexAt(it, t*k+j, size)
			if !ok {
				return nil, 0, errorf(n, "index %d out of range for axis %d of size %d", gatherIndex(it, t*k+j), batchDims+j, size)
			}
			off += c * st[batchDims+j]
		}
		offs[t] = off
	}
	return offs, block, nil
}

// gatherNDOp is GatherND (opset 11, batch_dims from 12).
type gatherNDOp struct {
	n         *onnx.Node
	batchDims int64
}

func buildGatherND(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &gatherNDOp{n: n}
	if opset >= 12 {
		o.batchDims = a.int("batch_dims", 0)
	}
	if o.batchDims < 0 || o.batchDims > 1<<10 {
		a.fail("attribute \"batch_dims\": invalid value %d", o.batchDims)
	}
	return o, a.err
}

func (o *gatherNDOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, it := in[0], in[1]
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	offs, block, err := ndOffsets(o.n, x, it, int(o.batchDims))
	if err != nil {
		return err
	}
	k := it.Shape[it.Rank()-1]
	shape := append(append([]int(nil), it.Shape[:it.Rank()-1]...), x.Shape[int(o.batchDims)+k:]...)
	if err := checkSize(o.n, shape); err != nil {
		return err
	}
	d := out[0]
	d.Resize(x.DType, shape...)
	for t, off := range offs {
		copyElems(d, t*block, x, off, block)
	}
	return nil
}

// scatterNDOp is ScatterND (opset 11, reduction from 16).
type scatterNDOp struct {
	n   *onnx.Node
	red reduction
}

func buildScatterND(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 3, 3, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &scatterNDOp{n: n, red: readReduction(&a, opset)}
	return o, a.err
}

func (o *scatterNDOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, it, u := in[0], in[1], in[2]
	offs, block, err := ndOffsets(o.n, x, it, 0)
	if err != nil {
		return err
	}
	q, k := it.Rank(), it.Shape[it.Rank()-1]
	want := append(append([]int(nil), it.Shape[:q-1]...), x.Shape[k:]...)
	if !slices.Equal(u.Shape, want) {
		return errorf(o.n, "updates %v: want shape %v", u, want)
	}
	return scatterInto(o.n, out[0], x, u, offs, block, o.red)
}
