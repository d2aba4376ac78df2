package infer

import (
	"math"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// The reductions: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd,
// ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp and ReduceSumSquare.

type reduceKind uint8

const (
	rSum reduceKind = iota
	rMean
	rMax
	rMin
	rProd
	rL1
	rL2
	rLogSum
	rLogSumExp
	rSumSquare
)

// reduceOp is a reduction over the axes given by the axes attribute before
// opset inputSince (13 for ReduceSum, 18 for the others) and by the
// optional input 1 from then on, with keepdims and, with the input,
// noop_with_empty_axes. No axes means every axis. An empty reduction gives
// the kind's identity: 0 for sums, 1 for the product, -Inf (or the
// dtype's minimum) for the maximum, +Inf (or the maximum) for the minimum,
// and -Inf for the logarithms.
type reduceOp struct {
	n         *onnx.Node
	kind      reduceKind
	axesInput bool    // axes come from input 1
	axes      []int64 // from the attribute
	keepdims  bool
	noop      bool // noop_with_empty_axes
}

func buildReduce(kind reduceKind, inputSince int64) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		o := &reduceOp{n: n, kind: kind, axesInput: opset >= inputSince}
		maxIn := 1
		if o.axesInput {
			maxIn = 2
		}
		if err := checkArity(n, 1, maxIn, 1); err != nil {
			return nil, err
		}
		a := attrs{n: n}
		o.keepdims = a.int("keepdims", 1) != 0
		if o.axesInput {
			o.noop = a.int("noop_with_empty_axes", 0) != 0
		} else {
			o.axes = a.ints("axes", -1, nil)
		}
		if a.err != nil {
			return nil, a.err
		}
		return o, nil
	}
}

