package infer

import (
	"math"
	"strconv"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Elementwise ops with numpy broadcasting (Add, Sub, Mul, Div, Pow, Sum, Max,
// Min, comparisons, Where) and Cast.

type arithKind uint8

const (
	opAdd arithKind = iota
	opSub
	opMul
	opDiv
)

// arithOp is Add, Sub, Mul or Div: numpy broadcasting from opset 7, the
// limited broadcasting of legacyBcast before (opsets 1 and 6; opset 1's
// consumed_inputs attribute has no effect).
type arithOp struct {
	n      *onnx.Node
	kind   arithKind
	legacy *legacyBcast // opset < 7
}

func buildArith(kind arithKind) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		if err := checkArity(n, 2, 2, 1); err != nil {
			return nil, err
		}
		legacy, err := legacyBcastFor(n, opset)
		if err != nil {
			return nil, err
		}
		return &arithOp{n: n, kind: kind, legacy: legacy}, nil
	}
}

// binaryShapes returns the output shape of a two-input elementwise op and
// the shape to broadcast B with: the numpy broadcast of A and B when l is
// nil, else A's shape and B aligned by the legacy rules. The output shape
// is built in d's shape storage or aliases a; B's in bbuf when it fits.
func binaryShapes(n *onnx.Node, l *legacyBcast, d, a, b *tensor.Tensor, bbuf []int) (shape, bshape []int, err error) {
	if l == nil {
		shape, err = broadcastShapeInto(d.Shape[:0], a.Shape, b.Shape)
		if err != nil {
			return nil, nil, errorf(n, "%v", err)
		}
		bshape = b.Shape
	} else {
		bshape, err = l.alignB(bbuf, a.Shape, b.Shape)
		if err == nil {
			err = checkPlanDims(a.Shape)
		}
		if err != nil {
			return nil, nil, errorf(n, "%v", err)
		}
		shape = a.Shape
	}
	if err := checkSizeOf(n, shape, a.DType); err != nil {
		return nil, nil, err
	}
	return shape, bshape, nil
}

func (o *arithOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	a, b := in[0], in[1]
	if a.DType != b.DType {
		return errorf(o.n, "input dtypes differ: %v and %v", a.DType, b.DType)
	}
	var bbuf [8]int
	shape, bshape, err := binaryShapes(o.n, o.legacy, out[0], a, b, bbuf[:0])
	if err != nil {
		return err
	}
	switch a.DType {
	case tensor.Float32:
		return arith[float32](o, a, b, out[0], shape, bshape)
	case tensor.Float64:
		return arith[float64](o, a, b, out[0], shape, bshape)
	case tensor.Int64:
		return arith[int64](o, a, b, out[0], shape, bshape)
	case tensor.Int32:
		return arith[int32](o, a, b, out[0], shape, bshape)
	case tensor.Uint8:
		return arith[uint8](o, a, b, out[0], shape, bshape)
	case tensor.Int8:
		return arith[int8](o, a, b, out[0], shape, bshape)
	case tensor.Int16:
		return arith[int16](o, a, b, out[0], shape, bshape)
	case tensor.Uint16:
		return arith[uint16](o, a, b, out[0], shape, bshape)
	case tensor.Uint32:
		return arith[uint32](o, a, b, out[0], shape, bshape)
	case tensor.Uint64:
		return arith[uint64](o, a, b, out[0], shape, bshape)
	}
	return errorf(o.n, "unsupported dtype %v", a.DType)
}

// arith computes d = a op b, with b broadcast from bshape (its shape, or
// its legacy alignment) to shape.
func arith[T number](o *arithOp, a, b, d *tensor.Tensor, shape, bshape []int) error {
	bv := data[T](b)
	var k binKernel[T, T]
	switch o.kind {
	case opAdd:
		k = addKernel[T]()
	case opSub:
		k = subKernel[T]()
	case opMul:
		k = mulKernel[T]()
	case opDiv:
		if !isFloat(a.DType) {
			// Integer division by zero would panic; float division gives Inf or NaN.
			for _, v := range bv {
				if v == 0 {
					return errorf(o.n, "integer division by zero")
				}
			}
		}
		k = divKernel[T]()
	}
	d.Resize(a.DType, shape...)
	broadcastBinary(&k, data[T](d), shape, data[T](a), a.Shape, bv, bshape)
	return nil
}

