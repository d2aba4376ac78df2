package convert

import (
	"fmt"
	"slices"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// adapters holds every version boundary Convert can cross, keyed "Op@v".
// A boundary missing here is refused.
var adapters = buildAdapters()

func buildAdapters() map[string]adapter {
	a := map[string]adapter{}
	set := func(ad adapter, op string, versions ...int64) {
		for _, v := range versions {
			a[fmt.Sprintf("%s@%d", op, v)] = ad
		}
	}
	same := adapter{}
	// Boundaries that only added element types or reworded the text.
	for op, vs := range map[string][]int64{
		"Abs": {13}, "Neg": {13}, "Ceil": {13}, "Floor": {13}, "Exp": {13}, "Log": {13},
		"Sqrt": {13}, "Reciprocal": {13}, "Sigmoid": {13}, "Tanh": {13}, "Relu": {13},
		"Erf": {13}, "Sign": {13}, "Identity": {13, 14, 16, 19, 21}, "IsNaN": {13, 20},
		"LeakyRelu": {16}, "PRelu": {16}, "Add": {13}, "Sub": {13}, "Mul": {13},
		"Div": {13}, "Pow": {13, 15}, "Mod": {13}, "Equal": {13, 19},
		"Greater": {13}, "Less": {13}, "GreaterOrEqual": {16}, "LessOrEqual": {16},
		"Max": {13}, "Min": {13}, "Sum": {13}, "Mean": {13}, "Where": {16},
		"Expand": {13}, "Tile": {13}, "Transpose": {13}, "MatMul": {13}, "Gemm": {13},
		"Conv": {11}, "ConvTranspose": {11}, "MaxPool": {11, 12}, "AveragePool": {11},
		"LRN": {13}, "Flatten": {13}, "Concat": {13}, "Gather": {}, "Reshape": {13, 19, 21},
		"Squeeze": {21}, "Unsqueeze": {21}, "Slice": {13}, "Pad": {13, 21}, "Clip": {13},
		"Softmax": {}, "Dropout": {13}, "BatchNormalization": {15}, "Shape": {13, 19, 21},
		"Size": {13, 19, 21}, "Cast": {9, 13, 21}, "Constant": {13, 19, 21},
		"ConstantOfShape": {20, 21}, "ReduceMean": {13}, "ReduceMax": {12, 13, 20},
		"ReduceMin": {12, 13, 20}, "ReduceProd": {13}, "ReduceL1": {13}, "ReduceL2": {13},
		"ReduceLogSum": {13}, "ReduceLogSumExp": {13}, "ReduceSumSquare": {13}, "ArgMax": {13},
		"ArgMin": {13}, "Split": {}, "GlobalAveragePool": {}, "NonZero": {13},
		"InstanceNormalization": {}, "MeanVarianceNormalization": {13}, "DepthToSpace": {13},
		"SpaceToDepth": {13}, "GatherElements": {13}, "Not": {}, "And": {}, "Or": {}, "Xor": {},
		"CastLike": {19, 21}, "GatherND": {13}, "IsInf": {20}, "CumSum": {14},
		"ScatterElements": {13}, "ScatterND": {13}, "QLinearMatMul": {21},
	} {
		set(same, op, vs...)
	}
	for _, op := range []string{"Sum", "Mean", "Max", "Min"} {
		set(adapter{down: sameShapes}, op, 8)
	}
	set(adapter{down: all(negAxis("axis"), gatherIndices)}, "Gather", 11)
	set(same, "Gather", 13)
	for _, op := range []string{"Flatten", "Concat", "Softmax", "LogSoftmax", "Hardmax", "ArgMax", "ArgMin", "Split"} {
		set(adapter{down: negAxis("axis")}, op, 11)
	}
	for _, op := range []string{"ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
		"ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ReduceSum", "Squeeze", "Unsqueeze"} {
		set(adapter{down: negAxes("axes")}, op, 11)
	}
	for _, op := range []string{"ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
		"ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"} {
		set(adapter{up: axesToInput, down: axesToAttr}, op, 18)
	}
	set(adapter{up: axesToInput, down: axesToAttr}, "ReduceSum", 13)
	set(adapter{up: axesToInput, down: axesToAttr}, "Squeeze", 13)
	set(adapter{up: axesToInput, down: axesToAttr}, "Unsqueeze", 13)
	set(adapter{down: added("select_last_index", 0)}, "ArgMax", 12)
	set(adapter{down: added("select_last_index", 0)}, "ArgMin", 12)
	set(adapter{down: reshapeAllowZero}, "Reshape", 14)
	set(adapter{up: padToInputs, down: padToAttrs}, "Pad", 11)
	set(adapter{down: padAxes}, "Pad", 18)
	set(adapter{down: padMode}, "Pad", 19)
	set(adapter{up: clipToInputs, down: clipToAttrs}, "Clip", 11)
	set(adapter{up: splitToInput, down: splitToAttr}, "Split", 13)
	set(adapter{up: splitNumOutputs, down: splitDropNumOutputs}, "Split", 18)
	set(adapter{up: sliceToInputs, down: sliceToAttrs}, "Slice", 10)
	set(adapter{down: negAxesInput(3)}, "Slice", 11)
	set(adapter{up: dropoutToInputs, down: dropoutToAttrs}, "Dropout", 12)
	set(adapter{up: bnDropSpatial}, "BatchNormalization", 9)
	set(adapter{up: bnOneOutput, down: bnTraining}, "BatchNormalization", 14)
	for _, op := range []string{"Softmax", "LogSoftmax", "Hardmax"} {
		set(adapter{up: softmaxUp, down: softmaxDown}, op, 13)
	}
	set(adapter{down: gemmBias}, "Gemm", 11)
	set(adapter{down: maxPool8}, "MaxPool", 8)
	set(adapter{down: all(added("ceil_mode", 0), onesAttr("dilations"))}, "MaxPool", 10)
	set(adapter{down: added("ceil_mode", 0)}, "AveragePool", 10)
	set(adapter{down: onesAttr("dilations")}, "AveragePool", 19)
	set(adapter{down: constantSparse}, "Constant", 11)
	set(adapter{down: constantToInitializer}, "Constant", 9)
	set(adapter{down: constantValueTensor}, "Constant", 12)
	set(adapter{down: shapeStartEnd}, "Shape", 15)
	set(adapter{down: added("saturate", 1)}, "Cast", 19)
	set(adapter{up: upsampleScalesToInput, down: upsampleScalesToAttr}, "Upsample", 9)
	set(adapter{up: upsampleToResize}, "Upsample", 10)
	set(adapter{down: resizeToUpsample}, "Resize", 10)
	set(adapter{up: resize11Up, down: resize11Down}, "Resize", 11)
	set(adapter{up: resize13Up, down: resize13Down}, "Resize", 13)
	set(adapter{down: all(added("antialias", 0), addedString("keep_aspect_ratio_policy", "stretch"), noAttr("axes"))}, "Resize", 18)
	set(adapter{down: notString("coordinate_transformation_mode", "half_pixel_symmetric")}, "Resize", 19)
	set(same, "Flatten", 21)
	// Boundaries that added element types: before them the old types only.
	floats := []tensor.DType{tensor.Float32, tensor.Float64}
	for _, op := range []string{"Greater", "Less", "MatMul", "Gemm", "PRelu", "Flatten"} {
		set(adapter{down: typesBefore(floats...)}, op, 9)
	}
	set(adapter{down: typesBefore(tensor.Bool, tensor.Int32, tensor.Int64)}, "Equal", 11)
	set(adapter{down: typesBefore(floats...)}, "Max", 12)
	set(adapter{down: typesBefore(floats...)}, "Min", 12)
	set(adapter{down: typesBefore(floats...)}, "Pow", 12)
	set(adapter{down: typesBefore(floats...)}, "Relu", 14)
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		set(adapter{down: typesBefore(tensor.Float32, tensor.Float64, tensor.Int32, tensor.Int64)}, op, 14)
	}
	set(adapter{down: floatOnly}, "Clip", 12)
	set(adapter{down: dropoutMask}, "Dropout", 10)
	set(same, "Transpose", 21)
	set(adapter{down: all(negAxis("axis"), added("largest", 1), added("sorted", 1))}, "TopK", 11)
	set(adapter{up: topKToInput, down: topKToAttr}, "TopK", 10)
	set(adapter{down: negAxis("axis")}, "OneHot", 11)
	set(adapter{down: negAxis("axis")}, "Compress", 11)
	set(adapter{down: addedString("mode", "DCR")}, "DepthToSpace", 11)
	set(adapter{down: added("batch_dims", 0)}, "GatherND", 12)
	for _, op := range []string{"ScatterElements", "ScatterND"} {
		set(adapter{down: addedString("reduction", "none")}, op, 16)
		set(adapter{down: notString("reduction", "max", "min")}, op, 18)
	}
	for _, op := range []string{"RNN", "GRU", "LSTM"} {
		set(adapter{down: added("layout", 0)}, op, 14)
	}
	set(adapter{down: all(added("ceil_mode", 0), onesAttr("dilations"))}, "LpPool", 18)
	for _, op := range []string{"QuantizeLinear", "DequantizeLinear"} {
		set(adapter{down: perTensorScale}, op, 13)
		set(adapter{down: all(added("block_size", 0), added("output_dtype", 0))}, op, 21)
	}
	set(adapter{down: added("saturate", 1)}, "QuantizeLinear", 19)
	set(same, "DequantizeLinear", 19)
	return a
}

