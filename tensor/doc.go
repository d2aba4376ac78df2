// Package tensor holds the n-dimensional array shared by the onnx, infer and
// train packages.
//
// A Tensor is a dtype, a shape and one typed slice holding its elements in
// row-major order. The seven original dtypes (float32, float64, int64,
// int32, uint8, int8, bool) have an exported slice field each, so that
// kernels work on the slices directly; every dtype's slice, theirs
// included, is reached with Data[T] and wrapped with Wrap. The table of
// element types in dtype.go (ONNX code, name, size, kind, Go storage type,
// conversion to and from float64) is the one place a dtype is described:
// float16 and bfloat16 hold IEEE bits in uint16s (float16.go), the float8
// and float4 types bits in uint8s (float8.go), the 4- and 2-bit integers one
// value per byte.
package tensor