func addKernel[T number]() binKernel[T, T] {
	return binKernel[T, T]{
		vv: func(d, a, b []T) {
			for i := range d {
				d[i] = a[i] + b[i]
			}
		},
		vs: func(d, a []T, b T) {
			for i := range d {
				d[i] = a[i] + b
			}
		},
		sv: func(d []T, a T, b []T) {
			for i := range d {
				d[i] = a + b[i]
			}
		},
	}
}

func subKernel[T number]() binKernel[T, T] {
	return binKernel[T, T]{
		vv: func(d, a, b []T) {
			for i := range d {
				d[i] = a[i] - b[i]
			}
		},
		vs: func(d, a []T, b T) {
			for i := range d {
				d[i] = a[i] - b
			}
		},
		sv: func(d []T, a T, b []T) {
			for i := range d {
				d[i] = a - b[i]
			}
		},
	}
}

func mulKernel[T number]() binKernel[T, T] {
	return binKernel[T, T]{
		vv: func(d, a, b []T) {
			for i := range d {
				d[i] = a[i] * b[i]
			}
		},
		vs: func(d, a []T, b T) {
			for i := range d {
				d[i] = a[i] * b
			}
		},
		sv: func(d []T, a T, b []T) {
			for i := range d {
				d[i] = a * b[i]
			}
		},
	}
}

// divKernel divides; Go's integer division truncates toward zero, like C
// and like ONNX Div on integers. Callers rule out integer division by zero.
func divKernel[T number]() binKernel[T, T] {
	return binKernel[T, T]{
		vv: func(d, a, b []T) {
			for i := range d {
				d[i] = a[i] / b[i]
			}
		},
		vs: func(d, a []T, b T) {
			for i := range d {
				d[i] = a[i] / b
			}
		},
		sv: func(d []T, a T, b []T) {
			for i := range d {
				d[i] = a / b[i]
			}
		},
	}
}

// powOp is Pow: numpy broadcasting from opset 7, legacyBcast's before
// (opset 1). From opset 12 the exponent may have a different dtype from
// the base; the output has the base's dtype.
type powOp struct {
	n      *onnx.Node
	legacy *legacyBcast // opset < 7
}

func buildPow(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	legacy, err := legacyBcastFor(n, opset)
	if err != nil {
		return nil, err
	}
	return &powOp{n: n, legacy: legacy}, nil
}

func (o *powOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	a, b := in[0], in[1]
	if !isNumber(a.DType) || !isNumber(b.DType) {
		return errorf(o.n, "unsupported dtypes %v and %v", a.DType, b.DType)
	}
	if o.legacy != nil && a.DType != b.DType {
		return errorf(o.n, "input dtypes differ: %v and %v", a.DType, b.DType)
	}
	var bbuf [8]int
	shape, bshape, err := binaryShapes(o.n, o.legacy, out[0], a, b, bbuf[:0])
	if err != nil {
		return err
	}
	d := out[0]
	if a.DType == tensor.Float32 && b.Len() == 1 && tensor.NumElements(shape) == a.Len() && scalarIs2(b) {
		// x**2 (LayerNorm written out): the float64 power of a float32
		// is its exact square, so one float32 product rounds the same.
		d.Resize(a.DType, shape...)
		for i, v := range a.F32 {
			d.F32[i] = v * v
		}
		return nil
	}
	if isFloat(a.DType) || isFloat(b.DType) {
		k := funcKernel(math.Pow)
		r := make([]float64, tensor.NumElements(shape))
		broadcastBinary(&k, r, shape, toFloat64(a), a.Shape, toFloat64(b), bshape)
		d.Resize(a.DType, shape...)
		castFloat64(d, r)
		return nil
	}
	// Integer base and exponent: exact integer power.
	k := funcKernel(ipow)
	r := make([]int64, tensor.NumElements(shape))
	broadcastBinary(&k, r, shape, toInt64(a), a.Shape, toInt64(b), bshape)
	d.Resize(a.DType, shape...)
	castInt64(d, r)
	return nil
}

// scalarIs2 reports whether the one-element tensor t holds 2.
func scalarIs2(t *tensor.Tensor) bool {
	switch t.DType {
	case tensor.Float32:
		return t.F32[0] == 2
	case tensor.Float64:
		return t.F64[0] == 2
	case tensor.Int64:
		return t.I64[0] == 2
	case tensor.Int32:
		return t.I32[0] == 2
	}
	return false
}

