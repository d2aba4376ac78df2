// Package onnx reads and writes the ONNX file format: models, tensors and the
// test-data .pb files of the ONNX test layout, plus a structural check in the
// spirit of onnx.checker. It knows nothing about running or training models.
package onnx