// all runs steps one after the other.
func all(steps ...step) step {
	return func(r *rewriter, n *onnx.Node, v int64) (before, after []*onnx.Node, err error) {
		for _, s := range steps {
			b, af, err := s(r, n, v)
			if err != nil {
				return nil, nil, err
			}
			before, after = append(before, b...), append(af, after...)
		}
		return before, after, nil
	}
}

// added is the down step of an attribute introduced at v: it may only be
// absent or at its default.
func added(name string, def int64) step {
	return func(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
		if a := n.Attr(name); a != nil {
			if a.Type != onnx.AttrInt || a.I != def {
				return nil, nil, fmt.Errorf("attribute %q other than %d has no equivalent before opset %d", name, def, v)
			}
			delAttr(n, name)
		}
		return nil, nil, nil
	}
}

// onesAttr is the down step of an ints attribute introduced at v whose
// values must all be 1 (dilations).
func onesAttr(name string) step {
	return func(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
		if a := n.Attr(name); a != nil {
			for _, x := range a.Ints {
				if x != 1 {
					return nil, nil, fmt.Errorf("attribute %q other than 1 has no equivalent before opset %d", name, v)
				}
			}
			delAttr(n, name)
		}
		return nil, nil, nil
	}
}

// normAxis makes a negative axis of a tensor of the given rank positive.
func normAxis(axis int64, rank int) (int64, bool) {
	if axis < 0 {
		axis += int64(rank)
	}
	return axis, axis >= 0 && axis < int64(rank)
}