// ipow is x**e for integers by repeated squaring (wrapping on overflow);
// a negative exponent gives the truncated real result (0 unless |x| is 1).
func ipow(x, e int64) int64 {
	if e < 0 {
		switch {
		case x == 1:
			return 1
		case x == -1 && e%2 == 0:
			return 1
		case x == -1:
			return -1
		case x == 0:
			return 0 // undefined (division by zero); 0 rather than a panic
		}
		return 0
	}
	r := int64(1)
	for e > 0 {
		if e&1 == 1 {
			r *= x
		}
		x *= x
		e >>= 1
	}
	return r
}

func isFloat(dt tensor.DType) bool { return dt == tensor.Float32 || dt == tensor.Float64 }

// isNumber reports whether dt has arithmetic kernels of its own (float16
// and bfloat16 are computed as float32, see narrow.go).
func isNumber(dt tensor.DType) bool {
	k := dt.Kind()
	return k == tensor.KindSigned || k == tensor.KindUnsigned || dt == tensor.Float32 || dt == tensor.Float64
}

// toFloat64 returns t's elements as float64s (a new slice unless t is float64).
func toFloat64(t *tensor.Tensor) []float64 {
	if t.DType == tensor.Float64 {
		return t.F64
	}
	r := make([]float64, t.Len())
	convertInto(r, t)
	return r
}

// toInt64 returns t's elements as int64s (a new slice unless t is int64).
func toInt64(t *tensor.Tensor) []int64 {
	if t.DType == tensor.Int64 {
		return t.I64
	}
	r := make([]int64, t.Len())
	convertInto(r, t)
	return r
}

// castFloat64 converts r into d, which has been resized to len(r) elements.
func castFloat64(d *tensor.Tensor, r []float64) {
	src := tensor.Tensor{DType: tensor.Float64, Shape: []int{len(r)}, F64: r}
	castInto(d, &src)
}

func castInt64(d *tensor.Tensor, r []int64) {
	src := tensor.Tensor{DType: tensor.Int64, Shape: []int{len(r)}, I64: r}
	castInto(d, &src)
}

// castInto converts every element of src into d (already resized to the
// same number of elements) with Cast's rules: Go conversions (floats to
// integers truncate toward zero, integers wrap), nonzero is true, true is 1,
// float16 and bfloat16 round to nearest even, strings parse and format.
func castInto(d, src *tensor.Tensor) {
	if d.DType > tensor.Bool || src.DType > tensor.Bool {
		castAny(d, src)
		return
	}
	switch d.DType {
	case tensor.Float32:
		convertInto(d.F32, src)
	case tensor.Float64:
		convertInto(d.F64, src)
	case tensor.Int64:
		convertInto(d.I64, src)
	case tensor.Int32:
		convertInto(d.I32, src)
	case tensor.Uint8:
		convertInto(d.U8, src)
	case tensor.Int8:
		convertInto(d.I8, src)
	case tensor.Int16:
		convertInto(data[int16](d), src)
	case tensor.Uint16:
		convertInto(data[uint16](d), src)
	case tensor.Uint32:
		convertInto(data[uint32](d), src)
	case tensor.Uint64:
		convertInto(data[uint64](d), src)
	case tensor.Bool:
		switch src.DType {
		case tensor.Float32:
			toBool(d.B, src.F32)
		case tensor.Float64:
			toBool(d.B, src.F64)
		case tensor.Int64:
			toBool(d.B, src.I64)
		case tensor.Int32:
			toBool(d.B, src.I32)
		case tensor.Uint8:
			toBool(d.B, src.U8)
		case tensor.Int8:
			toBool(d.B, src.I8)
		case tensor.Int16:
			toBool(d.B, data[int16](src))
		case tensor.Uint16:
			toBool(d.B, data[uint16](src))
		case tensor.Uint32:
			toBool(d.B, data[uint32](src))
		case tensor.Uint64:
			toBool(d.B, data[uint64](src))
		case tensor.Bool:
			copy(d.B, src.B)
		}
	}
}

