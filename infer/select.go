package infer

import (
	"cmp"
	"slices"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Ops that select, crop or update parts of a tensor: CenterCropPad,
// TensorScatter and Unique.

// centerCropPadOp is CenterCropPad (opset 18): each of the axes (all by
// default) is cropped to a centered window or zero-padded around the
// input (an odd crop leaves the extra element on the right, an odd pad puts
// it on the right).
type centerCropPadOp struct {
	n    *onnx.Node
	axes []int64
}

func buildCenterCropPad(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &centerCropPadOp{n: n, axes: a.ints("axes", -1, nil)}
	return o, a.err
}

func (o *centerCropPadOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	want, err := shapeInput(o.n, in[1], "shape")
	if err != nil {
		return err
	}
	r := x.Rank()
	axes := o.axes
	if axes == nil {
		axes = make([]int64, r)
		for i := range axes {
			axes[i] = int64(i)
		}
	}
	if len(want) != len(axes) {
		return errorf(o.n, "input shape has %d values for %d axes", len(want), len(axes))
	}
	shape := append([]int(nil), x.Shape...)
	seen := make([]bool, r)
	for i, ax := range axes {
		a, err := normAxis(o.n, ax, r)
		if err != nil {
			return err
		}
		if seen[a] {
			return errorf(o.n, "axis %d repeated", ax)
		}
		seen[a] = true
		shape[a] = want[i]
	}
	if err := checkSize(o.n, shape); err != nil {
		return err
	}
	// Per axis: the first input index of the window (crop) and the first
	// output index holding input (pad).
	st := rowMajorStrides(x.Shape)
	idx := make([]int, tensor.NumElements(shape))
	coord := make([]int, r)
	for i := range idx {
		off := 0
		for a := range r {
			d, t := x.Shape[a], shape[a]
			c := coord[a]
			if d >= t {
				c += (d - t) / 2
			} else if c -= (t - d) / 2; c < 0 || c >= d {
				off = -1
				break
			}
			off += c * st[a]
		}
		idx[i] = off
		for a := r - 1; a >= 0; a-- {
			if coord[a]++; coord[a] < shape[a] {
				break
			}
			coord[a] = 0
		}
	}
	takeElems(out[0], shape, x, idx)
	return nil
}

// tensorScatterOp is TensorScatter (opset 24): the cache with the update
// written along axis from write_indices[batch] on (0 by default), wrapping
// around in circular mode.
type tensorScatterOp struct {
	n        *onnx.Node
	axis     int64
	circular bool
}

func buildTensorScatter(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 3, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &tensorScatterOp{n: n, axis: a.int("axis", -2)}
	switch m := a.string("mode", "linear"); m {
	case "linear":
	case "circular":
		o.circular = true
	default:
		a.fail("attribute \"mode\": want linear or circular, got %q", m)
	}
	return o, a.err
}

func (o *tensorScatterOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	past, upd := in[0], in[1]
	if !validDType(past) || upd.DType != past.DType {
		return errorf(o.n, "unsupported dtypes %v and %v", past.DType, upd.DType)
	}
	axis, err := normAxis(o.n, o.axis, past.Rank())
	if err != nil {
		return err
	}
	if axis == 0 {
		return errorf(o.n, "axis %d is the batch axis", o.axis)
	}
	if upd.Rank() != past.Rank() {
		return errorf(o.n, "update %v and past_cache %v differ in rank", upd, past)
	}
	for i, d := range upd.Shape {
		if (i != axis && d != past.Shape[i]) || (i == axis && d > past.Shape[i]) {
			return errorf(o.n, "update %v does not fit past_cache %v", upd, past)
		}
	}
	batch, maxLen, seqLen := past.Shape[0], past.Shape[axis], upd.Shape[axis]
	var w []int64
	if t := input(in, 2); t != nil {
		if w, err = intValues(o.n, t, "write_indices"); err != nil {
			return err
		}
		if len(w) != batch {
			return errorf(o.n, "write_indices has %d values for batch size %d", len(w), batch)
		}
	}
	for _, v := range w {
		if !o.circular && (v < 0 || v > int64(maxLen-seqLen)) {
			return errorf(o.n, "write index %d with %d updates exceeds the cache length %d", v, seqLen, maxLen)
		}
	}
	d := out[0]
	d.Resize(past.DType, past.Shape...)
	copyElems(d, 0, past, 0, past.Len())
	outer, inner := tensor.NumElements(past.Shape[:axis]), tensor.NumElements(past.Shape[axis+1:])
	perBatch := 0
	if batch > 0 {
		perBatch = outer / batch
	}
	for p := range outer {
		start := int64(0)
		if w != nil {
			start = w[p/perBatch]
		}
		for s := range seqLen {
			c := start + int64(s)
			if o.circular {
				c = (c%int64(maxLen) + int64(maxLen)) % int64(maxLen)
			}
			copyElems(d, (p*maxLen+int(c))*inner, upd, (p*seqLen+s)*inner, inner)
		}
	}
	return nil
}

// uniqueOp is Unique (opset 11): the distinct elements (or, with axis, the
// distinct slices along axis) sorted ascending (lexicographically for
// slices) or in order of first occurrence, with the optional int64 outputs
// indices (first occurrences), inverse_indices and counts.
type uniqueOp struct {
	n       *onnx.Node
	axis    int64
	hasAxis bool
	sorted  bool
}

func buildUnique(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 4); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &uniqueOp{n: n, hasAxis: a.has("axis"), axis: a.int("axis", 0), sorted: a.int("sorted", 1) != 0}
	return o, a.err
}