// negAxis is the down step at 11 of an op whose axis could not be negative
// before: a negative one is made positive from the input's rank.
func negAxis(name string) step {
	return func(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
		a := n.Attr(name)
		if a == nil || a.Type != onnx.AttrInt || a.I >= 0 {
			return nil, nil, nil
		}
		rank := r.rank(n.Inputs[0])
		if rank < 0 {
			return nil, nil, fmt.Errorf("negative %q needs the input's rank, which is unknown", name)
		}
		ax, ok := normAxis(a.I, rank)
		if !ok {
			return nil, nil, fmt.Errorf("attribute %q = %d out of range for rank %d", name, a.I, rank)
		}
		setAttr(n, intAttr(name, ax))
		return nil, nil, nil
	}
}

// negAxes is negAxis for a list of axes (Unsqueeze's refer to the output).
func negAxes(name string) step {
	return func(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
		axes, ok := attrInts(n, name)
		if !ok {
			return nil, nil, nil
		}
		out, err := r.positiveAxes(n, axes, name)
		if err != nil {
			return nil, nil, err
		}
		setAttr(n, intsAttr(name, out))
		return nil, nil, nil
	}
}

func (r *rewriter) positiveAxes(n *onnx.Node, axes []int64, what string) ([]int64, error) {
	neg := false
	for _, x := range axes {
		neg = neg || x < 0
	}
	if !neg {
		return axes, nil
	}
	rank := r.rank(n.Inputs[0])
	if n.OpType == "Unsqueeze" && rank >= 0 {
		rank += len(axes)
	}
	if rank < 0 {
		return nil, fmt.Errorf("negative %s need the input's rank, which is unknown", what)
	}
	out := make([]int64, len(axes))
	for i, x := range axes {
		ax, ok := normAxis(x, rank)
		if !ok {
			return nil, fmt.Errorf("%s value %d out of range for rank %d", what, x, rank)
		}
		out[i] = ax
	}
	return out, nil
}

// negAxesInput is negAxes for a constant axes input.
func negAxesInput(i int) step {
	return func(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
		axes, present, ok := r.constInts(n, i)
		if !present {
			return nil, nil, nil
		}
		if !ok {
			return nil, nil, fmt.Errorf("input %d (%q) must be a constant before opset %d", i, n.Inputs[i], v)
		}
		out, err := r.positiveAxes(n, axes, "axes")
		if err != nil {
			return nil, nil, err
		}
		n.Inputs[i] = r.addConst(n.Name+"_axes", tensor.FromInt64(out, len(out)))
		return nil, nil, nil
	}
}

// sameShapes is the down step at 8 of the variadic ops that gained
// broadcasting: before, every input had to have the same shape.
func sameShapes(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if len(n.Inputs) < 2 {
		return nil, nil, nil
	}
	first := r.shapes[n.Inputs[0]]
	for _, in := range n.Inputs {
		s := r.shapes[in]
		if !static(s) || !static(first) || !slices.Equal(s, first) {
			return nil, nil, fmt.Errorf("before opset 8 inputs must have one static shape; %q has %s", in, shapeString(s))
		}
	}
	return nil, nil, nil
}

// attrToInput moves an ints attribute into input i as an int64 tensor.
func (r *rewriter) attrToInput(n *onnx.Node, name string, i int) {
	if vals, ok := attrInts(n, name); ok {
		setInput(n, i, r.addConst(n.Name+"_"+name, tensor.FromInt64(append([]int64(nil), vals...), len(vals))))
		delAttr(n, name)
	}
}

// inputToAttr moves constant input i into an ints attribute.
func (r *rewriter) inputToAttr(n *onnx.Node, i int, name string, v int64) error {
	vals, present, ok := r.constInts(n, i)
	if !ok {
		return fmt.Errorf("input %q (%s) is not a constant, so it cannot become an attribute before opset %d", n.Inputs[i], name, v)
	}
	if present {
		setAttr(n, intsAttr(name, vals))
		n.Inputs[i] = ""
	}
	trimInputs(n)
	return nil
}

func axesToInput(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	r.attrToInput(n, "axes", 1)
	return nil, nil, nil
}

