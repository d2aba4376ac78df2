// Package convert rewrites ONNX models without changing what they compute:
// between opset versions of the default domain (7 to 21, both ways), and for
// runtimes that lack some operators (Target).
//
// Convert works on an onnx.Model and returns a new one; the input is not
// modified. A model it cannot rewrite is refused with an *Error that names
// every offending node. Convert does not run models: the tests check each
// rewrite by running the original and the converted model in infer.
//
// # Opset conversion
//
// Each operator's versions come from the spec (versions.go, generated from
// Operators.md). A node is stepped across every version boundary of its
// operator between the source and the target opset by the adapter of that
// boundary (adapters.go): attributes that became inputs and back (Reshape,
// Pad, Clip, Split, Squeeze, Unsqueeze, Slice, ReduceX axes, Dropout ratio,
// Upsample scales), attributes added or removed (checked against their
// defaults), negative axes, and Softmax's change of meaning at 13 (a
// Flatten and a Reshape are inserted). A boundary without an adapter, an
// operator that does not exist at the target opset, or an input that must
// become an attribute but is not a constant is refused.
//
// Only the default domain is converted, and nodes with subgraphs (If, Loop,
// Scan) are refused. Where a boundary added element types the known types
// are checked (Equal on floats before 11, Relu on integers before 14, ...);
// types Convert cannot see (float16, bfloat16, values whose type is not
// declared or inferred) are not.
//
// # Targets
//
// The targets table (target.go) says, for each runtime, the newest opset it
// runs, the lowerings it needs and what it refuses. For onnx-go (v0.5.0 with
// its Gorgonia backend): opset 11, a zero Pad folded into the next Conv or
// AveragePool, AveragePool as a Conv with a block-diagonal constant kernel,
// a Reshape with 0 or -1 made static (or a Flatten), a zero C for Gemm.
//
// Convert is safe on untrusted models: it does not panic, and the only
// allocation sized from the file (the AveragePool kernel) is bounded.
package convert

//go:generate go run gen_versions.go -spec ../../shared/onnx-spec/Operators.md
