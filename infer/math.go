package infer

import (
	"math"

	"github.com/onnxkit/onnxkit/internal/kernel"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Unary math (trigonometric and hyperbolic functions, Floor, Ceil, Round,
// Reciprocal, Sign, IsNaN, IsInf) and the logical and integer ops (Not,
// And, Or, Xor, Mod, BitShift).

// buildFloatMath is buildUnary for the float ops of opset 1 that took the
// consumed_inputs attribute (Floor, Ceil, Reciprocal; it has no effect).
func buildFloatMath(f64 func(float64) float64, f32 func(d, x []float32)) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		if err := checkArity(n, 1, 1, 1); err != nil {
			return nil, err
		}
		a := attrs{n: n}
		if opset < 6 {
			a.ints("consumed_inputs", -1, nil)
		}
		return &unaryOp{n: n, f32: f32, f64: f64}, a.err
	}
}

// erfSplit is where erfChunk changes from its polynomial for erf(x)/x to
// the one for erfc(x)*exp(x*x).
const erfSplit = 0.875

// erfChunk sets d[i] to erf(x[i]), or erfc(x[i]) when comp, in float32,
// with e a buffer of len(x). Below erfSplit erf(x) = x*P(x*x); above it
// erfc(|x|) = exp(-x*x)*Q(1/(1+|x|/2)), with exp(-x*x) from kernel.Exp and
// corrected for the rounding of x*x. P (degree 6) and Q (degree 10) are
// least-squares fits to erf(x)/x on [0, 0.875] and erfc(x)*exp(x*x) on
// [0.875, 10] (scripts/erf_fit.py), within 8e-10 relative in float64;
// evaluated in float32, erf is within 3 ulp and erfc within 5e-7 relative
// (TestErfChunk). Each loop reads x[i] before it writes d[i], so d may be
// x.
func erfChunk(d, x, e []float32, comp bool) {
	for i, v := range x {
		a := min(float32(math.Abs(float64(v))), 10) // erfc(10) is 0 in float32
		e[i] = -a * a
	}
	kernel.Exp(e, e)
	for i, v := range x {
		a := float32(math.Abs(float64(v)))
		if a < erfSplit {
			z := a * a
			p := v * (1.1283791669498322 + z*(-0.37612636892456308+z*(0.11283746647551011+z*(-0.026862402032251747+
				z*(0.0052089459387308929+z*(-0.00082382090228281483+z*8.800110123625549e-05))))))
			if comp {
				p = 1 - p
			}
			d[i] = p
			continue
		}
		a = min(a, 10)
		s := a * a
		r := float32(float64(a)*float64(a) - float64(s)) // a*a - s, exactly
		t := 1 / (1 + 0.5*a)
		q := 1.4486756606138317e-06 + t*(0.28204903308746526+t*(0.2827279780583683+t*(0.24179430973442689+
			t*(0.20169064506905199+t*(0.00023555108663747429+t*(0.17203291894455081+t*(-0.27345796327885663+
				t*(0.040911048491757022+t*(0.090369345500081008+t*-0.038434687094592579)))))))))
		c := e[i] * (1 - r) * q // erfc(a): exp(-(s + r)) = exp(-s)*exp(-r)
		switch {
		case comp && v < 0:
			c = 2 - c
		case !comp && v < 0:
			c = c - 1
		case !comp:
			c = 1 - c
		}
		d[i] = c
	}
}

func reciprocal32(d, x []float32) {
	for i, v := range x {
		d[i] = 1 / v
	}
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x // 0, -0 and NaN unchanged
}

func signInt(x int64) int64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// predOp is IsNaN or IsInf: a bool output for a float input.
type predOp struct {
	n        *onnx.Node
	nan      bool // IsNaN; else IsInf
	pos, neg bool // IsInf: detect_positive, detect_negative
}

func buildIsNaN(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	return &predOp{n: n, nan: true}, nil
}

func buildIsInf(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &predOp{n: n, pos: a.int("detect_positive", 1) != 0, neg: a.int("detect_negative", 1) != 0}
	return o, a.err
}