func axesToAttr(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	noop := attrInt(n, "noop_with_empty_axes", 0)
	delAttr(n, "noop_with_empty_axes")
	if err := r.inputToAttr(n, 1, "axes", v); err != nil {
		return nil, nil, err
	}
	if noop != 0 {
		if a, ok := attrInts(n, "axes"); !ok || len(a) == 0 {
			return nil, nil, fmt.Errorf("noop_with_empty_axes=1 with no axes has no equivalent before opset %d", v)
		}
	}
	return nil, nil, nil
}

func reshapeAllowZero(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if attrInt(n, "allowzero", 0) != 0 {
		shape, _, ok := r.constInts(n, 1)
		if !ok {
			return nil, nil, fmt.Errorf("allowzero=1 with a shape that is not a constant has no equivalent before opset %d", v)
		}
		for _, d := range shape {
			if d == 0 {
				return nil, nil, fmt.Errorf("allowzero=1 with a 0 in the shape has no equivalent before opset %d", v)
			}
		}
	}
	delAttr(n, "allowzero")
	return nil, nil, nil
}

// scalarLike makes a one-element tensor of the element type of value name
// (float32 when it is unknown).
func (r *rewriter) scalarLike(name string, x float64) *tensor.Tensor {
	if r.dtypes[name] == tensor.Float64 {
		return &tensor.Tensor{DType: tensor.Float64, F64: []float64{x}}
	}
	return &tensor.Tensor{DType: tensor.Float32, F32: []float32{float32(x)}}
}

func padToInputs(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	r.attrToInput(n, "pads", 1)
	if val := attrFloat(n, "value", 0); val != 0 {
		setInput(n, 2, r.addConst(n.Name+"_value", r.scalarLike(n.Inputs[0], float64(val))))
	}
	delAttr(n, "value")
	return nil, nil, nil
}

func padToAttrs(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		val, _, ok := r.constFloat(n, 2)
		if !ok {
			return nil, nil, fmt.Errorf("input %q (constant_value) is not a float constant, so it cannot become an attribute before opset %d", n.Inputs[2], v)
		}
		setAttr(n, floatAttr("value", val))
		n.Inputs[2] = ""
	}
	if err := r.inputToAttr(n, 1, "pads", v); err != nil {
		return nil, nil, err
	}
	return nil, nil, nil
}

// padAxes is Pad's down step at 18: constant axes are spread into pads
// for every axis.
func padAxes(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	axes, present, ok := r.constInts(n, 3)
	if !present {
		return nil, nil, nil
	}
	pads, _, pok := r.constInts(n, 1)
	if !ok || !pok {
		return nil, nil, fmt.Errorf("inputs pads and axes must be constants before opset %d", v)
	}
	rank := r.rank(n.Inputs[0])
	if rank < 0 {
		return nil, nil, fmt.Errorf("input axes needs the data's rank before opset %d, which is unknown", v)
	}
	if len(pads) != 2*len(axes) {
		return nil, nil, fmt.Errorf("%d pads for %d axes", len(pads), len(axes))
	}
	full := make([]int64, 2*rank)
	for i, ax := range axes {
		a, ok := normAxis(ax, rank)
		if !ok {
			return nil, nil, fmt.Errorf("axes value %d out of range for rank %d", ax, rank)
		}
		full[a], full[int(a)+rank] = pads[i], pads[i+len(axes)]
	}
	n.Inputs[1] = r.addConst(n.Name+"_pads", tensor.FromInt64(full, len(full)))
	n.Inputs[3] = ""
	trimInputs(n)
	return nil, nil, nil
}

func padMode(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if attrString(n, "mode", "constant") == "wrap" {
		return nil, nil, fmt.Errorf("mode \"wrap\" has no equivalent before opset %d", v)
	}
	return nil, nil, nil
}

func clipToInputs(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if a := n.Attr("min"); a != nil {
		setInput(n, 1, r.addConst(n.Name+"_min", r.scalarLike(n.Inputs[0], float64(a.F))))
	}
	if a := n.Attr("max"); a != nil {
		setInput(n, 2, r.addConst(n.Name+"_max", r.scalarLike(n.Inputs[0], float64(a.F))))
	}
	delAttr(n, "min")
	delAttr(n, "max")
	return nil, nil, nil
}

func clipToAttrs(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	for i, name := range []string{"", "min", "max"} {
		if i == 0 {
			continue
		}
		x, present, ok := r.constFloat(n, i)
		if !ok {
			return nil, nil, fmt.Errorf("input %q (%s) is not a float constant, so it cannot become an attribute before opset %d", n.Inputs[i], name, v)
		}
		if present {
			setAttr(n, floatAttr(name, x))
			n.Inputs[i] = ""
		}
	}
	trimInputs(n)
	return nil, nil, nil
}

func splitToInput(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	r.attrToInput(n, "split", 1)
	return nil, nil, nil
}

func splitToAttr(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	return nil, nil, r.inputToAttr(n, 1, "split", v)
}

