package infer

import (
	"fmt"
	"math"
	"sync"

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

// unaryBlock is how many float32 elements a worker takes at a time when a
// unary op splits a large tensor across goroutines.
const unaryBlock = 1 << 14

// unaryTask applies a unaryOp to blocks of unaryBlock elements.
type unaryTask struct {
	o    *unaryOp
	d, x []float32
}

func (t *unaryTask) run(lo, hi, _ int) error {
	a, b := lo*unaryBlock, min(hi*unaryBlock, len(t.x))
	t.o.apply32(t.d[a:b], t.x[a:b])
	return nil
}

// apply32 applies o to float32 values.
func (o *unaryOp) apply32(d, x []float32) {
	if o.f32 != nil {
		o.f32(d, x)
		return
	}
	for i, v := range x {
		d[i] = float32(o.f64(float64(v)))
	}
}

func (o *unaryOp) run(s *scratch, in, out []*tensor.Tensor) error {
	x, d := in[0], out[0]
	switch x.DType {
	case tensor.Float32:
		d.Resize(x.DType, x.Shape...)
		blocks := (len(x.F32) + unaryBlock - 1) / unaryBlock
		if s == nil || blocks < 4 {
			o.apply32(d.F32, x.F32)
			return nil
		}
		t := taskOf[unaryTask](s)
		*t = unaryTask{o, d.F32, x.F32}
		err := parallelFor(s, blocks, blocks, t)
		*t = unaryTask{}
		return err
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
	case tensor.Int16:
		unaryInt[int16](o.i64, d, x)
	case tensor.Uint16:
		unaryInt[uint16](o.i64, d, x)
	case tensor.Uint32:
		unaryInt[uint32](o.i64, d, x)
	case tensor.Uint64:
		unaryInt[uint64](o.i64, d, x)
	}
	return nil
}

func unaryInt[T integer](f func(int64) int64, d, x *tensor.Tensor) {
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
	case tensor.Int16:
		return clip[int16](o, in, out[0], math.MinInt16, math.MaxInt16)
	case tensor.Uint16:
		return clip[uint16](o, in, out[0], 0, math.MaxUint16)
	case tensor.Uint32:
		return clip[uint32](o, in, out[0], 0, math.MaxUint32)
	case tensor.Uint64:
		return clip[uint64](o, in, out[0], 0, math.MaxUint64)
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

// softmaxOp is Softmax, LogSoftmax or Hardmax. Before opset 13 the input
// is seen as 2-D, [prod(shape[:axis]), prod(shape[axis:])], and normalized
// along rows; from 13 it is normalized along the one axis (default -1).
type softmaxOp struct {
	n      *onnx.Node
	kind   softmaxKind
	axis   int64
	coerce bool // opset < 13
}

type softmaxKind uint8

const (
	opSoftmax softmaxKind = iota
	opLogSoftmax
	opHardmax // 1 at the first maximum along the axis, 0 elsewhere
)

func buildSoftmax(kind softmaxKind) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		if err := checkArity(n, 1, 1, 1); err != nil {
			return nil, err
		}
		o := &softmaxOp{n: n, kind: kind, coerce: opset < 13}
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

func (o *softmaxOp) run(s *scratch, in, out []*tensor.Tensor) error {
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
		if o.kind == opHardmax {
			hardmax(d.F32, x.F32, outer, size, inner)
			break
		}
		if inner == 1 && size > 0 {
			// Contiguous rows: float32 exponentials, rows split across the
			// workers when there are many.
			workers := 1
			if outer*size >= 1<<15 {
				workers = outer // parallelFor takes at most one per CPU
			}
			t := taskOf[softmaxRows](s)
			*t = softmaxRows{d: d.F32, x: x.F32, size: size, log: o.kind == opLogSoftmax}
			err := parallelFor(s, outer, workers, t)
			*t = softmaxRows{}
			return err
		}
		softmax(d.F32, x.F32, outer, size, inner, o.kind == opLogSoftmax)
	case tensor.Float64:
		d.Resize(x.DType, x.Shape...)
		if o.kind == opHardmax {
			hardmax(d.F64, x.F64, outer, size, inner)
			break
		}
		softmax(d.F64, x.F64, outer, size, inner, o.kind == opLogSoftmax)
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

// softmaxRows is Softmax or LogSoftmax of float32 rows of size elements:
// the maximum subtracted, the exponentials by kernel.Exp, their sum in
// float64.
type softmaxRows struct {
	d, x []float32
	size int
	log  bool
}

func (t *softmaxRows) run(lo, hi, _ int) error {
	for r := lo; r < hi; r++ {
		xs, ds := t.x[r*t.size:(r+1)*t.size], t.d[r*t.size:(r+1)*t.size]
		m := xs[0]
		for _, v := range xs {
			m = max(m, v) // a NaN stays, and makes the row NaN
		}
		for i, v := range xs {
			ds[i] = v - m
		}
		kernel.Exp(ds, ds)
		var sum float64
		for _, e := range ds {
			sum += float64(e)
		}
		if t.log {
			ls := math.Log(sum)
			for i, v := range xs {
				ds[i] = float32(float64(v-m) - ls)
			}
			continue
		}
		inv := 1 / sum
		for i, e := range ds {
			ds[i] = float32(float64(e) * inv)
		}
	}
	return nil
}

// The activations below have a float32 loop that stays in float32 (the
// exponentials through kernel.Exp, a chunk at a time) and a float64 one.

// chunk is how many elements the float32 activations handle at a time, so
// that a chunk's exponentials are still in cache for the second pass.
const chunk = 1024

// chunkBufs holds the buffers of inChunks: a local array escapes through f
// (go build -gcflags=-m says it is moved to the heap).
var chunkBufs = sync.Pool{New: func() any { return new([2 * chunk]float32) }}

// inChunks calls f on successive chunks of d and x with two buffers e and u
// of the chunk's length for intermediate values. Each loop of f reads x[i]
// before it writes d[i], so that d may be x itself (a fused activation
// works in place).
func inChunks(d, x []float32, f func(d, x, e, u []float32)) {
	buf := chunkBufs.Get().(*[2 * chunk]float32)
	for len(x) > 0 {
		n := min(len(x), chunk)
		f(d[:n], x[:n], buf[:n], buf[chunk:chunk+n])
		d, x = d[n:], x[n:]
	}
	chunkBufs.Put(buf)
}

// buildFloatAct returns the builder of a one-input float activation whose
// attributes parse reads (with defaults); parse returns the float32 loop and
// the float64 function.
func buildFloatAct(parse func(a *attrs) (func(d, x []float32), func(float64) float64)) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		if err := checkArity(n, 1, 1, 1); err != nil {
			return nil, err
		}
		a := attrs{n: n}
		if opset < 6 {
			a.ints("consumed_inputs", -1, nil) // opset 1: no effect
		}
		f32, f64 := parse(&a)
		if a.err != nil {
			return nil, a.err
		}
		return &unaryOp{n: n, f32: f32, f64: f64}, nil
	}
}

// HardSigmoid: max(0, min(1, alpha*x + beta)).
func parseHardSigmoid(a *attrs) (func(d, x []float32), func(float64) float64) {
	alpha, beta := a.float("alpha", 0.2), a.float("beta", 0.5)
	return func(d, x []float32) { kernel.HardSigmoid(d, x, alpha, beta) },
		func(x float64) float64 {
			return min(max(float64(alpha)*x+float64(beta), 0), 1)
		}
}

// HardSwish: x * max(0, min(1, x/6 + 1/2)).
func parseHardSwish(a *attrs) (func(d, x []float32), func(float64) float64) {
	return func(d, x []float32) { kernel.MulHardSigmoid(d, x, 1.0/6, 0.5) },
		func(x float64) float64 {
			return x * min(max(x/6+0.5, 0), 1)
		}
}

// Elu: x for x >= 0, alpha*(exp(x)-1) below.
func parseElu(a *attrs) (func(d, x []float32), func(float64) float64) {
	alpha := a.float("alpha", 1)
	return func(d, x []float32) {
			inChunks(d, x, func(d, x, e, _ []float32) {
				kernel.Exp(e, x)
				for i, v := range x {
					if v < 0 {
						v = alpha * (e[i] - 1)
					}
					d[i] = v
				}
			})
		}, func(x float64) float64 {
			if x < 0 {
				return float64(alpha) * math.Expm1(x)
			}
			return x
		}
}

// Selu: gamma*x for x > 0, gamma*alpha*(exp(x)-1) otherwise.
func parseSelu(a *attrs) (func(d, x []float32), func(float64) float64) {
	alpha := a.float("alpha", 1.67326319217681884765625)
	gamma := a.float("gamma", 1.05070102214813232421875)
	return func(d, x []float32) {
			inChunks(d, x, func(d, x, e, _ []float32) {
				kernel.Exp(e, x)
				for i, v := range x {
					if v > 0 || v != v {
						d[i] = gamma * v
					} else {
						d[i] = gamma * (alpha*e[i] - alpha)
					}
				}
			})
		}, func(x float64) float64 {
			if x > 0 {
				return float64(gamma) * x
			}
			return float64(gamma) * float64(alpha) * math.Expm1(x)
		}
}

// Celu: max(0, x) + min(0, alpha*(exp(x/alpha)-1)).
func parseCelu(a *attrs) (func(d, x []float32), func(float64) float64) {
	alpha := a.float("alpha", 1)
	return func(d, x []float32) {
			inChunks(d, x, func(d, x, e, _ []float32) {
				for i, v := range x {
					e[i] = v / alpha
				}
				kernel.Exp(e, e)
				for i, v := range x {
					d[i] = max(0, v) + min(0, alpha*(e[i]-1))
				}
			})
		}, func(x float64) float64 {
			al := float64(alpha)
			return max(0, x) + min(0, al*math.Expm1(x/al))
		}
}

// Softsign: x / (1 + |x|).
func parseSoftsign(a *attrs) (func(d, x []float32), func(float64) float64) {
	return func(d, x []float32) {
		for i, v := range x {
			d[i] = v / (1 + float32(math.Abs(float64(v))))
		}
	}, func(x float64) float64 { return x / (1 + math.Abs(x)) }
}

// Softplus: log(1 + exp(x)), as max(x, 0) + log1p(exp(-|x|)) so that
// large |x| neither overflows nor loses the small term.
func parseSoftplus(a *attrs) (func(d, x []float32), func(float64) float64) {
	return func(d, x []float32) {
		inChunks(d, x, func(d, x, e, _ []float32) {
			for i, v := range x {
				e[i] = -float32(math.Abs(float64(v)))
			}
			kernel.Exp(e, e)
			for i, v := range x {
				d[i] = max(v, 0) + float32(math.Log1p(float64(e[i])))
			}
		})
	}, func(x float64) float64 { return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }
}

// Mish: x * tanh(softplus(x)). With e = exp(x), tanh(log(1+e)) is
// n/(n+2) where n = e*(e+2); above x = 20 it is 1 in float32 and float64
// alike to the precision kept, and e*(e+2) could overflow.
func parseMish(a *attrs) (func(d, x []float32), func(float64) float64) {
	return func(d, x []float32) {
			inChunks(d, x, func(d, x, e, _ []float32) {
				kernel.Exp(e, x)
				for i, v := range x {
					if v > 20 {
						d[i] = v
						continue
					}
					n := e[i] * (e[i] + 2)
					d[i] = v * n / (n + 2)
				}
			})
		}, func(x float64) float64 {
			if x > 40 {
				return x
			}
			e := math.Exp(x)
			n := e * (e + 2)
			return x * n / (n + 2)
		}
}

// ThresholdedRelu: x for x > alpha, 0 otherwise.
func parseThresholdedRelu(a *attrs) (func(d, x []float32), func(float64) float64) {
	alpha := a.float("alpha", 1)
	return func(d, x []float32) {
			for i, v := range x {
				if !(v > alpha) {
					v = 0
				}
				d[i] = v
			}
		}, func(x float64) float64 {
			if x > float64(alpha) {
				return x
			}
			return 0
		}
}

// buildGelu is Gelu (opset 20): x * Phi(x) with the normal distribution's
// CDF Phi (approximate "none"), or with approximate "tanh",
// x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))), computed as
// x * sigmoid(2u) so that large negative x keeps its relative precision.
func buildGelu(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	approx := a.string("approximate", "none")
	if a.err != nil {
		return nil, a.err
	}
	switch approx {
	case "none":
		// Phi(x) = erfc(-x/sqrt 2)/2, which keeps its relative precision
		// for large negative x (1 + erf(x/sqrt 2) would cancel).
		return &unaryOp{n: n,
			f32: func(d, x []float32) {
				inChunks(d, x, func(d, x, e, u []float32) {
					for i, v := range x {
						u[i] = -v * (1 / math.Sqrt2)
					}
					erfChunk(u, u, e, true)
					for i, v := range x {
						d[i] = v * 0.5 * u[i]
					}
				})
			},
			f64: func(x float64) float64 { return x * 0.5 * math.Erfc(-x/math.Sqrt2) }}, nil
	case "tanh":
		const c = 0.7978845608028654 // sqrt(2/pi)
		return &unaryOp{n: n,
			f32: func(d, x []float32) {
				inChunks(d, x, func(d, x, e, _ []float32) {
					for i, v := range x {
						e[i] = -2 * c * (v + 0.044715*v*v*v)
					}
					kernel.Exp(e, e)
					for i, v := range x {
						d[i] = v / (1 + e[i])
					}
				})
			},
			f64: func(x float64) float64 { return x / (1 + math.Exp(-2*c*(x+0.044715*x*x*x))) }}, nil
	}
	return nil, unsupportedf(n, "attribute \"approximate\": %q (want \"none\" or \"tanh\")", approx)
}

// shrinkOp is Shrink (opset 9; every numeric dtype): x+bias below -lambd,
// x-bias above lambd, 0 between. Integer inputs are computed in float64 and
// converted back.
type shrinkOp struct {
	n           *onnx.Node
	bias, lambd float32
}

func buildShrink(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &shrinkOp{n: n, bias: a.float("bias", 0), lambd: a.float("lambd", 0.5)}
	return o, a.err
}

func (o *shrinkOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, d := in[0], out[0]
	if !isNumber(x.DType) {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	d.Resize(x.DType, x.Shape...)
	if x.DType == tensor.Float32 {
		for i, v := range x.F32 {
			switch {
			case v < -o.lambd:
				v += o.bias
			case v > o.lambd:
				v -= o.bias
			default:
				v = 0
			}
			d.F32[i] = v
		}
		return nil
	}
	b, l := float64(o.bias), float64(o.lambd)
	r := toFloat64(x)
	if x.DType != tensor.Float64 {
		r = append([]float64(nil), r...)
	}
	for i, v := range r {
		switch {
		case v < -l:
			r[i] = v + b
		case v > l:
			r[i] = v - b
		default:
			r[i] = 0
		}
	}
	castFloat64(d, r)
	return nil
}

// preluOp is PRelu: x for x >= 0, slope*x below, with slope broadcast
// unidirectionally to x (numpy rules), integer dtypes from opset 9. In
// opsets 1 and 6 the slope has one element or one per channel (axis 1 of
// x), or else broadcasts.
type preluOp struct {
	n      *onnx.Node
	legacy bool // opset < 7
}

func buildPRelu(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	if opset < 6 {
		a.ints("consumed_inputs", -1, nil) // no effect
	}
	return &preluOp{n: n, legacy: opset < 7}, a.err
}

func (o *preluOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, s := in[0], in[1]
	if x.DType != s.DType {
		return errorf(o.n, "input dtypes differ: %v and %v", x.DType, s.DType)
	}
	if o.legacy && s.Rank() == 1 && x.Rank() >= 2 && s.Shape[0] == x.Shape[1] && s.Shape[0] != 1 {
		// One slope per channel: shape it C x 1 x ... to broadcast.
		c := *s
		c.Shape = make([]int, x.Rank()-1)
		for i := range c.Shape {
			c.Shape[i] = 1
		}
		c.Shape[0] = s.Shape[0]
		s = &c
	}
	if err := checkUnidirectional("slope", x, s); err != nil {
		return err
	}
	switch x.DType {
	case tensor.Float32:
		prelu[float32](x, s, out[0])
	case tensor.Float64:
		prelu[float64](x, s, out[0])
	case tensor.Int64:
		prelu[int64](x, s, out[0])
	case tensor.Int32:
		prelu[int32](x, s, out[0])
	default:
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	return nil
}

// checkUnidirectional returns an error naming the input unless t's shape
// broadcasts to x's (numpy rules, x's shape unchanged).
func checkUnidirectional(what string, x, t *tensor.Tensor) error {
	ok := t.Rank() <= x.Rank()
	for i, d := range t.Shape {
		if !ok {
			break
		}
		xd := x.Shape[x.Rank()-t.Rank()+i]
		ok = d == xd || d == 1
	}
	if !ok {
		return fmt.Errorf("input %s %v does not broadcast to X %v", what, t, x)
	}
	return checkPlanDims(x.Shape)
}

func prelu[T number](x, s, d *tensor.Tensor) {
	d.Resize(x.DType, x.Shape...)
	k := binKernel[T, T]{
		vv: func(d, x, s []T) {
			for i, v := range x {
				if v < 0 {
					v *= s[i]
				}
				d[i] = v
			}
		},
		vs: func(d, x []T, s T) {
			for i, v := range x {
				if v < 0 {
					v *= s
				}
				d[i] = v
			}
		},
		sv: func(d []T, x T, s []T) {
			for i, sv := range s {
				v := x
				if v < 0 {
					v *= sv
				}
				d[i] = v
			}
		},
	}
	broadcastBinary(&k, data[T](d), x.Shape, data[T](x), x.Shape, data[T](s), s.Shape)
}

// hardmax sets d, seen as [outer, size, inner], to 1 at the first maximum
// of x along the middle axis and 0 elsewhere (the first NaN counts as the
// maximum, as numpy's argmax has it).
func hardmax[T float32 | float64](d, x []T, outer, size, inner int) {
	clear(d)
	if size == 0 {
		return
	}
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			base := o*size*inner + j
			best := base
			for k := 1; k < size && x[best] == x[best]; k++ {
				i := base + k*inner
				if x[i] > x[best] || x[i] != x[i] {
					best = i
				}
			}
			d[best] = 1
		}
	}
}
