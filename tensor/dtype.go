package tensor

import (
	"fmt"
	"math"
	"strconv"
)

// DType is an element type.
type DType uint8

// The element types a Tensor can hold. Float16 and BFloat16 hold their IEEE
// bit patterns in a []uint16; String holds a []string.
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
	numDTypes
)

// dtypeInfo is one row of the element type table.
type dtypeInfo struct {
	name string
	onnx int32   // TensorProto.DataType code
	size int     // bytes per element (a string's header for String)
	kind Kind    // what arithmetic the values have
	st   storage // the typed slice behind the dtype
}

// dtypes is the table of element types: adding one is a row here, plus
// kernels only where it needs arithmetic of its own.
var dtypes = [numDTypes]dtypeInfo{
	Invalid:  {name: "invalid"},
	Float32:  {"float32", 1, 4, KindFloat, store[float32]{from: func(v float64) float32 { return float32(v) }, to: func(v float32) float64 { return float64(v) }}},
	Float64:  {"float64", 11, 8, KindFloat, store[float64]{from: func(v float64) float64 { return v }, to: func(v float64) float64 { return v }}},
	Int64:    {"int64", 7, 8, KindSigned, intStore[int64]()},
	Int32:    {"int32", 6, 4, KindSigned, intStore[int32]()},
	Uint8:    {"uint8", 2, 1, KindUnsigned, intStore[uint8]()},
	Int8:     {"int8", 3, 1, KindSigned, intStore[int8]()},
	Bool:     {"bool", 9, 1, KindBool, store[bool]{from: func(v float64) bool { return v != 0 }, to: boolFloat}},
	Float16:  {"float16", 10, 2, KindFloat, store[uint16]{from: Float16FromFloat64, to: Float16ToFloat64}},
	BFloat16: {"bfloat16", 16, 2, KindFloat, store[uint16]{from: BFloat16FromFloat64, to: BFloat16ToFloat64}},
	Int16:    {"int16", 5, 2, KindSigned, intStore[int16]()},
	Uint16:   {"uint16", 4, 2, KindUnsigned, intStore[uint16]()},
	Uint32:   {"uint32", 12, 4, KindUnsigned, intStore[uint32]()},
	Uint64:   {"uint64", 13, 8, KindUnsigned, store[uint64]{from: func(v float64) uint64 { return uint64(v) }, to: func(v uint64) float64 { return float64(v) }}},
	String:   {"string", 8, 16, KindString, store[string]{from: formatFloat, to: parseFloat}},
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
