package infer

import "math"

// opVersion is one entry of the registry: the builder for versions
// [since, until] of an op (until 0: no upper bound, i.e. the newest version).
type opVersion struct {
	since, until int64
	build        builder
}

// registry maps an op type of the default ONNX domain to its implementations
// by opset version. An op version listed here is fully implemented: every
// attribute and input of that version.
var registry = map[string][]opVersion{
	// Neural-network ops (conv.go, convtranspose.go, pool.go, gemm.go, norm.go, pad.go, resize.go).
	"AveragePool":        {{1, 0, buildAveragePool}},
	"BatchNormalization": {{1, 0, buildBatchNorm}},
	"Conv":               {{1, 0, buildConv}},
	"ConvTranspose":      {{1, 0, buildConvTranspose}},
	"Gemm":               {{1, 0, buildGemm}},
	"GlobalAveragePool":  {{1, 0, buildGlobalAveragePool}},
	"GlobalMaxPool":      {{1, 0, buildGlobalMaxPool}},
	"LRN":                {{1, 0, buildLRN}},
	"MatMul":             {{1, 0, buildMatMul}},
	"MaxPool":            {{1, 0, buildMaxPool}},
	"Pad":                {{1, 0, buildPad}},
	"Resize":             {{10, 0, buildResize}},
	"Upsample":           {{7, 9, buildUpsample}},

	// Quantization ops (quant.go).
	"QuantizeLinear":        {{10, 0, buildQuantizeLinear}},
	"DequantizeLinear":      {{10, 0, buildDequantizeLinear}},
	"DynamicQuantizeLinear": {{11, 0, buildDynamicQuantizeLinear}},
	"QLinearMatMul":         {{10, 0, buildQLinearMatMul}},
	"MatMulInteger":         {{10, 0, buildMatMulInteger}},
	"QLinearConv":           {{10, 0, buildQLinearConv}},
	"ConvInteger":           {{10, 0, buildConvInteger}},

	// Recurrent ops (rnn.go).
	"GRU":  {{7, 0, buildGRU}},
	"LSTM": {{7, 0, buildLSTM}},
	"RNN":  {{7, 0, buildRNN}},

	// Elementwise, activation and shape ops (elementwise.go, activation.go, shape.go).
	"Add":             {{1, 0, buildArith(opAdd)}},
	"Sub":             {{1, 0, buildArith(opSub)}},
	"Mul":             {{1, 0, buildArith(opMul)}},
	"Div":             {{1, 0, buildArith(opDiv)}},
	"Pow":             {{1, 0, buildPow}},
	"Sum":             {{1, 0, buildVariadic(opSum)}},
	"Max":             {{1, 0, buildVariadic(opMax)}},
	"Min":             {{1, 0, buildVariadic(opMin)}},
	"Equal":           {{1, 0, buildCompare(opEqual)}},
	"Less":            {{1, 0, buildCompare(opLess)}},
	"Greater":         {{1, 0, buildCompare(opGreater)}},
	"LessOrEqual":     {{12, 0, buildCompare(opLessOrEqual)}},
	"GreaterOrEqual":  {{12, 0, buildCompare(opGreaterOrEqual)}},
	"Where":           {{9, 0, buildWhere}},
	"Cast":            {{1, 0, buildCast}},
	"ReduceSum":       {{1, 0, buildReduce(false, 13)}},
	"ReduceMean":      {{1, 0, buildReduce(true, 18)}},
	"Relu":            {{1, 0, buildRelu}},
	"LeakyRelu":       {{1, 0, buildLeakyRelu}},
	"Tanh":            {{1, 0, buildTanh}},
	"Sigmoid":         {{1, 0, buildUnary(sigmoid, nil)}},
	"Exp":             {{1, 0, buildUnary(math.Exp, nil)}},
	"Log":             {{1, 0, buildUnary(math.Log, nil)}},
	"Sqrt":            {{1, 0, buildUnary(math.Sqrt, nil)}},
	"Erf":             {{9, 0, buildUnary(math.Erf, nil)}},
	"Neg":             {{1, 0, buildUnary(neg, negInt)}},
	"Abs":             {{1, 0, buildUnary(math.Abs, absInt)}},
	"Clip":            {{1, 0, buildClip}},
	"Softmax":         {{1, 0, buildSoftmax(false)}},
	"LogSoftmax":      {{1, 0, buildSoftmax(true)}},
	"Identity":        {{1, 0, buildIdentity}},
	"Dropout":         {{1, 0, buildDropout}},
	"Constant":        {{1, 0, buildConstant}},
	"ConstantOfShape": {{9, 0, buildConstantOfShape}},
	"Shape":           {{1, 0, buildShape}},
	"Flatten":         {{1, 0, buildFlatten}},
	"Reshape":         {{1, 0, buildReshape}},
	"Squeeze":         {{1, 0, buildSqueeze(false)}},
	"Unsqueeze":       {{1, 0, buildSqueeze(true)}},
	"Transpose":       {{1, 0, buildTranspose}},
	"Gather":          {{1, 0, buildGather}},
	"Concat":          {{1, 0, buildConcat}},
	"Slice":           {{1, 0, buildSlice}},
	"Expand":          {{8, 0, buildExpand}},
	"Range":           {{11, 0, buildRange}},
}