func convertInto[D number](d []D, src *tensor.Tensor) {
	switch src.DType {
	case tensor.Float32:
		convert(d, src.F32)
	case tensor.Float64:
		convert(d, src.F64)
	case tensor.Int64:
		convert(d, src.I64)
	case tensor.Int32:
		convert(d, src.I32)
	case tensor.Uint8:
		convert(d, src.U8)
	case tensor.Int8:
		convert(d, src.I8)
	case tensor.Int16:
		convert(d, data[int16](src))
	case tensor.Uint16:
		convert(d, data[uint16](src))
	case tensor.Uint32:
		convert(d, data[uint32](src))
	case tensor.Uint64:
		convert(d, data[uint64](src))
	case tensor.Bool:
		for i, v := range src.B {
			d[i] = 0
			if v {
				d[i] = 1
			}
		}
	}
}

func convert[D, S number](d []D, s []S) {
	for i, v := range s {
		d[i] = D(v)
	}
}

func toBool[S number](d []bool, s []S) {
	for i, v := range s {
		d[i] = v != 0
	}
}

// castAny is castInto for the dtypes without a field of their own, one
// element at a time: between integers (and bools) through int64, so that
// they wrap; otherwise through float64.
func castAny(d, src *tensor.Tensor) {
	n := src.Len()
	if isIntegral(d.DType) && isIntegral(src.DType) {
		for i := range n {
			d.SetInt64(i, src.Int64At(i))
		}
		return
	}
	if d.DType == tensor.Bool {
		for i := range n {
			d.B[i] = src.Float64At(i) != 0
		}
		return
	}
	if h := data[uint16](src); src.DType == tensor.Float16 && d.DType == tensor.Float32 {
		tensor.Float16ToFloat32(d.F32, h) // the common case, faster
		return
	}
	if ss := data[string](d); d.DType == tensor.String {
		for i := range ss {
			ss[i] = formatElem(src, i)
		}
		return
	}
	for i := range n {
		d.SetFloat64(i, src.Float64At(i))
	}
}

// formatElem formats element i of t as Cast to string does: integers in
// decimal, float64 and float32 as the shortest decimal that reads back to
// the same value of their size, the narrower floats as float32s.
func formatElem(t *tensor.Tensor, i int) string {
	switch {
	case t.DType == tensor.Bool:
		return strconv.FormatBool(t.B[i])
	case isIntegral(t.DType) && t.DType == tensor.Uint64:
		return strconv.FormatUint(data[uint64](t)[i], 10)
	case isIntegral(t.DType):
		return strconv.FormatInt(t.Int64At(i), 10)
	}
	v, bits := t.Float64At(i), 32
	if t.DType == tensor.Float64 {
		bits = 64
	}
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "INF"
	case math.IsInf(v, -1):
		return "-INF"
	}
	return strconv.FormatFloat(v, 'g', -1, bits)
}

// isIntegral reports whether dt holds integers or bools.
func isIntegral(dt tensor.DType) bool {
	k := dt.Kind()
	return k == tensor.KindSigned || k == tensor.KindUnsigned || k == tensor.KindBool
}

// castOp is Cast to any dtype of the tensor package. The target type is a
// TensorProto.DataType code from opset 6, its enum name (such as "FLOAT")
// in opset 1.
type castOp struct {
	n    *onnx.Node
	to   tensor.DType
	mode castMode
}

// castMode is how Cast rounds to the float8 types: saturate (opset 19) and
// round_mode (opset 25, float8e8m0 only).
type castMode struct {
	noSaturate bool
	round      tensor.RoundMode
}

// parseCastMode reads the saturate and round_mode attributes.
func parseCastMode(a *attrs) castMode {
	var m castMode
	switch s := a.int("saturate", 1); s {
	case 0:
		m.noSaturate = true
	case 1:
	default:
		a.fail("attribute \"saturate\": want 0 or 1, got %d", s)
	}
	switch r := a.string("round_mode", "up"); r {
	case "up":
	case "down":
		m.round = tensor.RoundDown
	case "nearest":
		m.round = tensor.RoundNearest
	default:
		a.fail("attribute \"round_mode\": want \"up\", \"down\" or \"nearest\", got %q", r)
	}
	return m
}

