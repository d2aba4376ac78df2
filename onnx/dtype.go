package onnx

import (
	"strconv"
	"strings"

	"github.com/onnxkit/onnxkit/internal/onnxpb"
	"github.com/onnxkit/onnxkit/tensor"
)

// elemTypeNames are the names of the TensorProto.DataType codes, lower case.
var elemTypeNames = [...]string{
	0: "undefined", 1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16",
	6: "int32", 7: "int64", 8: "string", 9: "bool", 10: "float16", 11: "float64",
	12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128", 16: "bfloat16",
	17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz",
	21: "uint4", 22: "int4", 23: "float4e2m1", 24: "float8e8m0", 25: "uint2", 26: "int2",
}

// byCode maps a TensorProto.DataType code to its tensor.DType, from the
// codes in tensor's table of element types.
var byCode = func() map[int32]tensor.DType {
	m := make(map[int32]tensor.DType)
	for _, dt := range tensor.DTypes() {
		m[dt.ONNXCode()] = dt
	}
	return m
}()

// DTypeOf returns the tensor.DType of a TensorProto.DataType code (the
// elem_type of a value, the "to" attribute of Cast), or tensor.Invalid when
// the code is unknown or has no tensor.DType.
func DTypeOf(elemType int32) tensor.DType { return byCode[elemType] }

// DTypeOfName returns the tensor.DType of a TensorProto.DataType enum name
// such as "FLOAT" or "FLOAT16" (how Cast-1 spells its target), or
// tensor.Invalid.
func DTypeOfName(name string) tensor.DType {
	code, ok := onnxpb.TensorProto_DataType_value[strings.ToUpper(name)]
	if !ok {
		return tensor.Invalid
	}
	return DTypeOf(code)
}

// ElemTypeOf returns the TensorProto.DataType code of a tensor.DType, or 0
// (UNDEFINED) for tensor.Invalid and unknown values.
func ElemTypeOf(dt tensor.DType) int32 { return dt.ONNXCode() }

// ElemTypeName returns a lower-case name for a TensorProto.DataType code,
// such as "float16" or "bfloat16", and "elemtype(N)" for unknown codes.
func ElemTypeName(elemType int32) string {
	if elemType >= 0 && int(elemType) < len(elemTypeNames) {
		return elemTypeNames[elemType]
	}
	return "elemtype(" + strconv.Itoa(int(elemType)) + ")"
}
