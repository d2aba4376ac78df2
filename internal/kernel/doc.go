// Package kernel holds the hot numeric kernels shared by infer and train:
// matrix multiply, convolution helpers, pooling and activations. Each kernel
// with a SIMD path also has a plain Go path, and the two are tested against
// each other.
package kernel