func (o *uniqueOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if !validDType(x) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	outer, dim, inner, axis := 1, x.Len(), 1, 0
	if o.hasAxis {
		var err error
		if axis, err = normAxis(o.n, o.axis, x.Rank()); err != nil {
			return err
		}
		outer, dim, inner = tensor.NumElements(x.Shape[:axis]), x.Shape[axis], tensor.NumElements(x.Shape[axis+1:])
	}
	// compare orders slices i and j lexicographically.
	compare := func(i, j int) int {
		for p := range outer {
			for k := range inner {
				if c := compareElems(x, (p*dim+i)*inner+k, (p*dim+j)*inner+k); c != 0 {
					return c
				}
			}
		}
		return 0
	}
	order := make([]int, dim)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, compare)
	// Groups of equal slices, each led by its first occurrence.
	var first, counts []int
	group := make([]int, dim)
	for i, s := range order {
		if i == 0 || compare(order[i-1], s) != 0 {
			first = append(first, s)
			counts = append(counts, 0)
		}
		group[s] = len(first) - 1
		counts[len(counts)-1]++
	}
	rank := make([]int, len(first)) // output position of each group
	pos := make([]int, len(first))  // group at each output position
	for g := range pos {
		pos[g] = g
	}
	if !o.sorted {
		slices.SortFunc(pos, func(a, b int) int { return cmp.Compare(first[a], first[b]) })
	}
	for p, g := range pos {
		rank[g] = p
	}
	u := len(first)
	idx := make([]int, 0, outer*u*inner)
	for p := range outer {
		for _, g := range pos {
			for k := range inner {
				idx = append(idx, (p*dim+first[g])*inner+k)
			}
		}
	}
	shape := []int{u}
	if o.hasAxis {
		shape = append([]int(nil), x.Shape...)
		shape[axis] = u
	}
	takeElems(out[0], shape, x, idx)
	if t := output(out, 1); t != nil {
		t.Resize(tensor.Int64, u)
		for p, g := range pos {
			t.I64[p] = int64(first[g])
		}
	}
	if t := output(out, 2); t != nil {
		t.Resize(tensor.Int64, dim)
		for i, g := range group {
			t.I64[i] = int64(rank[g])
		}
	}
	if t := output(out, 3); t != nil {
		t.Resize(tensor.Int64, u)
		for p, g := range pos {
			t.I64[p] = int64(counts[g])
		}
	}
	return nil
}

// compareElems orders elements i and j of x (false before true; NaN
// equal to NaN and after every number).
func compareElems(x *tensor.Tensor, i, j int) int {
	switch x.DType {
	case tensor.Float32:
		return compareNaNLast(x.F32[i], x.F32[j])
	case tensor.Float64:
		return compareNaNLast(x.F64[i], x.F64[j])
	case tensor.Int64:
		return cmp.Compare(x.I64[i], x.I64[j])
	case tensor.Int32:
		return cmp.Compare(x.I32[i], x.I32[j])
	case tensor.Uint8:
		return cmp.Compare(x.U8[i], x.U8[j])
	case tensor.Int8:
		return cmp.Compare(x.I8[i], x.I8[j])
	case tensor.Int16:
		return cmp.Compare(data[int16](x)[i], data[int16](x)[j])
	case tensor.Uint16:
		return cmp.Compare(data[uint16](x)[i], data[uint16](x)[j])
	case tensor.Uint32:
		return cmp.Compare(data[uint32](x)[i], data[uint32](x)[j])
	case tensor.Uint64:
		return cmp.Compare(data[uint64](x)[i], data[uint64](x)[j])
	case tensor.Bool:
		a, b := x.B[i], x.B[j]
		switch {
		case a == b:
			return 0
		case b:
			return -1
		}
		return 1
	}
	return 0
}

