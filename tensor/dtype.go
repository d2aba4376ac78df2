package tensor

import (
	"fmt"
	"math"
	"strconv"
)

// DType is an element type.
type DType uint8

// The element types a Tensor can hold. Float16 and BFloat16 hold their IEEE
// bit patterns in a []uint16, the float8 types and Float4E2M1 theirs in a
// []uint8; Uint4 and Uint2 hold one value per uint8, Int4 and Int2 one per
// int8 (ONNX files pack them); String holds a []string.
const (
	Invalid DType = iota
	Float32
	Float64
	Int64
	Int32
	Uint8
	Int8
	Bool
	Float16
	BFloat16
	Int16
	Uint16
	Uint32
	Uint64
	String
	Float8E4M3FN
	Float8E4M3FNUZ
	Float8E5M2
	Float8E5M2FNUZ
	Uint4
	Int4
	Float4E2M1
	Float8E8M0
	Uint2
	Int2
	numDTypes
)

// dtypeInfo is one row of the element type table.
type dtypeInfo struct {
	name string
	onnx int32   // TensorProto.DataType code
	size int     // bytes per element (a string's header for String)
	kind Kind    // what arithmetic the values have
	st   storage // the typed slice behind the dtype
	bits int     // bits per element in an ONNX file, when fewer than 8*size
}

// dtypes is the table of element types: adding one is a row here, plus
// kernels only where it needs arithmetic of its own.
var dtypes = [numDTypes]dtypeInfo{
	Invalid:  {name: "invalid"},
	Float32:  row("float32", 1, 4, KindFloat, store[float32]{from: func(v float64) float32 { return float32(v) }, to: func(v float32) float64 { return float64(v) }}),
	Float64:  row("float64", 11, 8, KindFloat, store[float64]{from: func(v float64) float64 { return v }, to: func(v float64) float64 { return v }}),
	Int64:    row("int64", 7, 8, KindSigned, intStore[int64]()),
	Int32:    row("int32", 6, 4, KindSigned, intStore[int32]()),
	Uint8:    row("uint8", 2, 1, KindUnsigned, intStore[uint8]()),
	Int8:     row("int8", 3, 1, KindSigned, intStore[int8]()),
	Bool:     row("bool", 9, 1, KindBool, store[bool]{from: func(v float64) bool { return v != 0 }, to: boolFloat}),
	Float16:  row("float16", 10, 2, KindFloat, store[uint16]{from: Float16FromFloat64, to: Float16ToFloat64}),
	BFloat16: row("bfloat16", 16, 2, KindFloat, store[uint16]{from: BFloat16FromFloat64, to: BFloat16ToFloat64}),
	Int16:    row("int16", 5, 2, KindSigned, intStore[int16]()),
	Uint16:   row("uint16", 4, 2, KindUnsigned, intStore[uint16]()),
	Uint32:   row("uint32", 12, 4, KindUnsigned, intStore[uint32]()),
	Uint64:   row("uint64", 13, 8, KindUnsigned, store[uint64]{from: func(v float64) uint64 { return uint64(v) }, to: func(v uint64) float64 { return float64(v) }}),
	String:   row("string", 8, 16, KindString, store[string]{from: formatFloat, to: parseFloat}),

	Float8E4M3FN:   miniEntry("float8e4m3fn", 17, Float8E4M3FN, 8),
	Float8E4M3FNUZ: miniEntry("float8e4m3fnuz", 18, Float8E4M3FNUZ, 8),
	Float8E5M2:     miniEntry("float8e5m2", 19, Float8E5M2, 8),
	Float8E5M2FNUZ: miniEntry("float8e5m2fnuz", 20, Float8E5M2FNUZ, 8),
	Float4E2M1:     miniEntry("float4e2m1", 23, Float4E2M1, 4),
	Float8E8M0: {"float8e8m0", 24, 1, KindFloat, store[uint8]{
		from: func(v float64) uint8 { return E8M0FromFloat64(v, true, RoundUp) }, to: E8M0ToFloat64}, 8},
	Uint4: smallInt[uint8]("uint4", 21, KindUnsigned, 4),
	Int4:  smallInt[int8]("int4", 22, KindSigned, 4),
	Uint2: smallInt[uint8]("uint2", 25, KindUnsigned, 2),
	Int2:  smallInt[int8]("int2", 26, KindSigned, 2),
}