func (o *predOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, d := in[0], out[0]
	switch x.DType {
	case tensor.Float32:
		d.Resize(tensor.Bool, x.Shape...)
		for i, v := range x.F32 {
			d.B[i] = o.test(float64(v))
		}
	case tensor.Float64:
		d.Resize(tensor.Bool, x.Shape...)
		for i, v := range x.F64 {
			d.B[i] = o.test(v)
		}
	default:
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	return nil
}

func (o *predOp) test(v float64) bool {
	if o.nan {
		return v != v
	}
	return (o.pos && v > math.MaxFloat64) || (o.neg && v < -math.MaxFloat64)
}

// notOp is Not (opset 1): logical negation of a bool tensor.
type notOp struct{ n *onnx.Node }

func buildNot(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	return &notOp{n}, nil
}

func (o *notOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, d := in[0], out[0]
	if x.DType != tensor.Bool {
		return errorf(o.n, "want a bool input, got %v", x.DType)
	}
	d.Resize(tensor.Bool, x.Shape...)
	for i, v := range x.B {
		d.B[i] = !v
	}
	return nil
}

// logicOp is And, Or or Xor on bool tensors: numpy broadcasting from opset
// 7, legacyBcast's in opset 1.
type logicOp struct {
	n      *onnx.Node
	f      func(a, b bool) bool
	legacy *legacyBcast
}

func buildLogic(f func(a, b bool) bool) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		if err := checkArity(n, 2, 2, 1); err != nil {
			return nil, err
		}
		legacy, err := legacyBcastFor(n, opset)
		if err != nil {
			return nil, err
		}
		return &logicOp{n: n, f: f, legacy: legacy}, nil
	}
}

func (o *logicOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	a, b := in[0], in[1]
	if a.DType != tensor.Bool || b.DType != tensor.Bool {
		return errorf(o.n, "want bool inputs, got %v and %v", a.DType, b.DType)
	}
	var bbuf [8]int
	shape, bshape, err := binaryShapes(o.n, o.legacy, out[0], a, b, bbuf[:0])
	if err != nil {
		return err
	}
	out[0].Resize(tensor.Bool, shape...)
	k := funcKernel(o.f)
	broadcastBinary(&k, out[0].B, shape, a.B, a.Shape, b.B, bshape)
	return nil
}

// intBinaryOp is Mod (opset 10, 13) or BitShift (opset 11): two inputs of
// one dtype with numpy broadcasting.
type intBinaryOp struct {
	n     *onnx.Node
	shift bool // BitShift; else Mod
	fmod  bool // Mod: C's fmod (the result has the dividend's sign); else the divisor's sign
	left  bool // BitShift: direction LEFT
}

func buildMod(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &intBinaryOp{n: n}
	switch f := a.int("fmod", 0); f {
	case 0, 1:
		o.fmod = f == 1
	default:
		a.fail("attribute \"fmod\": want 0 or 1, got %d", f)
	}
	return o, a.err
}

func buildBitShift(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &intBinaryOp{n: n, shift: true}
	switch dir := a.string("direction", ""); dir {
	case "LEFT", "RIGHT":
		o.left = dir == "LEFT"
	default:
		a.fail("attribute \"direction\": want \"LEFT\" or \"RIGHT\", got %q", dir)
	}
	return o, a.err
}

func (o *intBinaryOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	a, b := in[0], in[1]
	if a.DType != b.DType {
		return errorf(o.n, "input dtypes differ: %v and %v", a.DType, b.DType)
	}
	shape, bshape, err := binaryShapes(o.n, nil, out[0], a, b, nil)
	if err != nil {
		return err
	}
	if o.shift {
		switch a.DType {
		case tensor.Uint8:
			return shift[uint8](o, a, b, out[0], shape, bshape)
		case tensor.Uint16:
			return shift[uint16](o, a, b, out[0], shape, bshape)
		case tensor.Uint32:
			return shift[uint32](o, a, b, out[0], shape, bshape)
		case tensor.Uint64:
			return shift[uint64](o, a, b, out[0], shape, bshape)
		}
		return errorf(o.n, "unsupported dtype %v (want an unsigned integer)", a.DType)
	}
	if isFloat(a.DType) && !o.fmod {
		return errorf(o.n, "attribute \"fmod\" must be 1 for %v inputs", a.DType)
	}
	switch a.DType {
	case tensor.Float32:
		return modFloat[float32](o, a, b, out[0], shape, bshape)
	case tensor.Float64:
		return modFloat[float64](o, a, b, out[0], shape, bshape)
	case tensor.Int64:
		return modInt[int64](o, a, b, out[0], shape, bshape)
	case tensor.Int32:
		return modInt[int32](o, a, b, out[0], shape, bshape)
	case tensor.Uint8:
		return modInt[uint8](o, a, b, out[0], shape, bshape)
	case tensor.Int8:
		return modInt[int8](o, a, b, out[0], shape, bshape)
	case tensor.Int16:
		return modInt[int16](o, a, b, out[0], shape, bshape)
	case tensor.Uint16:
		return modInt[uint16](o, a, b, out[0], shape, bshape)
	case tensor.Uint32:
		return modInt[uint32](o, a, b, out[0], shape, bshape)
	case tensor.Uint64:
		return modInt[uint64](o, a, b, out[0], shape, bshape)
	}
	return errorf(o.n, "unsupported dtype %v", a.DType)
}