// compareNaNLast orders numbers with NaN after every other value and
// equal to itself.
func compareNaNLast[T number](a, b T) int {
	switch an, bn := a != a, b != b; {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(a, b)
}

// nonMaxSuppressionOp is NonMaxSuppression (opsets 10 and 11): for each
// batch and class, boxes by decreasing score (equal scores in index order),
// those with a score above score_threshold, each kept unless its IoU with
// a box already kept exceeds iou_threshold, at most
// max_output_boxes_per_class of them (0 or absent: none).
type nonMaxSuppressionOp struct {
	n      *onnx.Node
	center bool
}

func buildNonMaxSuppression(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 5, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	c := a.int("center_point_box", 0)
	if c != 0 && c != 1 {
		a.fail("attribute \"center_point_box\": want 0 or 1, got %d", c)
	}
	return &nonMaxSuppressionOp{n, c == 1}, a.err
}

func (o *nonMaxSuppressionOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	bt, st := in[0], in[1]
	if !isFloat(bt.DType) || !isFloat(st.DType) {
		return errorf(o.n, "boxes and scores: want float tensors, got %v and %v", bt.DType, st.DType)
	}
	if bt.Rank() != 3 || bt.Shape[2] != 4 || st.Rank() != 3 || st.Shape[0] != bt.Shape[0] || st.Shape[2] != bt.Shape[1] {
		return errorf(o.n, "want boxes [batches, boxes, 4] and scores [batches, classes, boxes], got %v and %v", bt, st)
	}
	scalar := func(i int, what string) (float64, bool, error) {
		t := input(in, i)
		if t == nil {
			return 0, false, nil
		}
		if !isNumber(t.DType) || t.Len() != 1 || t.Rank() > 1 {
			return 0, false, errorf(o.n, "input %s: want a scalar, got %v", what, t)
		}
		return t.Float64At(0), true, nil
	}
	maxOut, _, err := scalar(2, "max_output_boxes_per_class")
	if err != nil {
		return err
	}
	iouMax, _, err := scalar(3, "iou_threshold")
	if err != nil {
		return err
	}
	scoreMin, hasScore, err := scalar(4, "score_threshold")
	if err != nil {
		return err
	}
	batches, nb, classes := bt.Shape[0], bt.Shape[1], st.Shape[1]
	limit := int(min(max(maxOut, 0), float64(nb)))
	boxes, scores := toFloat64(bt), toFloat64(st)
	// Corners (ymin, xmin, ymax, xmax) of every box.
	corners := make([][4]float64, batches*nb)
	for i := range corners {
		b := boxes[4*i : 4*i+4]
		if o.center {
			corners[i] = [4]float64{b[1] - b[3]/2, b[0] - b[2]/2, b[1] + b[3]/2, b[0] + b[2]/2}
		} else {
			corners[i] = [4]float64{min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3])}
		}
	}
	var sel []int64
	cand := make([]int, 0, nb)
	var kept []int
	for b := range batches {
		for c := range classes {
			sc := scores[(b*classes+c)*nb : (b*classes+c+1)*nb]
			cand = cand[:0]
			for i, v := range sc {
				if !hasScore || v > scoreMin {
					cand = append(cand, i)
				}
			}
			slices.SortStableFunc(cand, func(i, j int) int { return cmp.Compare(sc[j], sc[i]) })
			kept = kept[:0]
			for _, i := range cand {
				if len(kept) >= limit {
					break
				}
				ok := true
				for _, k := range kept {
					if iou(corners[b*nb+i], corners[b*nb+k]) > iouMax {
						ok = false
						break
					}
				}
				if ok {
					kept = append(kept, i)
					sel = append(sel, int64(b), int64(c), int64(i))
				}
			}
		}
	}
	d := out[0]
	d.Resize(tensor.Int64, len(sel)/3, 3)
	copy(d.I64, sel)
	return nil
}

// iou is the intersection over union of two boxes given by their corners
// (0 when either is empty or they do not overlap).
func iou(a, b [4]float64) float64 {
	h := min(a[2], b[2]) - max(a[0], b[0])
	w := min(a[3], b[3]) - max(a[1], b[1])
	areaA := (a[2] - a[0]) * (a[3] - a[1])
	areaB := (b[2] - b[0]) * (b[3] - b[1])
	if h <= 0 || w <= 0 || areaA <= 0 || areaB <= 0 {
		return 0
	}
	inter := h * w
	return inter / (areaA + areaB - inter)
}
