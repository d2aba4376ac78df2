package infer

import (
	"math"

	"github.com/onnxkit/onnxkit/internal/kernel"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Unary elementwise ops and activations: Relu, LeakyRelu, Tanh, Sigmoid, Exp,
// Log, Sqrt, Neg, Abs, Erf, Clip, Softmax and LogSoftmax.

// unaryOp applies f64 to each element of a float tensor (computing float32
// in float64 and rounding once) and, when it is not nil, i64 to each element
// of an integer tensor.
type unaryOp struct {
	n   *onnx.Node
	f32 func(d, x []float32) // optional tight loop for float32
	f64 func(float64) float64
	i64 func(int64) int64
}

// buildUnary returns the builder of a one-input, one-output op. i64 may be
// nil (the op takes float tensors only).
func buildUnary(f64 func(float64) float64, i64 func(int64) int64) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		if err := checkArity(n, 1, 1, 1); err != nil {
			return nil, err
		}
		return &unaryOp{n: n, f64: f64, i64: i64}, nil
	}
}

func buildRelu(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	return &unaryOp{n: n, f32: kernel.Relu, f64: func(x float64) float64 { return max(x, 0) },
		i64: func(x int64) int64 { return max(x, 0) }}, nil
}

func buildLeakyRelu(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	alpha := a.float("alpha", 0.01)
	if a.err != nil {
		return nil, a.err
	}
	return &unaryOp{n: n,
		f32: func(d, x []float32) {
			for i, v := range x {
				if v < 0 {
					v *= alpha
				}
				d[i] = v
			}
		},
		f64: func(x float64) float64 {
			if x < 0 {
				return x * float64(alpha)
			}
			return x
		}}, nil
}

func buildErf(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	return &unaryOp{n: n, f32: kernel.Erf, f64: math.Erf}, nil
}

func buildSigmoid(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	return &unaryOp{n: n, f32: kernel.Sigmoid, f64: sigmoid}, nil
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x) // no overflow for large negative x
	return e / (1 + e)
}

func neg(x float64) float64 { return -x }

func negInt(x int64) int64 { return -x }