// row is a table row of a type of 8 bits or more that Cast does not
// saturate.
func row(name string, code int32, size int, kind Kind, st storage) dtypeInfo {
	return dtypeInfo{name: name, onnx: code, size: size, kind: kind, st: st}
}

// miniEntry is the table row of a float8 or float4 type: bits in a uint8,
// Cast's saturating conversion.
func miniEntry(name string, code int32, dt DType, bits int) dtypeInfo {
	return dtypeInfo{name, code, 1, KindFloat, store[uint8]{
		from: func(v float64) uint8 { return Float8FromFloat64(dt, v, true) },
		to:   func(b uint8) float64 { return Float8ToFloat64(dt, b) },
	}, bits}
}

// smallInt is the table row of a 4- or 2-bit integer type, one value per
// byte in memory; Cast wraps values to the width, as for the wider ones.
func smallInt[T int8 | uint8](name string, code int32, kind Kind, bits int) dtypeInfo {
	signed := kind == KindSigned
	return dtypeInfo{name, code, 1, kind, store[T]{
		from: func(v float64) T { return T(wrapBits(int64(v), bits, signed)) },
		to:   func(v T) float64 { return float64(v) },
	}, bits}
}

// wrapBits keeps the low bits of v, sign-extended when signed.
func wrapBits(v int64, bits int, signed bool) int64 {
	v &= 1<<bits - 1
	if signed && v >= 1<<(bits-1) {
		v -= 1 << bits
	}
	return v
}

// Kind groups element types by the arithmetic their values have.
type Kind uint8

// The kinds of element type.
const (
	KindNone     Kind = iota
	KindFloat         // IEEE floating point, stored natively or as bits
	KindSigned        // two's-complement integers
	KindUnsigned      // unsigned integers
	KindBool          // false and true
	KindString        // UTF-8 strings
)

// DTypes lists every valid element type, in table order.
func DTypes() []DType {
	ds := make([]DType, 0, numDTypes-1)
	for d := Invalid + 1; d < numDTypes; d++ {
		ds = append(ds, d)
	}
	return ds
}

func (d DType) info() *dtypeInfo {
	if d < numDTypes {
		return &dtypes[d]
	}
	return &dtypes[Invalid]
}

// String returns the dtype's name, such as "float32".
func (d DType) String() string {
	if d < numDTypes {
		return dtypes[d].name
	}
	return fmt.Sprintf("dtype(%d)", d)
}

// Size is the size of one element in bytes (0 for Invalid).
func (d DType) Size() int { return d.info().size }

// Kind is the dtype's kind of values.
func (d DType) Kind() Kind { return d.info().kind }

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool { return d.Kind() == KindFloat }

// Bits is the size of one element in an ONNX file, in bits: 4 and 2 for
// the packed types, else 8*Size.
func (d DType) Bits() int {
	if b := d.info().bits; b != 0 {
		return b
	}
	return 8 * d.Size()
}

// Storage is the integer dtype held in the same Go type as d: Uint16 for
// Float16 and BFloat16, Uint8 for the float8, float4, uint4 and uint2
// types, Int8 for int4 and int2, else d itself. Code that only moves
// elements switches on it.
func (d DType) Storage() DType {
	if d < numDTypes {
		return storageOf[d]
	}
	return Invalid
}

// storageOf is Storage, computed from the table.
var storageOf = func() (s [numDTypes]DType) {
	for d := Invalid + 1; d < numDTypes; d++ {
		s[d] = d
		p := dtypes[d].st.newPtr()
		for e := Invalid + 1; e < numDTypes; e++ {
			if dtypes[e].kind != KindFloat && dtypes[e].st.holds(p) {
				s[d] = e
				break
			}
		}
	}
	return s
}()

// ONNXCode is the dtype's TensorProto.DataType code (0 for Invalid). The
// onnx package's DTypeOf and ElemTypeOf are the mapping to use.
func (d DType) ONNXCode() int32 { return d.info().onnx }

func boolFloat(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// formatFloat formats v as Cast to string does: the shortest decimal that
// reads back as the same float32.
func formatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "INF"
	case math.IsInf(v, -1):
		return "-INF"
	}
	return strconv.FormatFloat(v, 'g', -1, 32)
}

// parseFloat reads a string as Cast from string does; text that is not a
// number reads as NaN.
func parseFloat(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && v == 0 {
		return math.NaN()
	}
	return v
}
