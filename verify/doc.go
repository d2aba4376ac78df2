// Package verify runs ONNX test cases (model.onnx plus test_data_set_N
// folders of input_i.pb and expected output_i.pb) through infer and compares
// the outputs with a tolerance. It backs "onnxkit verify" and the
// conformance tests.
package verify