func absInt(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func (o *unaryOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, d := in[0], out[0]
	switch x.DType {
	case tensor.Float32:
		d.Resize(x.DType, x.Shape...)
		if o.f32 != nil {
			o.f32(d.F32, x.F32)
			return nil
		}
		for i, v := range x.F32 {
			d.F32[i] = float32(o.f64(float64(v)))
		}
		return nil
	case tensor.Float64:
		d.Resize(x.DType, x.Shape...)
		for i, v := range x.F64 {
			d.F64[i] = o.f64(v)
		}
		return nil
	}
	if o.i64 == nil || !isNumber(x.DType) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	switch x.DType {
	case tensor.Int64:
		unaryInt[int64](o.i64, d, x)
	case tensor.Int32:
		unaryInt[int32](o.i64, d, x)
	case tensor.Uint8:
		unaryInt[uint8](o.i64, d, x)
	case tensor.Int8:
		unaryInt[int8](o.i64, d, x)
	}
	return nil
}

func unaryInt[T int64 | int32 | uint8 | int8](f func(int64) int64, d, x *tensor.Tensor) {
	d.Resize(x.DType, x.Shape...)
	dv := data[T](d)
	for i, v := range data[T](x) {
		dv[i] = T(f(int64(v)))
	}
}

// clipOp is Clip: bounds from the min and max attributes before opset 11,
// from the optional inputs 1 and 2 (scalars of the input's dtype) from 11.
type clipOp struct {
	n          *onnx.Node
	fromInputs bool
	lo, hi     float32 // attribute bounds (opset 6-10)
}

func buildClip(n *onnx.Node, opset int64) (op, error) {
	o := &clipOp{n: n, fromInputs: opset >= 11}
	maxIn := 1
	if o.fromInputs {
		maxIn = 3
	}
	if err := checkArity(n, 1, maxIn, 1); err != nil {
		return nil, err
	}
	if !o.fromInputs {
		a := attrs{n: n}
		o.lo = a.float("min", -math.MaxFloat32)
		o.hi = a.float("max", math.MaxFloat32)
		if a.err != nil {
			return nil, a.err
		}
	}
	return o, nil
}

func (o *clipOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if !o.fromInputs {
		if x.DType != tensor.Float32 && x.DType != tensor.Float64 {
			return errorf(o.n, "unsupported dtype %v", x.DType)
		}
	}
	for i := 1; i <= 2; i++ {
		if b := input(in, i); b != nil {
			if b.DType != x.DType || b.Len() != 1 {
				return errorf(o.n, "input %d: want a %v scalar, got %v", i, x.DType, b)
			}
		}
	}
	switch x.DType {
	case tensor.Float32:
		return clip(o, in, out[0], float32(math.Inf(-1)), float32(math.Inf(1)))
	case tensor.Float64:
		return clip(o, in, out[0], math.Inf(-1), math.Inf(1))
	case tensor.Int64:
		return clip[int64](o, in, out[0], math.MinInt64, math.MaxInt64)
	case tensor.Int32:
		return clip[int32](o, in, out[0], math.MinInt32, math.MaxInt32)
	case tensor.Uint8:
		return clip[uint8](o, in, out[0], 0, math.MaxUint8)
	case tensor.Int8:
		return clip[int8](o, in, out[0], math.MinInt8, math.MaxInt8)
	}
	return errorf(o.n, "unsupported dtype %v", x.DType)
}

func clip[T number](o *clipOp, in []*tensor.Tensor, d *tensor.Tensor, lo, hi T) error {
	x := in[0]
	if o.fromInputs {
		if t := input(in, 1); t != nil {
			lo = data[T](t)[0]
		}
		if t := input(in, 2); t != nil {
			hi = data[T](t)[0]
		}
	} else {
		lo, hi = T(o.lo), T(o.hi)
	}
	d.Resize(x.DType, x.Shape...)
	if x.DType == tensor.Float32 {
		kernel.Clip(d.F32, x.F32, float32(lo), float32(hi))
		return nil
	}
	dv := data[T](d)
	// min(max(x, lo), hi): when lo > hi every element becomes hi, as the
	// spec says; NaN stays NaN.
	for i, v := range data[T](x) {
		dv[i] = min(max(v, lo), hi)
	}
	return nil
}

// softmaxOp is Softmax or LogSoftmax. Before opset 13 the input is seen as
// 2-D, [prod(shape[:axis]), prod(shape[axis:])], and normalized along rows;
// from 13 it is normalized along the one axis (default -1).
type softmaxOp struct {
	n      *onnx.Node
	log    bool
	axis   int64
	coerce bool // opset < 13
}

func buildSoftmax(log bool) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		if err := checkArity(n, 1, 1, 1); err != nil {
			return nil, err
		}
		o := &softmaxOp{n: n, log: log, coerce: opset < 13}
		def := int64(-1)
		if o.coerce {
			def = 1
		}
		a := attrs{n: n}
		o.axis = a.int("axis", def)
		if a.err != nil {
			return nil, a.err
		}
		return o, nil
	}
}

func (o *softmaxOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	r := x.Rank()
	var outer, size, inner int
	if o.coerce {
		// axis may equal the rank here, like Flatten's.
		axis := o.axis
		if axis < 0 {
			axis += int64(r)
		}
		if axis < 0 || axis > int64(r) {
			return errorf(o.n, "axis %d out of range for rank %d", o.axis, r)
		}
		outer, size, inner = tensor.NumElements(x.Shape[:axis]), tensor.NumElements(x.Shape[axis:]), 1
	} else {
		axis, err := normAxis(o.n, o.axis, r)
		if err != nil {
			return err
		}
		outer, size, inner = tensor.NumElements(x.Shape[:axis]), x.Shape[axis], tensor.NumElements(x.Shape[axis+1:])
	}
	d := out[0]
	switch x.DType {
	case tensor.Float32:
		d.Resize(x.DType, x.Shape...)
		softmax(d.F32, x.F32, outer, size, inner, o.log)
	case tensor.Float64:
		d.Resize(x.DType, x.Shape...)
		softmax(d.F64, x.F64, outer, size, inner, o.log)
	default:
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	return nil
}

// softmax normalizes x, seen as [outer, size, inner], along the middle axis,
// subtracting the maximum first so that exp cannot overflow. Sums are in
// float64.
func softmax[T float32 | float64](d, x []T, outer, size, inner int, log bool) {
	if len(x) == 0 {
		return
	}
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			base := o*size*inner + j
			m := math.Inf(-1)
			for k := 0; k < size; k++ {
				m = max(m, float64(x[base+k*inner]))
			}
			var sum float64
			for k := 0; k < size; k++ {
				sum += math.Exp(float64(x[base+k*inner]) - m)
			}
			if log {
				ls := math.Log(sum)
				for k := 0; k < size; k++ {
					i := base + k*inner
					d[i] = T(float64(x[i]) - m - ls)
				}
				continue
			}
			for k := 0; k < size; k++ {
				i := base + k*inner
				d[i] = T(math.Exp(float64(x[i])-m) / sum)
			}
		}
	}
}