// castWith is castInto with Cast's float8 attributes.
func castWith(d, src *tensor.Tensor, m castMode) {
	float8 := d.DType.IsFloat() && d.DType.Storage() == tensor.Uint8
	if !float8 || m == (castMode{}) {
		castInto(d, src)
		return
	}
	b := data[uint8](d)
	for i := range b {
		v := src.Float64At(i)
		if d.DType == tensor.Float8E8M0 {
			b[i] = tensor.E8M0FromFloat64(v, !m.noSaturate, m.round)
		} else {
			b[i] = tensor.Float8FromFloat64(d.DType, v, !m.noSaturate)
		}
	}
}

func buildCast(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	if !a.has("to") {
		return nil, errorf(n, "attribute \"to\" is required")
	}
	if opset < 6 {
		name := a.string("to", "")
		if a.err != nil {
			return nil, a.err
		}
		dt := onnx.DTypeOfName(name)
		if dt == tensor.Invalid {
			return nil, errorf(n, "unsupported target type %q", name)
		}
		return &castOp{n: n, to: dt}, nil
	}
	to := a.int("to", 0)
	mode := parseCastMode(&a)
	if a.err != nil {
		return nil, a.err
	}
	dt := onnx.DTypeOf(int32(to))
	if dt == tensor.Invalid || int64(int32(to)) != to {
		return nil, errorf(n, "unsupported target type %d", to)
	}
	return &castOp{n: n, to: dt, mode: mode}, nil
}

func (o *castOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if x.DType == tensor.Invalid || x.DType.Size() == 0 {
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	out[0].Resize(o.to, x.Shape...)
	castWith(out[0], x, o.mode)
	return nil
}

// castLikeOp is CastLike (opsets 15-25): Cast to the element type of the
// second input.
type castLikeOp struct {
	n    *onnx.Node
	mode castMode
}

func buildCastLike(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	mode := parseCastMode(&a)
	if a.err != nil {
		return nil, a.err
	}
	return &castLikeOp{n, mode}, nil
}

func (o *castLikeOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, like := in[0], in[1]
	if x.DType == tensor.Invalid || x.DType.Size() == 0 {
		return errorf(o.n, "input \"input\": unsupported dtype %v", x.DType)
	}
	if like.DType == tensor.Invalid || like.DType.Size() == 0 {
		return errorf(o.n, "input \"target_type\": unsupported dtype %v", like.DType)
	}
	out[0].Resize(like.DType, x.Shape...)
	castWith(out[0], x, o.mode)
	return nil
}

// bitCastOp is BitCast (opset 26): the input's bit patterns read as
// another type of the same width.
type bitCastOp struct {
	n  *onnx.Node
	to tensor.DType
}

func buildBitCast(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	if !a.has("to") {
		return nil, errorf(n, "attribute \"to\" is required")
	}
	to := a.int("to", 0)
	if a.err != nil {
		return nil, a.err
	}
	dt := onnx.DTypeOf(int32(to))
	if dt == tensor.Invalid || int64(int32(to)) != to {
		return nil, errorf(n, "unsupported target type %d", to)
	}
	if dt == tensor.String {
		return nil, errorf(n, "attribute \"to\": BitCast to string")
	}
	return &bitCastOp{n, dt}, nil
}

func (o *bitCastOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if x.DType == tensor.String || x.DType.Bits() != o.to.Bits() {
		return errorf(o.n, "input is %v (%d bits), target %v has %d bits", x.DType, x.DType.Bits(), o.to, o.to.Bits())
	}
	d := out[0]
	d.Resize(o.to, x.Shape...)
	for i := range x.Len() {
		d.SetBits(i, x.BitsAt(i))
	}
	return nil
}

// variadicOp is Sum, Max, Min or Mean (floats only) (all versions: broadcasting from opset 8,
// which accepts everything opsets 1 and 6 do; opset 1's consumed_inputs has
// no effect).
type variadicOp struct {
	n    *onnx.Node
	kind variadicKind
}

type variadicKind uint8

const (
	opSum variadicKind = iota
	opMax
	opMin
	opMean
)

func buildVariadic(kind variadicKind) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		if len(n.Inputs) < 1 {
			return nil, errorf(n, "want at least 1 input")
		}
		if err := checkArity(n, len(n.Inputs), len(n.Inputs), 1); err != nil {
			return nil, err
		}
		return &variadicOp{n, kind}, nil
	}
}

