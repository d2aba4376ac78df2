package onnx

import (
	"strconv"

	"github.com/onnxkit/onnxkit/tensor"
)

// Element type codes of TensorProto.DataType that have a tensor.DType.
const (
	elemFloat  = 1
	elemUint8  = 2
	elemInt8   = 3
	elemInt32  = 6
	elemInt64  = 7
	elemBool   = 9
	elemDouble = 11
)

// elemTypeNames are the names of the TensorProto.DataType codes, lower case.
var elemTypeNames = [...]string{
	0: "undefined", 1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16",
	6: "int32", 7: "int64", 8: "string", 9: "bool", 10: "float16", 11: "float64",
	12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128", 16: "bfloat16",
	17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz",
	21: "uint4", 22: "int4", 23: "float4e2m1", 24: "float8e8m0", 25: "uint2", 26: "int2",
}

// DTypeOf returns the tensor.DType of a TensorProto.DataType code (the
// elem_type of a value, the "to" attribute of Cast), or tensor.Invalid when
// the code is unknown or has no tensor.DType.
func DTypeOf(elemType int32) tensor.DType {
	switch elemType {
	case elemFloat:
		return tensor.Float32
	case elemDouble:
		return tensor.Float64
	case elemInt64:
		return tensor.Int64
	case elemInt32:
		return tensor.Int32
	case elemUint8:
		return tensor.Uint8
	case elemInt8:
		return tensor.Int8
	case elemBool:
		return tensor.Bool
	}
	return tensor.Invalid
}

// ElemTypeOf returns the TensorProto.DataType code of a tensor.DType, or 0
// (UNDEFINED) for tensor.Invalid and unknown values.
func ElemTypeOf(dt tensor.DType) int32 {
	switch dt {
	case tensor.Float32:
		return elemFloat
	case tensor.Float64:
		return elemDouble
	case tensor.Int64:
		return elemInt64
	case tensor.Int32:
		return elemInt32
	case tensor.Uint8:
		return elemUint8
	case tensor.Int8:
		return elemInt8
	case tensor.Bool:
		return elemBool
	}
	return 0
}

// ElemTypeName returns a lower-case name for a TensorProto.DataType code,
// such as "float16" or "bfloat16", and "elemtype(N)" for unknown codes.
func ElemTypeName(elemType int32) string {
	if elemType >= 0 && int(elemType) < len(elemTypeNames) {
		return elemTypeNames[elemType]
	}
	return "elemtype(" + strconv.Itoa(int(elemType)) + ")"
}