// splitNumOutputs: Split-18 needs the split input or num_outputs; before,
// no split meant equal parts, one per output.
func splitNumOutputs(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if len(n.Inputs) < 2 || n.Inputs[1] == "" {
		setAttr(n, intAttr("num_outputs", int64(len(n.Outputs))))
	}
	return nil, nil, nil
}

// splitDropNumOutputs: num_outputs may leave a smaller last part, which
// before 18 needs explicit sizes, so they are computed from the shape.
func splitDropNumOutputs(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if n.Attr("num_outputs") == nil {
		return nil, nil, nil
	}
	k := attrInt(n, "num_outputs", 0)
	delAttr(n, "num_outputs")
	if k != int64(len(n.Outputs)) || k <= 0 {
		return nil, nil, fmt.Errorf("num_outputs %d for %d outputs", k, len(n.Outputs))
	}
	s := r.shapes[n.Inputs[0]]
	ax, ok := normAxis(attrInt(n, "axis", 0), len(s))
	if s == nil || !ok || s[ax] < 0 {
		return nil, nil, fmt.Errorf("num_outputs needs the split dimension before opset %d, which is unknown", v)
	}
	d := s[ax]
	if d%k == 0 {
		return nil, nil, nil
	}
	part := (d + k - 1) / k
	sizes := make([]int64, k)
	for i := range sizes {
		sizes[i] = min(part, d-int64(i)*part)
		if sizes[i] < 0 {
			return nil, nil, fmt.Errorf("num_outputs %d leaves an empty part of a dimension of %d", k, d)
		}
	}
	setInput(n, 1, r.addConst(n.Name+"_split", tensor.FromInt64(sizes, len(sizes))))
	return nil, nil, nil
}

func sliceToInputs(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if _, ok := attrInts(n, "starts"); !ok {
		return nil, nil, fmt.Errorf("attribute \"starts\" is missing")
	}
	r.attrToInput(n, "starts", 1)
	r.attrToInput(n, "ends", 2)
	r.attrToInput(n, "axes", 3)
	return nil, nil, nil
}

func sliceToAttrs(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if steps, present, ok := r.constInts(n, 4); present {
		if !ok {
			return nil, nil, fmt.Errorf("input steps must be a constant before opset %d", v)
		}
		for _, s := range steps {
			if s != 1 {
				return nil, nil, fmt.Errorf("steps other than 1 have no equivalent before opset %d", v)
			}
		}
		n.Inputs[4] = ""
	}
	for i, name := range []string{"", "starts", "ends", "axes"} {
		if i == 0 {
			continue
		}
		if err := r.inputToAttr(n, i, name, v); err != nil {
			return nil, nil, err
		}
	}
	return nil, nil, nil
}

func dropoutToInputs(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if a := n.Attr("ratio"); a != nil {
		setInput(n, 1, r.addConst(n.Name+"_ratio", tensor.FromFloat32([]float32{a.F})))
	}
	delAttr(n, "ratio")
	return nil, nil, nil
}

func dropoutToAttrs(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		t := r.constant(n.Inputs[2])
		if t == nil || t.DType != tensor.Bool || t.Len() != 1 || t.B[0] {
			return nil, nil, fmt.Errorf("input training_mode must be a constant false before opset %d", v)
		}
		n.Inputs[2] = ""
	}
	if x, present, ok := r.constFloat(n, 1); present {
		if !ok {
			return nil, nil, fmt.Errorf("input %q (ratio) is not a float constant, so it cannot become an attribute before opset %d", n.Inputs[1], v)
		}
		setAttr(n, floatAttr("ratio", x))
		n.Inputs[1] = ""
	}
	delAttr(n, "seed") // only drawn from in training mode
	trimInputs(n)
	return nil, nil, nil
}

func bnDropSpatial(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if attrInt(n, "spatial", 1) != 1 {
		if rank := r.rank(n.Inputs[0]); rank != 2 {
			return nil, nil, fmt.Errorf("spatial=0 has no equivalent from opset %d", v)
		}
	}
	delAttr(n, "spatial")
	return nil, nil, nil
}

func bnOneOutput(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	for _, o := range n.Outputs[1:] {
		if o != "" {
			return nil, nil, fmt.Errorf("training outputs (%q) have no equivalent from opset %d", o, v)
		}
	}
	n.Outputs = n.Outputs[:1]
	return nil, nil, nil
}

func bnTraining(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if attrInt(n, "training_mode", 0) != 0 {
		return nil, nil, fmt.Errorf("training_mode=1 has no equivalent before opset %d", v)
	}
	delAttr(n, "training_mode")
	return nil, nil, nil
}