func (o *variadicOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	shapes := make([][]int, len(in))
	for i, t := range in {
		if t.DType != in[0].DType {
			return errorf(o.n, "input dtypes differ: %v and %v", in[0].DType, t.DType)
		}
		shapes[i] = t.Shape
	}
	shape, err := broadcastShape(shapes...)
	if err != nil {
		return errorf(o.n, "%v", err)
	}
	if err := checkSize(o.n, shape); err != nil {
		return err
	}
	if o.kind == opMean && !isFloat(in[0].DType) {
		return errorf(o.n, "unsupported dtype %v", in[0].DType)
	}
	switch in[0].DType {
	case tensor.Float32:
		variadic[float32](o.kind, in, out[0], shape)
	case tensor.Float64:
		variadic[float64](o.kind, in, out[0], shape)
	case tensor.Int64:
		variadic[int64](o.kind, in, out[0], shape)
	case tensor.Int32:
		variadic[int32](o.kind, in, out[0], shape)
	case tensor.Uint8:
		variadic[uint8](o.kind, in, out[0], shape)
	case tensor.Int8:
		variadic[int8](o.kind, in, out[0], shape)
	case tensor.Int16:
		variadic[int16](o.kind, in, out[0], shape)
	case tensor.Uint16:
		variadic[uint16](o.kind, in, out[0], shape)
	case tensor.Uint32:
		variadic[uint32](o.kind, in, out[0], shape)
	case tensor.Uint64:
		variadic[uint64](o.kind, in, out[0], shape)
	default:
		return errorf(o.n, "unsupported dtype %v", in[0].DType)
	}
	return nil
}

func variadic[T number](kind variadicKind, in []*tensor.Tensor, d *tensor.Tensor, shape []int) {
	d.Resize(in[0].DType, shape...)
	dv := data[T](d)
	broadcastTo(dv, shape, data[T](in[0]), in[0].Shape)
	var k binKernel[T, T]
	switch kind {
	case opSum, opMean:
		k = addKernel[T]()
	case opMax:
		k = funcKernel(func(a, b T) T { return max(a, b) })
	case opMin:
		k = funcKernel(func(a, b T) T { return min(a, b) })
	}
	// The running result already has the output shape, so it is never the
	// broadcast side and can be updated in place.
	for _, t := range in[1:] {
		broadcastBinary(&k, dv, shape, dv, shape, data[T](t), t.Shape)
	}
	if kind == opMean {
		n := T(len(in))
		for i := range dv {
			dv[i] /= n
		}
	}
}

// compareOp is Equal, Less, Greater, LessOrEqual or GreaterOrEqual: a bool
// output with numpy broadcasting (from opset 7; Equal, Less and Greater have
// legacyBcast's broadcasting in opset 1).
type compareOp struct {
	n      *onnx.Node
	kind   compareKind
	legacy *legacyBcast // opset < 7
}

type compareKind uint8

const (
	opEqual compareKind = iota
	opLess
	opGreater
	opLessOrEqual
	opGreaterOrEqual
)

func buildCompare(kind compareKind) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		if err := checkArity(n, 2, 2, 1); err != nil {
			return nil, err
		}
		legacy, err := legacyBcastFor(n, opset)
		if err != nil {
			return nil, err
		}
		return &compareOp{n: n, kind: kind, legacy: legacy}, nil
	}
}

