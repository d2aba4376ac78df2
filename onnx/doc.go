// Package onnx reads and writes the ONNX file format: models, tensors and the
// test-data .pb files of the ONNX test layout, plus a structural check in the
// spirit of onnx.checker. It knows nothing about running or training models.
//
// Decode and ReadFile turn a .onnx file into a Model of plain Go values
// (graphs, nodes, attributes, initializers as *tensor.Tensor); Encode and
// WriteFile turn one back. DecodeTensor, EncodeTensor, ReadTensorFile and
// WriteTensorFile do the same for a single TensorProto, and LoadTestCase
// reads a model.onnx + test_data_set_N folder. Check verifies a model's
// structure: opset imports, topological order, single assignment, graph
// outputs, initializer shapes.
//
// # Untrusted input
//
// Decode, ReadFile, DecodeTensor, ReadTensorFile and LoadTestCase are safe on
// untrusted input: they do not panic, every declared size (tensor dims,
// element counts) is checked against the data actually present before
// anything is allocated, and DecodeOptions caps the size of any one tensor
// and the nesting of subgraphs. Check is safe on any Model, including one
// with nil fields.
//
// # Errors
//
// As in image/png there are two kinds of error. A *FormatError reports
// input that is not valid ONNX: a malformed protobuf, a tensor whose data
// does not match its dims, a node reading a value that is never produced.
// An *UnsupportedError reports valid ONNX that onnxkit cannot represent:
// element types without a tensor.DType (complex64, complex128), tensor data
// in external files, sparse tensors, type attributes. Both name the thing at
// fault, like
//
//	onnx: model.onnx: invalid format: node "/conv1/Conv" (Conv): input "x" is not produced before use
//	onnx: unsupported: initializer "W": external data (location "weights.bin")
//
// Truncated input gives a *FormatError that wraps io.ErrUnexpectedEOF.
//
// # What is kept
//
// Everything in the Model types round-trips. Encode also writes back
// training_info and non-tensor value types (sequences, maps, optionals)
// unchanged. It drops what the types do not hold: metadata_props of graphs,
// nodes and values, node overloads, dimension denotations, quantization
// annotations and unknown fields. Tensors are always written with raw_data,
// little-endian; the domain "ai.onnx" is read as "".
package onnx
