// Package infer runs ONNX models: a Session loads an onnx.Model, checks it,
// builds every node's op once (attributes parsed at load) and plans the
// execution order; Run and RunInto then compute the graph outputs from the
// inputs as many times as needed, from any number of goroutines.
//
//	s, err := infer.Load("lenet5.onnx")
//	...
//	out, err := s.Run(map[string]*tensor.Tensor{"input": x})
//	logits := out["logits"]
//
// RunInto writes into caller-owned output tensors instead and, once they
// and the session's internal buffers have grown to size, makes no heap
// allocations per call.
//
// # Supported models
//
// Ops come from one registry (registry.go) keyed by op type and opset
// version of the default ONNX domain; Ops lists it. A model using any other
// op, version or domain fails to load with an *UnsupportedOpsError that
// lists every such node at once. The neural-network ops are Conv,
// AveragePool, MaxPool, GlobalAveragePool, GlobalMaxPool, Pad, Gemm, MatMul
// and BatchNormalization (inference mode); their doc comments give the
// versions and element types. Conv, Gemm and MatMul compute with
// internal/kernel's Sgemm. The other families have a file each:
// activation.go (Relu, Gelu, HardSwish, Softmax, ...), math.go (unary math,
// logical and integer ops), elementwise.go (broadcasting arithmetic,
// comparisons, Cast), reduce.go (the Reduce ops and CumSum), norm.go
// (BatchNormalization, LayerNormalization, InstanceNormalization,
// GroupNormalization, MeanVarianceNormalization), strings.go (StringConcat,
// StringSplit, StringNormalizer, RegexFullMatch) and shape.go.
//
// # Element types
//
// Ops take every element type of the tensor package that their spec
// allows and that has arithmetic of its own (float32, float64, the
// integers, bool, strings where ops compare or move them). float16 and
// bfloat16 are computed as onnxruntime computes them: narrow.go widens a
// node's float16 and bfloat16 inputs to float32 (constants once, at load),
// runs the float32 kernel and rounds its float outputs back to nearest
// even; only the ops that move elements, Cast and EyeLike take them as
// they are. The float8, float4, 4- and 2-bit types go through Cast,
// CastLike, QuantizeLinear, DequantizeLinear and the ops that move
// elements.
//
// The recurrent ops LSTM, GRU and RNN (float32) project a whole sequence
// through W with one Sgemm per direction, then multiply the state by R once
// per step (rnn.go). ConvTranspose (a product with Sgemm, then col2im),
// Resize and Upsample (nearest, n-linear and n-cubic interpolation) serve
// the decoders of generative and segmentation models (convtranspose.go,
// resize.go).
//
// Index and layout ops, over every element type the tensor package has
// where the spec allows it, are grouped by family: index.go (ArgMax, ArgMin,
// TopK, GatherElements, GatherND, ScatterElements, ScatterND, Scatter),
// layout.go (Split, Tile, DepthToSpace, SpaceToDepth, Trilu, EyeLike, Size,
// Compress, ReverseSequence, OneHot, NonZero), select.go (CenterCropPad,
// TensorScatter, Unique, NonMaxSuppression) and einsum.go (Einsum, with
// Sgemm for float32 contractions). Negative indices count from the end; an
// index out of range is an error naming the node.
//
// # Speed
//
// At load a Session rewrites the plan without changing what it computes:
// Pads that pad nothing are dropped, an elementwise activation (Relu, Tanh,
// HardSwish, Gelu, ...) that alone reads a Conv's or Gemm's output is
// applied by that node while its output is in cache, and constant weights
// are packed once for the matrix kernel. A
// stride-1 convolution lays its im2col matrix out wide (one contiguous run
// of the input per row) and multiplies several samples at once.
//
// Results do not depend on the batch size: a sample's outputs are the same
// bit for bit whether it runs alone or in a batch, for the ops that
// PyTorch's exports of the tutorial's models use (serve relies on this to
// batch requests).
//
// # Errors and untrusted models
//
// NewSession, Run and RunInto are safe on untrusted models and inputs: an
// error names the node involved (`node "/conv1/Conv" (Conv): ...`) or the
// graph input (`infer: input "input": want float32[N x 1 x 28 x 28], got
// float32[1x28x28]`), a panic inside an op is returned as an error naming
// its node, and output sizes derived from attribute or input values (pads,
// strides) are bounded before anything is allocated. Symbolic dimensions
// of graph inputs (a batch size N) accept any size.
package infer