// softmaxUp: before 13 the op flattened its input to 2-D at axis (default
// 1) and normalized each row; from 13 it normalizes along axis (default
// -1). Where the two differ the input is flattened and the result reshaped
// back.
func softmaxUp(r *rewriter, n *onnx.Node, v int64) (before, after []*onnx.Node, err error) {
	axis := attrInt(n, "axis", 1)
	rank := r.rank(n.Inputs[0])
	if rank >= 0 {
		ax, ok := normAxis(axis, rank)
		if !ok {
			return nil, nil, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
		}
		if ax == int64(rank)-1 {
			setAttr(n, intAttr("axis", ax))
			return nil, nil, nil
		}
	}
	in, out := n.Inputs[0], n.Outputs[0]
	flat := r.newNode("Flatten", n.Name, []string{in}, intAttr("axis", axis))
	shape := r.newNode("Shape", n.Name, []string{in})
	n.Inputs[0] = flat.Outputs[0]
	n.Outputs[0] = r.fresh(out + "_2d")
	setAttr(n, intAttr("axis", 1))
	back := r.newNode("Reshape", n.Name, []string{n.Outputs[0], shape.Outputs[0]})
	back.Outputs[0] = out
	return []*onnx.Node{flat, shape}, []*onnx.Node{back}, nil
}