func (o *reduceOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	axes := o.axes
	if o.axesInput {
		if t := input(in, 1); t != nil {
			v, err := intValues(o.n, t, "axes")
			if err != nil {
				return err
			}
			axes = v
		}
		if len(axes) == 0 && o.noop {
			out[0].CopyFrom(x)
			return nil
		}
	}
	r := x.Rank()
	reduced := make([]bool, r)
	if len(axes) == 0 {
		for i := range reduced {
			reduced[i] = true
		}
	}
	for _, a := range axes {
		i, err := normAxis(o.n, a, r)
		if err != nil {
			return err
		}
		if reduced[i] {
			return errorf(o.n, "axis %d repeated", a)
		}
		reduced[i] = true
	}
	kept := make([]int, r) // output shape with reduced axes kept as 1
	var shape []int
	count := 1
	for i, d := range x.Shape {
		kept[i] = d
		if reduced[i] {
			kept[i] = 1
			count *= d
			if o.keepdims {
				shape = append(shape, 1)
			}
			continue
		}
		shape = append(shape, d)
	}
	if err := checkSize(o.n, kept); err != nil {
		return err
	}
	if err := checkPlanDims(x.Shape); err != nil {
		return errorf(o.n, "%v", err)
	}
	d := out[0]
	if x.DType != tensor.Float32 && x.DType != tensor.Float64 {
		switch o.kind {
		case rL2, rLogSum, rLogSumExp:
			// Computed in float64 and converted back (truncating).
			if !isNumber(x.DType) {
				return errorf(o.n, "unsupported dtype %v", x.DType)
			}
			xf := tensor.Tensor{DType: tensor.Float64, Shape: x.Shape, F64: toFloat64(x)}
			var r tensor.Tensor
			reduceFloat[float64](o.kind, &xf, &r, kept, shape, count)
			d.Resize(x.DType, shape...)
			castInto(d, &r)
			return nil
		}
	}
	switch x.DType {
	case tensor.Float32:
		reduceFloat[float32](o.kind, x, d, kept, shape, count)
	case tensor.Float64:
		reduceFloat[float64](o.kind, x, d, kept, shape, count)
	case tensor.Int64:
		reduceInt[int64](o.kind, x, d, kept, shape, count, math.MinInt64, math.MaxInt64)
	case tensor.Int32:
		reduceInt[int32](o.kind, x, d, kept, shape, count, math.MinInt32, math.MaxInt32)
	case tensor.Uint8:
		reduceInt[uint8](o.kind, x, d, kept, shape, count, 0, math.MaxUint8)
	case tensor.Int8:
		reduceInt[int8](o.kind, x, d, kept, shape, count, math.MinInt8, math.MaxInt8)
	case tensor.Int16:
		reduceInt[int16](o.kind, x, d, kept, shape, count, math.MinInt16, math.MaxInt16)
	case tensor.Uint16:
		reduceInt[uint16](o.kind, x, d, kept, shape, count, 0, math.MaxUint16)
	case tensor.Uint32:
		reduceInt[uint32](o.kind, x, d, kept, shape, count, 0, math.MaxUint32)
	case tensor.Bool:
		if o.kind != rMax && o.kind != rMin {
			return errorf(o.n, "unsupported dtype %v", x.DType)
		}
		// The maximum is any, the minimum all: reduce 0s and 1s.
		xu := tensor.Tensor{DType: tensor.Uint8, Shape: x.Shape, U8: make([]uint8, x.Len())}
		castInto(&xu, x)
		var r tensor.Tensor
		reduceInt[uint8](o.kind, &xu, &r, kept, shape, count, 0, 1)
		d.Resize(tensor.Bool, shape...)
		castInto(d, &r)
	default:
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	return nil
}

// sumInto adds every element of x into acc, whose shape kept broadcasts to
// x's shape (reduced axes are 1 in kept).
func sumInto[T number, A float64 | int64](acc []A, kept []int, x []T, xshape []int) {
	var p bcastPlan
	p.init(xshape, kept)
	p.each(func(off [planInputs]int, o int) {
		blk := x[o : o+p.inner]
		if p.step[0] == 1 {
			a := acc[off[0] : off[0]+p.inner]
			for i, v := range blk {
				a[i] += A(v)
			}
			return
		}
		var s A
		for _, v := range blk {
			s += A(v)
		}
		acc[off[0]] += s
	})
}

// foldInto sets acc[j] = f(acc[j], v, j) for every element v of x, where j
// is the index in acc (of shape kept, broadcasting to x's shape) that v
// reduces into.
func foldInto[T number, A float64 | int64](acc []A, kept []int, x []T, xshape []int, f func(a A, v T, j int) A) {
	var p bcastPlan
	p.init(xshape, kept)
	p.each(func(off [planInputs]int, o int) {
		j, st := off[0], p.step[0]
		for _, v := range x[o : o+p.inner] {
			acc[j] = f(acc[j], v, j)
			j += st
		}
	})
}

// foldKind folds x into acc, which holds the kind's identity, by the kind's
// accumulation (the sum for rSum, rMean, rLogSum; the sum of |v| or v*v for
// rL1, rL2 and rSumSquare; the product, maximum or minimum).
func foldKind[T number, A float64 | int64](kind reduceKind, acc []A, kept []int, x []T, xshape []int) {
	switch kind {
	case rSum, rMean, rLogSum:
		sumInto(acc, kept, x, xshape)
	case rL1:
		foldInto(acc, kept, x, xshape, func(a A, v T, _ int) A {
			if v < 0 {
				return a - A(v)
			}
			return a + A(v)
		})
	case rL2, rSumSquare:
		foldInto(acc, kept, x, xshape, func(a A, v T, _ int) A { return a + A(v)*A(v) })
	case rProd:
		foldInto(acc, kept, x, xshape, func(a A, v T, _ int) A { return a * A(v) })
	case rMax:
		// A NaN wins and stays, as in numpy's maximum.
		foldInto(acc, kept, x, xshape, func(a A, v T, _ int) A {
			if A(v) > a || v != v {
				return A(v)
			}
			return a
		})
	case rMin:
		foldInto(acc, kept, x, xshape, func(a A, v T, _ int) A {
			if A(v) < a || v != v {
				return A(v)
			}
			return a
		})
	}
}

// reduceFloat accumulates in float64, so a float32 sum does not lose
// precision as the reduced axes grow.
func reduceFloat[T float32 | float64](kind reduceKind, x, d *tensor.Tensor, kept, shape []int, count int) {
	acc := make([]float64, tensor.NumElements(kept))
	xv := data[T](x)
	switch kind {
	case rProd:
		fill(acc, 1)
	case rMax, rLogSumExp:
		fill(acc, math.Inf(-1))
	case rMin:
		fill(acc, math.Inf(1))
	}
	var m []float64 // rLogSumExp: the maximum, subtracted before exp
	if kind == rLogSumExp {
		foldKind(rMax, acc, kept, xv, x.Shape)
		m = append([]float64(nil), acc...)
		for j, v := range m {
			if math.IsInf(v, 0) {
				m[j] = 0 // all -Inf (or empty) stays -Inf; +Inf gives +Inf
			}
		}
		clear(acc)
		foldInto(acc, kept, xv, x.Shape, func(a float64, v T, j int) float64 { return a + math.Exp(float64(v)-m[j]) })
	} else {
		foldKind(kind, acc, kept, xv, x.Shape)
	}
	d.Resize(x.DType, shape...)
	dv := data[T](d)
	for i, v := range acc {
		switch kind {
		case rMean:
			v /= float64(count) // an empty reduction gives 0/0 = NaN, like numpy
		case rL2:
			v = math.Sqrt(v)
		case rLogSum:
			v = math.Log(v)
		case rLogSumExp:
			v = math.Log(v) + m[i]
		}
		dv[i] = T(v)
	}
}

// reduceInt accumulates in int64 (wrapping as T would); lo and hi are T's
// limits, the identities of the maximum and the minimum.
func reduceInt[T integer](kind reduceKind, x, d *tensor.Tensor, kept, shape []int, count int, lo, hi int64) {
	acc := make([]int64, tensor.NumElements(kept))
	switch kind {
	case rProd:
		fill(acc, 1)
	case rMax:
		fill(acc, lo)
	case rMin:
		fill(acc, hi)
	}
	foldKind(kind, acc, kept, data[T](x), x.Shape)
	d.Resize(x.DType, shape...)
	dv := data[T](d)
	for i, v := range acc {
		if kind == rMean && count > 0 {
			v /= int64(count)
		}
		dv[i] = T(v)
	}
}

// cumSumOp is CumSum (opsets 11, 14) or, with mul set, CumProd (opset
// 26): running sums (products) along the axis given by input 1 (a
// one-element int32 or int64 tensor), exclusive (each leaves out its own
// element, the first is 0 (1)) and in reverse order when asked.
type cumSumOp struct {
	n                  *onnx.Node
	exclusive, reverse bool
	mul                bool
}

func buildCumSum(n *onnx.Node, opset int64) (op, error) { return buildCum(n, false) }

func buildCumProd(n *onnx.Node, opset int64) (op, error) { return buildCum(n, true) }

func buildCum(n *onnx.Node, mul bool) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &cumSumOp{n: n, exclusive: a.int("exclusive", 0) != 0, reverse: a.int("reverse", 0) != 0, mul: mul}
	return o, a.err
}

