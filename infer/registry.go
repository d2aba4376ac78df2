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
	"Attention":          {{23, 0, buildAttention}},
	"RotaryEmbedding":    {{23, 0, buildRotaryEmbedding}},
	"GridSample":         {{16, 0, buildGridSample}},
	"LpPool":             {{1, 0, buildLpPool}},
	"MaxUnpool":          {{9, 0, buildMaxUnpool}},
	"Col2Im":             {{18, 0, buildCol2Im}},

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

	"LayerNormalization":        {{17, 0, buildLayerNorm}},
	"RMSNormalization":          {{23, 0, buildRMSNorm}},
	"LpNormalization":           {{1, 0, buildLpNorm}},
	"InstanceNormalization":     {{1, 0, buildInstanceNorm}},
	"GroupNormalization":        {{18, 0, buildGroupNorm}},
	"MeanVarianceNormalization": {{9, 0, buildMVN}},

	// Losses (loss.go).
	"NegativeLogLikelihoodLoss": {{12, 0, buildLoss(false)}},
	"SoftmaxCrossEntropyLoss":   {{12, 0, buildLoss(true)}},

	// Elementwise, activation and shape ops (elementwise.go, activation.go, shape.go).
	"Add":            {{1, 0, buildArith(opAdd)}},
	"Sub":            {{1, 0, buildArith(opSub)}},
	"Mul":            {{1, 0, buildArith(opMul)}},
	"Div":            {{1, 0, buildArith(opDiv)}},
	"Pow":            {{1, 0, buildPow}},
	"Sum":            {{1, 0, buildVariadic(opSum)}},
	"Max":            {{1, 0, buildVariadic(opMax)}},
	"Min":            {{1, 0, buildVariadic(opMin)}},
	"Equal":          {{1, 0, buildCompare(opEqual)}},
	"Less":           {{1, 0, buildCompare(opLess)}},
	"Greater":        {{1, 0, buildCompare(opGreater)}},
	"LessOrEqual":    {{12, 0, buildCompare(opLessOrEqual)}},
	"GreaterOrEqual": {{12, 0, buildCompare(opGreaterOrEqual)}},
	"Where":          {{9, 0, buildWhere}},
	"Cast":           {{1, 0, buildCast}},
	"CastLike":       {{15, 0, buildCastLike}},
	"BitCast":        {{26, 0, buildBitCast}},

	// String ops (strings.go).
	"StringConcat":     {{20, 0, buildStringConcat}},
	"RegexFullMatch":   {{20, 0, buildRegexFullMatch}},
	"StringSplit":      {{20, 0, buildStringSplit}},
	"StringNormalizer": {{10, 0, buildStringNormalizer}},
	"Relu":             {{1, 0, buildRelu}},
	"LeakyRelu":        {{1, 0, buildLeakyRelu}},
	"Tanh":             {{1, 0, buildTanh}},
	"Sigmoid":          {{1, 0, buildSigmoid}},
	"Exp":              {{1, 0, buildUnary(math.Exp, nil)}},
	"Log":              {{1, 0, buildUnary(math.Log, nil)}},
	"Sqrt":             {{1, 0, buildUnary(math.Sqrt, nil)}},
	"Erf":              {{9, 0, buildErf}},
	"Neg":              {{1, 0, buildUnary(neg, negInt)}},
	"Abs":              {{1, 0, buildUnary(math.Abs, absInt)}},
	"Clip":             {{1, 0, buildClip}},
	"Softmax":          {{1, 0, buildSoftmax(opSoftmax)}},
	"LogSoftmax":       {{1, 0, buildSoftmax(opLogSoftmax)}},
	"Identity":         {{1, 0, buildIdentity}},
	"Dropout":          {{1, 0, buildDropout}},
	"Constant":         {{1, 0, buildConstant}},
	"ConstantOfShape":  {{9, 0, buildConstantOfShape}},
	"Shape":            {{1, 0, buildShape}},
	"Flatten":          {{1, 0, buildFlatten}},
	"Reshape":          {{1, 0, buildReshape}},
	"Squeeze":          {{1, 0, buildSqueeze(false)}},
	"Unsqueeze":        {{1, 0, buildSqueeze(true)}},
	"Transpose":        {{1, 0, buildTranspose}},
	"Gather":           {{1, 0, buildGather}},
	"Concat":           {{1, 0, buildConcat}},
	"Slice":            {{1, 0, buildSlice}},
	"Expand":           {{8, 0, buildExpand}},
	"Range":            {{11, 0, buildRange}},

	// Activations (activation.go).
	"HardSigmoid":     {{1, 0, buildFloatAct(parseHardSigmoid)}},
	"HardSwish":       {{14, 0, buildFloatAct(parseHardSwish)}},
	"Elu":             {{1, 0, buildFloatAct(parseElu)}},
	"Selu":            {{1, 0, buildFloatAct(parseSelu)}},
	"Celu":            {{12, 0, buildFloatAct(parseCelu)}},
	"Gelu":            {{20, 0, buildGelu}},
	"Mish":            {{18, 0, buildFloatAct(parseMish)}},
	"Softplus":        {{1, 0, buildFloatAct(parseSoftplus)}},
	"Softsign":        {{1, 0, buildFloatAct(parseSoftsign)}},
	"ThresholdedRelu": {{10, 0, buildFloatAct(parseThresholdedRelu)}},
	"PRelu":           {{1, 0, buildPRelu}},
	"Hardmax":         {{1, 0, buildSoftmax(opHardmax)}},
	"Shrink":          {{9, 0, buildShrink}},

	// Unary math, logical and integer ops (math.go).
	"Sin":        {{7, 0, buildUnary(math.Sin, nil)}},
	"Cos":        {{7, 0, buildUnary(math.Cos, nil)}},
	"Tan":        {{7, 0, buildUnary(math.Tan, nil)}},
	"Asin":       {{7, 0, buildUnary(math.Asin, nil)}},
	"Acos":       {{7, 0, buildUnary(math.Acos, nil)}},
	"Atan":       {{7, 0, buildUnary(math.Atan, nil)}},
	"Sinh":       {{9, 0, buildUnary(math.Sinh, nil)}},
	"Cosh":       {{9, 0, buildUnary(math.Cosh, nil)}},
	"Asinh":      {{9, 0, buildUnary(math.Asinh, nil)}},
	"Acosh":      {{9, 0, buildUnary(math.Acosh, nil)}},
	"Atanh":      {{9, 0, buildUnary(math.Atanh, nil)}},
	"Floor":      {{1, 0, buildFloatMath(math.Floor, nil)}},
	"Ceil":       {{1, 0, buildFloatMath(math.Ceil, nil)}},
	"Round":      {{11, 0, buildUnary(math.RoundToEven, nil)}},
	"Reciprocal": {{1, 0, buildFloatMath(func(x float64) float64 { return 1 / x }, reciprocal32)}},
	"Sign":       {{9, 0, buildUnary(sign, signInt)}},
	"IsNaN":      {{9, 0, buildIsNaN}},
	"IsInf":      {{10, 0, buildIsInf}},
	"Not":        {{1, 0, buildNot}},
	"And":        {{1, 0, buildLogic(func(a, b bool) bool { return a && b })}},
	"Or":         {{1, 0, buildLogic(func(a, b bool) bool { return a || b })}},
	"Xor":        {{1, 0, buildLogic(func(a, b bool) bool { return a != b })}},
	"Mod":        {{10, 0, buildMod}},
	"BitShift":   {{11, 0, buildBitShift}},
	"BitwiseAnd": {{18, 0, buildBitwise('&')}},
	"BitwiseOr":  {{18, 0, buildBitwise('|')}},
	"BitwiseXor": {{18, 0, buildBitwise('^')}},
	"BitwiseNot": {{18, 0, buildBitwise('~')}},

	// Reductions (reduce.go); buildReduce takes the opset from which the axes are an input.
	"ReduceSum":       {{1, 0, buildReduce(rSum, 13)}},
	"ReduceMean":      {{1, 0, buildReduce(rMean, 18)}},
	"ReduceMax":       {{1, 0, buildReduce(rMax, 18)}},
	"ReduceMin":       {{1, 0, buildReduce(rMin, 18)}},
	"ReduceProd":      {{1, 0, buildReduce(rProd, 18)}},
	"ReduceL1":        {{1, 0, buildReduce(rL1, 18)}},
	"ReduceL2":        {{1, 0, buildReduce(rL2, 18)}},
	"ReduceLogSum":    {{1, 0, buildReduce(rLogSum, 18)}},
	"ReduceLogSumExp": {{1, 0, buildReduce(rLogSumExp, 18)}},
	"ReduceSumSquare": {{1, 0, buildReduce(rSumSquare, 18)}},
	"CumSum":          {{11, 0, buildCumSum}},
	"CumProd":         {{26, 0, buildCumProd}},

	"Mean": {{1, 0, buildVariadic(opMean)}},

	// Layout ops (layout.go).
	"Split":           {{1, 0, buildSplit}},
	"Tile":            {{1, 0, buildTile}},
	"DepthToSpace":    {{1, 0, buildDepthSpace(true)}},
	"SpaceToDepth":    {{1, 0, buildDepthSpace(false)}},
	"Trilu":           {{14, 0, buildTrilu}},
	"EyeLike":         {{9, 0, buildEyeLike}},
	"Size":            {{1, 0, buildSize}},
	"Compress":        {{9, 0, buildCompress}},
	"ReverseSequence": {{10, 0, buildReverseSequence}},
	"OneHot":          {{9, 0, buildOneHot}},
	"NonZero":         {{9, 0, buildNonZero}},

	// Index ops (index.go).
	"ArgMax":          {{1, 0, buildArg(true)}},
	"ArgMin":          {{1, 0, buildArg(false)}},
	"TopK":            {{1, 0, buildTopK}},
	"GatherElements":  {{11, 0, buildGatherElements}},
	"GatherND":        {{11, 0, buildGatherND}},
	"ScatterElements": {{11, 0, buildScatterElements}},
	"Scatter":         {{9, 0, buildScatterElements}},
	"ScatterND":       {{11, 0, buildScatterND}},
	"Einsum":          {{12, 0, buildEinsum}},

	// Crop, cache update, unique and box suppression (select.go).
	"CenterCropPad": {{18, 0, buildCenterCropPad}},
	"TensorScatter": {{24, 0, buildTensorScatter}},
	"Unique":        {{11, 0, buildUnique}},

	"NonMaxSuppression": {{10, 0, buildNonMaxSuppression}},
}
