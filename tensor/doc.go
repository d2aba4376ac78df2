// Package tensor holds the n-dimensional array shared by the onnx, infer and
// train packages.
//
// A Tensor is a dtype, a shape and one typed slice holding its elements in
// row-major order. Exactly one of the data slices matches the dtype; the
// others are nil. Fields are exported so that kernels can work on the slices
// directly.
package tensor