func (o *cumSumOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	av, err := intValues(o.n, in[1], "axis")
	if err != nil {
		return err
	}
	if len(av) != 1 {
		return errorf(o.n, "input axis: want one value, got %d", len(av))
	}
	axis, err := normAxis(o.n, av[0], x.Rank())
	if err != nil {
		return err
	}
	outer, size, inner := prod(x.Shape[:axis]), x.Shape[axis], prod(x.Shape[axis+1:])
	switch x.DType {
	case tensor.Float32:
		cumSum[float32](o, x, out[0], outer, size, inner)
	case tensor.Float64:
		cumSum[float64](o, x, out[0], outer, size, inner)
	case tensor.Int64:
		cumSum[int64](o, x, out[0], outer, size, inner)
	case tensor.Int32:
		cumSum[int32](o, x, out[0], outer, size, inner)
	default:
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	return nil
}

// cumSum sums (multiplies) x, seen as [outer, size, inner], along the middle axis, a
// whole inner row at a time.
func cumSum[T number](o *cumSumOp, x, d *tensor.Tensor, outer, size, inner int) {
	d.Resize(x.DType, x.Shape...)
	xv, dv := data[T](x), data[T](d)
	for b := 0; b < outer; b++ {
		base := b * size * inner
		for k := 0; k < size; k++ {
			kk := k
			if o.reverse {
				kk = size - 1 - k
			}
			row := dv[base+kk*inner : base+(kk+1)*inner]
			if k == 0 {
				switch {
				case o.exclusive && o.mul:
					fill(row, 1)
				case o.exclusive:
					clear(row)
				default:
					copy(row, xv[base+kk*inner:])
				}
				continue
			}
			prev := kk - 1 // the element summed just before
			if o.reverse {
				prev = kk + 1
			}
			p := dv[base+prev*inner : base+(prev+1)*inner]
			src := xv[base+kk*inner : base+(kk+1)*inner]
			if o.exclusive {
				src = xv[base+prev*inner : base+(prev+1)*inner]
			}
			if o.mul {
				for i := range row {
					row[i] = p[i] * src[i]
				}
				continue
			}
			for i := range row {
				row[i] = p[i] + src[i]
			}
		}
	}
}
