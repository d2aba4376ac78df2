package infer

import (
	"slices"
	"strings"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// einsumOp is Einsum (opset 12): any equation of letter subscripts, with
// "..." for broadcast dimensions, repeated subscripts (diagonals), and an
// implicit output (the ellipsis dimensions, then the subscripts seen once,
// in alphabetical order) when "->" is absent. The operands are contracted
// left to right, each pair as a batch of matrix products (kernel.Sgemm for
// float32), after summing out the subscripts no later operand or the
// output uses.
type einsumOp struct {
	n      *onnx.Node
	terms  []string // one per input; "..." kept as a '.'
	output string   // '.' for the ellipsis
}

// ellipsisLabel is the label of the ellipsis's first dimension; its i-th
// dimension (from the left of the broadcast dimensions) is ellipsisLabel+i.
const ellipsisLabel = 256

func buildEinsum(n *onnx.Node, opset int64) (op, error) {
	if len(n.Inputs) < 1 {
		return nil, errorf(n, "want at least 1 input")
	}
	if err := checkArity(n, len(n.Inputs), len(n.Inputs), 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	if !a.has("equation") {
		return nil, errorf(n, "attribute \"equation\" is required")
	}
	eq := strings.ReplaceAll(a.string("equation", ""), " ", "")
	if a.err != nil {
		return nil, a.err
	}
	o := &einsumOp{n: n}
	lhs, rhs, explicit := strings.Cut(eq, "->")
	o.terms = strings.Split(lhs, ",")
	if len(o.terms) != len(n.Inputs) {
		return nil, errorf(n, "equation %q has %d operands for %d inputs", eq, len(o.terms), len(n.Inputs))
	}
	terms := append([]string{rhs}, o.terms...)
	for i, t := range terms {
		s := strings.Replace(t, "...", ".", 1)
		for _, c := range s {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.') || strings.Count(t, ".") != 3*strings.Count(s, ".") || strings.Count(s, ".") > 1 {
				return nil, errorf(n, "equation %q: invalid term %q", eq, t)
			}
		}
		if i == 0 {
			o.output = s
			continue
		}
		o.terms[i-1] = s
	}
	if explicit {
		for _, c := range o.output {
			if strings.Count(o.output, string(c)) > 1 {
				return nil, errorf(n, "equation %q: output subscript %q repeated", eq, c)
			}
			if !strings.ContainsRune(lhs, c) && c != '.' {
				return nil, errorf(n, "equation %q: output subscript %q is in no input", eq, c)
			}
		}
	} else {
		var once []byte
		for c := byte('A'); c <= 'z'; c++ {
			if strings.Count(lhs, string(c)) == 1 {
				once = append(once, c)
			}
		}
		o.output = string(once)
		if strings.Contains(lhs, "...") {
			o.output = "." + o.output
		}
	}
	return o, nil
}

// operand is a contiguous tensor with one label per axis.
type operand struct {
	t      *tensor.Tensor
	labels []int
}

func (o *einsumOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	dt := in[0].DType
	if !isNumber(dt) {
		return errorf(o.n, "unsupported dtype %v", dt)
	}
	// Labels of each input's axes, and each label's size (ellipsis
	// dimensions broadcast, right-aligned as in numpy).
	nell := 0
	for i, t := range o.terms {
		if in[i].DType != dt {
			return errorf(o.n, "input dtypes differ: %v and %v", dt, in[i].DType)
		}
		letters := len(t) - strings.Count(t, ".")
		if in[i].Rank() < letters || (!strings.Contains(t, ".") && in[i].Rank() != letters) {
			return errorf(o.n, "input %d %v does not match term %q", i, in[i], strings.Replace(t, ".", "...", 1))
		}
		nell = max(nell, in[i].Rank()-letters)
	}
	sizes := map[int]int{}
	ops := make([]operand, len(in))
	for i, t := range o.terms {
		x := in[i]
		e := x.Rank() - (len(t) - strings.Count(t, "."))
		var labels []int
		for _, c := range t {
			if c != '.' {
				labels = append(labels, int(c))
				continue
			}
			for j := range e {
				labels = append(labels, ellipsisLabel+nell-e+j)
			}
		}
		for a, l := range labels {
			d := x.Shape[a]
			s, seen := sizes[l]
			switch {
			case !seen || s == d:
				sizes[l] = d
			case l >= ellipsisLabel && s == 1:
				sizes[l] = d
			case l >= ellipsisLabel && d == 1:
			default:
				return errorf(o.n, "subscript %s has sizes %d and %d", labelName(l), s, d)
			}
		}
		ops[i] = operand{x, labels}
	}
	var outLabels []int
	for _, c := range o.output {
		if c != '.' {
			outLabels = append(outLabels, int(c))
			continue
		}
		for j := range nell {
			outLabels = append(outLabels, ellipsisLabel+j)
		}
	}
	// needed(i) is the labels the output and the operands after i use.
	needed := func(i int) []int {
		k := slices.Clone(outLabels)
		for _, op := range ops[i+1:] {
			k = append(k, op.labels...)
		}
		return k
	}
	acc, err := o.reduceTo(ops[0], keepOrder(ops[0].labels, needed(0)), sizes)
	if err != nil {
		return err
	}
	for i := 1; i < len(ops); i++ {
		var dst *tensor.Tensor
		if i == len(ops)-1 {
			dst = out[0]
		}
		if acc, err = o.contract(acc, ops[i], needed(i), sizes, outLabels, dst); err != nil {
			return err
		}
	}
	res, err := o.reduceTo(acc, outLabels, sizes)
	if err != nil {
		return err
	}
	if res.t != out[0] {
		out[0].CopyFrom(res.t)
	}
	return nil
}

func labelName(l int) string {
	if l >= ellipsisLabel {
		return "..."
	}
	return string(rune(l))
}

// keepOrder returns the distinct labels of ls that are in keep, in order.
func keepOrder(ls, keep []int) []int {
	var r []int
	for _, l := range ls {
		if slices.Contains(keep, l) && !slices.Contains(r, l) {
			r = append(r, l)
		}
	}
	return r
}

// reduceTo returns x with axes labels: each output element is the sum over
// the labels of x not in labels, an axis repeated in x is read along its
// diagonal, and an axis of size 1 is broadcast to its label's size.
func (o *einsumOp) reduceTo(x operand, labels []int, sizes map[int]int) (operand, error) {
	if inOrder(x, labels, sizes) {
		return x, nil // already laid out so: shared, never written
	}
	var sum []int
	for _, l := range x.labels {
		if !slices.Contains(labels, l) && !slices.Contains(sum, l) {
			sum = append(sum, l)
		}
	}
	shape := make([]int, len(labels))
	for i, l := range labels {
		shape[i] = sizes[l]
	}
	if err := checkSize(o.n, shape); err != nil {
		return operand{}, err
	}
	// Strides of x per label (summed for a repeated label: the diagonal;
	// 0 for a broadcast axis).
	st := rowMajorStrides(x.t.Shape)
	stride := func(l int) int {
		s := 0
		for a, xl := range x.labels {
			if xl == l && x.t.Shape[a] == sizes[l] {
				s += st[a]
			}
		}
		return s
	}
	ostr := make([]int, len(labels))
	for i, l := range labels {
		ostr[i] = stride(l)
	}
	sshape, sstr := make([]int, len(sum)), make([]int, len(sum))
	for i, l := range sum {
		sshape[i], sstr[i] = sizes[l], stride(l)
	}
	if c := tensor.NumElements(sshape); c < 0 || c > maxElements {
		return operand{}, errorf(o.n, "sum over %v: more than %d terms", sshape, maxElements)
	}
	d := tensor.New(x.t.DType, shape...)
	if len(sum) == 0 {
		stridedCopy(d, shape, x.t, 0, ostr)
		return operand{d, labels}, nil
	}
	offs := stridedOffsets(sshape, sstr)
	switch x.t.DType {
	case tensor.Float32:
		sumStrided(d.F32, shape, ostr, x.t.F32, offs)
	case tensor.Float64:
		sumStrided(d.F64, shape, ostr, x.t.F64, offs)
	case tensor.Int64:
		sumStrided(d.I64, shape, ostr, x.t.I64, offs)
	case tensor.Int32:
		sumStrided(d.I32, shape, ostr, x.t.I32, offs)
	case tensor.Uint8:
		sumStrided(d.U8, shape, ostr, x.t.U8, offs)
	case tensor.Int8:
		sumStrided(d.I8, shape, ostr, x.t.I8, offs)
	case tensor.Int16:
		sumStrided(data[int16](d), shape, ostr, data[int16](x.t), offs)
	case tensor.Uint16:
		sumStrided(data[uint16](d), shape, ostr, data[uint16](x.t), offs)
	case tensor.Uint32:
		sumStrided(data[uint32](d), shape, ostr, data[uint32](x.t), offs)
	case tensor.Uint64:
		sumStrided(data[uint64](d), shape, ostr, data[uint64](x.t), offs)
	}
	return operand{d, labels}, nil
}

// sumStrided sets each element of d (row-major over shape; its base in x
// is sum(idx[a]*ostr[a])) to the sum of x at base+off over offs.
func sumStrided[T number](d []T, shape, ostr []int, x []T, offs []int) {
	idx := make([]int, len(shape))
	base := 0
	for i := range d {
		var s T
		for _, off := range offs {
			s += x[base+off]
		}
		d[i] = s
		for a := len(shape) - 1; a >= 0; a-- {
			idx[a]++
			base += ostr[a]
			if idx[a] < shape[a] {
				break
			}
			base -= ostr[a] * shape[a]
			idx[a] = 0
		}
	}
}

// inOrder reports whether x's axes are exactly labels, at their full sizes.
func inOrder(x operand, labels []int, sizes map[int]int) bool {
	if !slices.Equal(x.labels, labels) {
		return false
	}
	for a, l := range labels {
		if x.t.Shape[a] != sizes[l] || slices.Index(labels, l) != a {
			return false
		}
	}
	return true
}

// stridedOffsets lists the offsets sum(idx[a]*strides[a]) over the index
// space shape in row-major order.
func stridedOffsets(shape, strides []int) []int {
	offs := make([]int, tensor.NumElements(shape))
	idx := make([]int, len(shape))
	off := 0
	for i := range offs {
		offs[i] = off
		for a := len(shape) - 1; a >= 0; a-- {
			idx[a]++
			off += strides[a]
			if idx[a] < shape[a] {
				break
			}
			off -= strides[a] * shape[a]
			idx[a] = 0
		}
	}
	return offs
}

// contract multiplies a and b, summing the labels they share that keep
// does not hold; the result has the batch labels (shared, kept), then a's
// own kept labels, then b's. When those are the labels final, the result
// is written into dst (if not nil).
func (o *einsumOp) contract(a, b operand, keep []int, sizes map[int]int, final []int, dst *tensor.Tensor) (operand, error) {
	var batch, sum, af, bf []int
	for _, l := range keepOrder(a.labels, a.labels) {
		switch {
		case !slices.Contains(b.labels, l):
			if slices.Contains(keep, l) {
				af = append(af, l)
			}
		case slices.Contains(keep, l):
			batch = append(batch, l)
		default:
			sum = append(sum, l)
		}
	}
	for _, l := range keepOrder(b.labels, keep) {
		if !slices.Contains(a.labels, l) && !slices.Contains(bf, l) {
			bf = append(bf, l)
		}
	}
	prod := func(ls []int) int {
		p := 1
		for _, l := range ls {
			p *= sizes[l]
		}
		return p
	}
	// A float32 operand already laid out as the transpose of the product's
	// argument is read transposed by Sgemm instead of being copied.
	aOrder, bOrder := slices.Concat(batch, af, sum), slices.Concat(batch, sum, bf)
	var transA, transB bool
	if a.t.DType == tensor.Float32 {
		if alt := slices.Concat(batch, sum, af); !inOrder(a, aOrder, sizes) && inOrder(a, alt, sizes) {
			aOrder, transA = alt, true
		}
		if alt := slices.Concat(batch, bf, sum); !inOrder(b, bOrder, sizes) && inOrder(b, alt, sizes) {
			bOrder, transB = alt, true
		}
	}
	ta, err := o.reduceTo(a, aOrder, sizes)
	if err != nil {
		return operand{}, err
	}
	tb, err := o.reduceTo(b, bOrder, sizes)
	if err != nil {
		return operand{}, err
	}
	labels := slices.Concat(batch, af, bf)
	shape := make([]int, len(labels))
	for i, l := range labels {
		shape[i] = sizes[l]
	}
	if err := checkSize(o.n, shape); err != nil {
		return operand{}, err
	}
	nb, m, k, n := prod(batch), prod(af), prod(sum), prod(bf)
	var d *tensor.Tensor
	if dst != nil && slices.Equal(labels, final) {
		d = dst
		d.Resize(a.t.DType, shape...)
	} else {
		d = tensor.New(a.t.DType, shape...)
	}
	switch d.DType {
	case tensor.Float32:
		if m*n > 0 {
			for i := range nb {
				if k == 0 {
					clear(d.F32[i*m*n : (i+1)*m*n])
					continue
				}
				lda, ldb := k, n
				if transA {
					lda = m
				}
				if transB {
					ldb = k
				}
				kernel.Sgemm(transA, transB, m, n, k, 1, ta.t.F32[i*m*k:], lda, tb.t.F32[i*k*n:], ldb, 0, d.F32[i*m*n:], n)
			}
		}
	case tensor.Float64:
		matmulBatch(d.F64, ta.t.F64, tb.t.F64, nb, m, k, n)
	case tensor.Int64:
		matmulBatch(d.I64, ta.t.I64, tb.t.I64, nb, m, k, n)
	case tensor.Int32:
		matmulBatch(d.I32, ta.t.I32, tb.t.I32, nb, m, k, n)
	case tensor.Uint8:
		matmulBatch(d.U8, ta.t.U8, tb.t.U8, nb, m, k, n)
	case tensor.Int8:
		matmulBatch(d.I8, ta.t.I8, tb.t.I8, nb, m, k, n)
	case tensor.Int16:
		matmulBatch(data[int16](d), data[int16](ta.t), data[int16](tb.t), nb, m, k, n)
	case tensor.Uint16:
		matmulBatch(data[uint16](d), data[uint16](ta.t), data[uint16](tb.t), nb, m, k, n)
	case tensor.Uint32:
		matmulBatch(data[uint32](d), data[uint32](ta.t), data[uint32](tb.t), nb, m, k, n)
	case tensor.Uint64:
		matmulBatch(data[uint64](d), data[uint64](ta.t), data[uint64](tb.t), nb, m, k, n)
	}
	return operand{d, labels}, nil
}

// matmulBatch sets d[b] = a[b] (m x k) times b[b] (k x n) for each batch.
func matmulBatch[T number](d, a, b []T, nb, m, k, n int) {
	clear(d)
	for i := range nb {
		da, db, dd := a[i*m*k:], b[i*k*n:], d[i*m*n:]
		for r := range m {
			row := dd[r*n : (r+1)*n]
			for p := range k {
				v := da[r*k+p]
				for c, bv := range db[p*n : (p+1)*n] {
					row[c] += v * bv
				}
			}
		}
	}
}