// softmaxDown: a normalization along the last axis means the same in both
// versions; along another axis the axis is moved last by Transposes.
func softmaxDown(r *rewriter, n *onnx.Node, v int64) (before, after []*onnx.Node, err error) {
	axis := attrInt(n, "axis", -1)
	rank := r.rank(n.Inputs[0])
	if rank < 0 {
		if axis == -1 {
			setAttr(n, intAttr("axis", -1)) // rows of the flattened input: the same
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("axis %d needs the input's rank before opset 13, which is unknown", axis)
	}
	ax, ok := normAxis(axis, rank)
	if !ok {
		return nil, nil, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	last := int64(rank) - 1
	setAttr(n, intAttr("axis", last))
	if ax == last {
		return nil, nil, nil
	}
	perm := make([]int64, rank)
	for i := range perm {
		perm[i] = int64(i)
	}
	perm[ax], perm[last] = last, ax // a swap is its own inverse
	in, out := n.Inputs[0], n.Outputs[0]
	t1 := r.newNode("Transpose", n.Name, []string{in}, intsAttr("perm", perm))
	n.Inputs[0] = t1.Outputs[0]
	n.Outputs[0] = r.fresh(out + "_t")
	t2 := r.newNode("Transpose", n.Name, []string{n.Outputs[0]}, intsAttr("perm", perm))
	t2.Outputs[0] = out
	return []*onnx.Node{t1}, []*onnx.Node{t2}, nil
}

// gemmBias: C became optional at 11; before, a zero C is added.
func gemmBias(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if len(n.Inputs) < 3 || n.Inputs[2] == "" {
		setInput(n, 2, r.addConst(n.Name+"_C", r.scalarLike(n.Inputs[0], 0)))
	}
	return nil, nil, nil
}

func maxPool8(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if len(n.Outputs) > 1 && n.Outputs[1] != "" {
		return nil, nil, fmt.Errorf("output Indices has no equivalent before opset %d", v)
	}
	n.Outputs = n.Outputs[:1]
	_, _, err = added("storage_order", 0)(r, n, v)
	return nil, nil, err
}

func constantSparse(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if n.Attr("sparse_value") != nil {
		return nil, nil, fmt.Errorf("sparse_value has no equivalent before opset %d", v)
	}
	return nil, nil, nil
}

// constantValueTensor turns value_float(s) and value_int(s), added at 12,
// into the tensor value.
func constantValueTensor(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	for _, a := range n.Attrs {
		switch a.Name {
		case "value_string", "value_strings":
			return nil, nil, fmt.Errorf("attribute %q has no equivalent before opset %d", a.Name, v)
		case "value_float", "value_floats", "value_int", "value_ints":
			t := r.constant(n.Outputs[0])
			if t == nil {
				return nil, nil, fmt.Errorf("attribute %q is malformed", a.Name)
			}
			n.Attrs = []*onnx.Attribute{{Name: "value", Type: onnx.AttrTensor, T: t}}
			return nil, nil, nil
		}
	}
	return nil, nil, nil
}

// shapeStartEnd: start and end, added at 15, have no equivalent before.
func shapeStartEnd(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if attrInt(n, "start", 0) != 0 || n.Attr("end") != nil {
		return nil, nil, fmt.Errorf("attributes start and end have no equivalent before opset %d", v)
	}
	delAttr(n, "start")
	return nil, nil, nil
}

func upsampleScalesToInput(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	a := n.Attr("scales")
	if a == nil || a.Type != onnx.AttrFloats {
		return nil, nil, fmt.Errorf("attribute \"scales\" is missing")
	}
	s := append([]float32(nil), a.Floats...)
	setInput(n, 1, r.addConst(n.Name+"_scales", tensor.FromFloat32(s, len(s))))
	delAttr(n, "scales")
	return nil, nil, nil
}

func upsampleScalesToAttr(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	var t *tensor.Tensor
	if len(n.Inputs) > 1 {
		t = r.constant(n.Inputs[1])
	}
	if t == nil || t.DType != tensor.Float32 {
		if t == nil {
			return nil, nil, fmt.Errorf("input scales must be a float constant before opset %d", v)
		}
		return nil, nil, fmt.Errorf("input %q (scales) is not a float constant, so it cannot become an attribute before opset %d", n.Inputs[1], v)
	}
	setAttr(n, &onnx.Attribute{Name: "scales", Type: onnx.AttrFloats, Floats: append([]float32(nil), t.F32...)})
	n.Inputs = n.Inputs[:1]
	return nil, nil, nil
}

// addedString is added for a string attribute.
func addedString(name, def string) step {
	return func(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
		if a := n.Attr(name); a != nil {
			if a.Type != onnx.AttrString || string(a.S) != def {
				return nil, nil, fmt.Errorf("attribute %q other than %q has no equivalent before opset %d", name, def, v)
			}
			delAttr(n, name)
		}
		return nil, nil, nil
	}
}

// notString refuses string attribute values introduced at v.
func notString(name string, values ...string) step {
	return func(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
		s := attrString(n, name, "")
		for _, x := range values {
			if s == x {
				return nil, nil, fmt.Errorf("attribute %q = %q has no equivalent before opset %d", name, s, v)
			}
		}
		return nil, nil, nil
	}
}

func topKToInput(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	a := n.Attr("k")
	if a == nil || a.Type != onnx.AttrInt {
		return nil, nil, fmt.Errorf("attribute \"k\" is missing")
	}
	setInput(n, 1, r.addConst(n.Name+"_k", tensor.FromInt64([]int64{a.I}, 1)))
	delAttr(n, "k")
	return nil, nil, nil
}

func topKToAttr(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	k, present, ok := r.constInts(n, 1)
	if !present || !ok || len(k) != 1 {
		return nil, nil, fmt.Errorf("input K must be a one-element constant before opset %d", v)
	}
	setAttr(n, intAttr("k", k[0]))
	n.Inputs = n.Inputs[:1]
	return nil, nil, nil
}

// perTensorScale: before 13 quantization had one scale for the tensor.
func perTensorScale(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if t := r.constant(n.Inputs[1]); t == nil || t.Len() != 1 {
		if s := r.shapes[n.Inputs[1]]; s == nil || prod(s) != 1 {
			return nil, nil, fmt.Errorf("a scale that is not one value has no equivalent before opset %d", v)
		}
	}
	delAttr(n, "axis")
	return nil, nil, nil
}

// constantToInitializer: before 9 Constant held float types only; other
// values become initializers, which every opset has.
func constantToInitializer(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	t := r.constant(n.Outputs[0])
	if t == nil {
		return nil, nil, fmt.Errorf("value of unknown type has no equivalent before opset %d", v)
	}
	if t.DType == tensor.Float32 || t.DType == tensor.Float64 {
		return nil, nil, nil
	}
	r.g.Initializers = append(r.g.Initializers, &onnx.Initializer{Name: n.Outputs[0], Tensor: t})
	n.OpType = dropped
	return nil, nil, nil
}

// floatOnly is the down step of a boundary that added integer types.
func floatOnly(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if dt, ok := r.dtypes[n.Inputs[0]]; ok && dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, nil, fmt.Errorf("%s input has no equivalent before opset %d", dt, v)
	}
	return nil, nil, nil
}

// dropoutMask: before 10 the mask had the input's type; a Cast makes it
// the bool it is from 10.
func dropoutMask(r *rewriter, n *onnx.Node, v int64) (before, after []*onnx.Node, err error) {
	if len(n.Outputs) < 2 || n.Outputs[1] == "" {
		return nil, nil, nil
	}
	mask := n.Outputs[1]
	n.Outputs[1] = r.fresh(mask + "_float")
	cast := r.newNode("Cast", n.Name, []string{n.Outputs[1]}, intAttr("to", int64(onnx.ElemTypeOf(tensor.Bool))))
	cast.Outputs[0] = mask
	return nil, []*onnx.Node{cast}, nil
}

// noAttr refuses an attribute introduced at v.
func noAttr(name string) step {
	return func(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
		if n.Attr(name) != nil {
			return nil, nil, fmt.Errorf("attribute %q has no equivalent before opset %d", name, v)
		}
		return nil, nil, nil
	}
}

// upsampleToResize: Upsample-9 was replaced at 10 by Resize-10, which has
// the same inputs, attribute and meaning.
func upsampleToResize(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	n.OpType = "Resize"
	return nil, nil, nil
}

func resizeToUpsample(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	n.OpType = "Upsample"
	return nil, nil, nil
}

// resize10Scales returns Resize-10's (or Upsample's) constant scales.
func (r *rewriter) floatsInput(n *onnx.Node, i int) []float32 {
	if i >= len(n.Inputs) {
		return nil
	}
	if t := r.constant(n.Inputs[i]); t != nil && t.DType == tensor.Float32 {
		return t.F32
	}
	return nil
}

// resize11Up: Resize-10 maps output coordinates as x/scale ("asymmetric")
// and, in nearest mode, takes the floor when upsampling. Downsampling
// nearest is refused: runtimes differ on its rounding.
func resize11Up(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	mode := attrString(n, "mode", "nearest")
	if mode == "nearest" {
		scales := r.floatsInput(n, 1)
		if scales == nil {
			return nil, nil, fmt.Errorf("nearest mode needs constant scales to convert to opset %d", v)
		}
		for _, s := range scales {
			if s < 1 {
				return nil, nil, fmt.Errorf("nearest downsampling (scale %g) has no agreed equivalent from opset %d", s, v)
			}
		}
		setAttr(n, &onnx.Attribute{Name: "nearest_mode", Type: onnx.AttrString, S: []byte("floor")})
	}
	setAttr(n, &onnx.Attribute{Name: "coordinate_transformation_mode", Type: onnx.AttrString, S: []byte("asymmetric")})
	scales := n.Inputs[1]
	n.Inputs = []string{n.Inputs[0], r.addConst(n.Name+"_roi", tensor.New(tensor.Float32, 0)), scales}
	return nil, nil, nil
}

func resize11Down(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	mode := attrString(n, "mode", "nearest")
	switch {
	case mode != "nearest" && mode != "linear":
		return nil, nil, fmt.Errorf("mode %q has no equivalent before opset %d", mode, v)
	case attrString(n, "coordinate_transformation_mode", "half_pixel") != "asymmetric":
		return nil, nil, fmt.Errorf("coordinate_transformation_mode other than \"asymmetric\" has no equivalent before opset %d", v)
	case mode == "nearest" && attrString(n, "nearest_mode", "round_prefer_floor") != "floor":
		return nil, nil, fmt.Errorf("nearest_mode other than \"floor\" has no equivalent before opset %d", v)
	case attrInt(n, "exclude_outside", 0) != 0:
		return nil, nil, fmt.Errorf("exclude_outside=1 has no equivalent before opset %d", v)
	case len(n.Inputs) > 3 && n.Inputs[3] != "":
		return nil, nil, fmt.Errorf("input sizes has no equivalent before opset %d", v)
	}
	scales := r.floatsInput(n, 2)
	if scales == nil && (len(n.Inputs) < 3 || n.Inputs[2] == "") {
		return nil, nil, fmt.Errorf("Resize without scales has no equivalent before opset %d", v)
	}
	for _, s := range scales {
		if mode == "nearest" && s < 1 {
			return nil, nil, fmt.Errorf("nearest downsampling (scale %g) has no agreed equivalent before opset %d", s, v)
		}
	}
	if mode == "nearest" && scales == nil {
		return nil, nil, fmt.Errorf("nearest mode needs constant scales to convert below opset %d", v)
	}
	for _, a := range []string{"coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside", "extrapolation_value"} {
		delAttr(n, a)
	}
	n.Inputs = []string{n.Inputs[0], n.Inputs[2]}
	return nil, nil, nil
}

// resize13Up: tf_half_pixel_for_nn was removed at 13.
func resize13Up(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	if attrString(n, "coordinate_transformation_mode", "") == "tf_half_pixel_for_nn" {
		return nil, nil, fmt.Errorf("coordinate_transformation_mode \"tf_half_pixel_for_nn\" has no equivalent from opset %d", v)
	}
	return nil, nil, nil
}

// resize13Down: roi and scales became optional at 13; before, absent ones
// are empty tensors.
func resize13Down(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	for i, name := range []string{"", "roi", "scales"} {
		if i > 0 && (len(n.Inputs) <= i || n.Inputs[i] == "") {
			setInput(n, i, r.addConst(n.Name+"_"+name, tensor.New(tensor.Float32, 0)))
		}
	}
	return nil, nil, nil
}

// typesBefore is the down step of a boundary that added element types:
// every input whose type is known must have one of the older types.
func typesBefore(allowed ...tensor.DType) step {
	return func(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
		for _, in := range n.Inputs {
			dt, ok := r.dtypes[in]
			if !ok || in == "" {
				continue
			}
			found := false
			for _, a := range allowed {
				found = found || dt == a
			}
			if !found {
				return nil, nil, fmt.Errorf("input %q of type %s has no equivalent before opset %d", in, dt, v)
			}
		}
		return nil, nil, nil
	}
}

// gatherIndices: negative indices count from the end only from 11; before,
// constant ones are made positive from the data's dimension.
func gatherIndices(r *rewriter, n *onnx.Node, v int64) (_, _ []*onnx.Node, err error) {
	idx, present, ok := r.constInts(n, 1)
	if !present || !ok {
		return nil, nil, nil // indices computed at run time: the model's responsibility
	}
	neg := false
	for _, i := range idx {
		neg = neg || i < 0
	}
	if !neg {
		return nil, nil, nil
	}
	s := r.shapes[n.Inputs[0]]
	ax, aok := normAxis(attrInt(n, "axis", 0), len(s))
	if s == nil || !aok || s[ax] < 0 {
		return nil, nil, fmt.Errorf("negative indices need the data's dimension before opset %d, which is unknown", v)
	}
	t := r.constant(n.Inputs[1])
	pos := make([]int64, len(idx))
	for i, x := range idx {
		if x < 0 {
			x += s[ax]
		}
		pos[i] = x
	}
	shape := append([]int(nil), t.Shape...)
	n.Inputs[1] = r.addConst(n.Name+"_indices", tensor.FromInt64(pos, shape...))
	return nil, nil, nil
}