// shift is BitShift on one of the spec's unsigned types.
func shift[T uint8 | uint16 | uint32 | uint64](o *intBinaryOp, a, b, d *tensor.Tensor, shape, bshape []int) error {
	f := func(x, y T) T { return x >> y }
	if o.left {
		f = func(x, y T) T { return x << y }
	}
	k := funcKernel(f)
	d.Resize(a.DType, shape...)
	broadcastBinary(&k, data[T](d), shape, data[T](a), a.Shape, data[T](b), bshape)
	return nil
}

// modFloat is fmod: exact, with the dividend's sign (NaN for a zero divisor).
func modFloat[T float32 | float64](o *intBinaryOp, a, b, d *tensor.Tensor, shape, bshape []int) error {
	k := funcKernel(func(x, y T) T { return T(math.Mod(float64(x), float64(y))) })
	d.Resize(a.DType, shape...)
	broadcastBinary(&k, data[T](d), shape, data[T](a), a.Shape, data[T](b), bshape)
	return nil
}

func modInt[T integer](o *intBinaryOp, a, b, d *tensor.Tensor, shape, bshape []int) error {
	for _, v := range data[T](b) {
		if v == 0 {
			return errorf(o.n, "integer modulo by zero")
		}
	}
	f := func(x, y T) T { return x % y }
	if !o.fmod {
		f = func(x, y T) T {
			r := x % y
			if r != 0 && (r < 0) != (y < 0) {
				r += y
			}
			return r
		}
	}
	k := funcKernel(f)
	d.Resize(a.DType, shape...)
	broadcastBinary(&k, data[T](d), shape, data[T](a), a.Shape, data[T](b), bshape)
	return nil
}

// bitwiseOp is BitwiseAnd, BitwiseOr, BitwiseXor (two inputs of one integer
// dtype, numpy broadcasting) or BitwiseNot (one input) (opset 18).
type bitwiseOp struct {
	n    *onnx.Node
	kind byte // '&', '|', '^' or '~'
}

func buildBitwise(kind byte) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		nin := 2
		if kind == '~' {
			nin = 1
		}
		if err := checkArity(n, nin, nin, 1); err != nil {
			return nil, err
		}
		return &bitwiseOp{n, kind}, nil
	}
}

func (o *bitwiseOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	switch in[0].DType {
	case tensor.Int64:
		return bitwise[int64](o, in, out[0])
	case tensor.Int32:
		return bitwise[int32](o, in, out[0])
	case tensor.Uint8:
		return bitwise[uint8](o, in, out[0])
	case tensor.Int8:
		return bitwise[int8](o, in, out[0])
	case tensor.Int16:
		return bitwise[int16](o, in, out[0])
	case tensor.Uint16:
		return bitwise[uint16](o, in, out[0])
	case tensor.Uint32:
		return bitwise[uint32](o, in, out[0])
	case tensor.Uint64:
		return bitwise[uint64](o, in, out[0])
	}
	return errorf(o.n, "unsupported dtype %v (want an integer)", in[0].DType)
}

func bitwise[T integer](o *bitwiseOp, in []*tensor.Tensor, d *tensor.Tensor) error {
	a := in[0]
	if o.kind == '~' {
		d.Resize(a.DType, a.Shape...)
		dv := data[T](d)
		for i, v := range data[T](a) {
			dv[i] = ^v
		}
		return nil
	}
	b := in[1]
	if b.DType != a.DType {
		return errorf(o.n, "input dtypes differ: %v and %v", a.DType, b.DType)
	}
	shape, bshape, err := binaryShapes(o.n, nil, d, a, b, nil)
	if err != nil {
		return err
	}
	f := func(x, y T) T { return x & y }
	switch o.kind {
	case '|':
		f = func(x, y T) T { return x | y }
	case '^':
		f = func(x, y T) T { return x ^ y }
	}
	k := funcKernel(f)
	d.Resize(a.DType, shape...)
	broadcastBinary(&k, data[T](d), shape, data[T](a), a.Shape, data[T](b), bshape)
	return nil
}