func (o *compareOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	a, b := in[0], in[1]
	if a.DType != b.DType {
		return errorf(o.n, "input dtypes differ: %v and %v", a.DType, b.DType)
	}
	var bbuf [8]int
	shape, bshape, err := binaryShapes(o.n, o.legacy, out[0], a, b, bbuf[:0])
	if err != nil {
		return err
	}
	d := out[0]
	switch a.DType {
	case tensor.Float32:
		compare[float32](o.kind, a, b, d, shape, bshape)
	case tensor.Float64:
		compare[float64](o.kind, a, b, d, shape, bshape)
	case tensor.Int64:
		compare[int64](o.kind, a, b, d, shape, bshape)
	case tensor.Int32:
		compare[int32](o.kind, a, b, d, shape, bshape)
	case tensor.Uint8:
		compare[uint8](o.kind, a, b, d, shape, bshape)
	case tensor.Int8:
		compare[int8](o.kind, a, b, d, shape, bshape)
	case tensor.Int16:
		compare[int16](o.kind, a, b, d, shape, bshape)
	case tensor.Uint16:
		compare[uint16](o.kind, a, b, d, shape, bshape)
	case tensor.Uint32:
		compare[uint32](o.kind, a, b, d, shape, bshape)
	case tensor.Uint64:
		compare[uint64](o.kind, a, b, d, shape, bshape)
	case tensor.Bool:
		if o.kind != opEqual {
			return errorf(o.n, "unsupported dtype %v", a.DType)
		}
		k := funcKernel(func(x, y bool) bool { return x == y })
		d.Resize(tensor.Bool, shape...)
		broadcastBinary(&k, d.B, shape, a.B, a.Shape, b.B, bshape)
	case tensor.String:
		if o.kind != opEqual {
			return errorf(o.n, "unsupported dtype %v", a.DType)
		}
		compare[string](o.kind, a, b, d, shape, bshape)
	default:
		return errorf(o.n, "unsupported dtype %v", a.DType)
	}
	return nil
}

func compare[T number | string](kind compareKind, a, b, d *tensor.Tensor, shape, bshape []int) {
	var k binKernel[T, bool]
	switch kind {
	case opEqual:
		k = funcKernel(func(x, y T) bool { return x == y })
	case opLess:
		k = funcKernel(func(x, y T) bool { return x < y })
	case opGreater:
		k = funcKernel(func(x, y T) bool { return x > y })
	case opLessOrEqual:
		k = funcKernel(func(x, y T) bool { return x <= y })
	case opGreaterOrEqual:
		k = funcKernel(func(x, y T) bool { return x >= y })
	}
	d.Resize(tensor.Bool, shape...)
	broadcastBinary(&k, d.B, shape, data[T](a), a.Shape, data[T](b), bshape)
}

// whereOp is Where (opset 9 and later): cond ? x : y with broadcasting.
type whereOp struct{ n *onnx.Node }

func buildWhere(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 3, 3, 1); err != nil {
		return nil, err
	}
	return &whereOp{n}, nil
}

func (o *whereOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	c, x, y := in[0], in[1], in[2]
	if c.DType != tensor.Bool {
		return errorf(o.n, "condition: want bool, got %v", c.DType)
	}
	if x.DType != y.DType {
		return errorf(o.n, "input dtypes differ: %v and %v", x.DType, y.DType)
	}
	shape, err := broadcastShapeInto(out[0].Shape[:0], c.Shape, x.Shape, y.Shape)
	if err != nil {
		return errorf(o.n, "%v", err)
	}
	if err := checkSize(o.n, shape); err != nil {
		return err
	}
	switch x.DType {
	case tensor.Float32:
		where[float32](c, x, y, out[0], shape)
	case tensor.Float64:
		where[float64](c, x, y, out[0], shape)
	case tensor.Int64:
		where[int64](c, x, y, out[0], shape)
	case tensor.Int32:
		where[int32](c, x, y, out[0], shape)
	case tensor.Uint8:
		where[uint8](c, x, y, out[0], shape)
	case tensor.Int8:
		where[int8](c, x, y, out[0], shape)
	case tensor.Int16:
		where[int16](c, x, y, out[0], shape)
	case tensor.Uint16:
		where[uint16](c, x, y, out[0], shape)
	case tensor.Uint32:
		where[uint32](c, x, y, out[0], shape)
	case tensor.Uint64:
		where[uint64](c, x, y, out[0], shape)
	case tensor.Bool:
		where[bool](c, x, y, out[0], shape)
	default:
		return errorf(o.n, "unsupported dtype %v", x.DType)
	}
	return nil
}

func where[T elem](c, x, y, d *tensor.Tensor, shape []int) {
	d.Resize(x.DType, shape...)
	dv, xv, yv := data[T](d), data[T](x), data[T](y)
	var p bcastPlan
	p.init(shape, c.Shape, x.Shape, y.Shape)
	p.each(func(off [planInputs]int, o int) {
		ci, xi, yi := off[0], off[1], off[2]
		for i := range p.inner {
			if c.B[ci] {
				dv[o+i] = xv[xi]
			} else {
				dv[o+i] = yv[yi]
			}
			ci += p.step[0]
			xi += p.step[1]
			yi += p.step[2]
		}
	})
}
