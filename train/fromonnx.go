package train

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// FromONNX builds a trainable Model from an ONNX graph made of the layers
// this package knows, weights included, so that a PyTorch export can be
// fine-tuned in Go and exported again. The graph must be a chain from its
// one input [N, C, H, W] to its one output, of: Conv (2-D, square kernel,
// equal strides and symmetric equal pads, group 1, no dilation), Gemm
// (alpha = beta = 1, transA = 0), MatMul followed by Add of a bias,
// AveragePool and MaxPool (square kernel, no padding; PyTorch's zero Pad
// before AveragePool is accepted), Relu, Tanh, Flatten (axis 1), Reshape to
// [batch, features], BatchNormalization (inference form, constant
// statistics), Dropout and Identity. Anything else is refused with one
// error naming every node at fault. Parameters keep their initializer names
// when those end in ".weight"/".bias".
//
// The model's outputs before any training step equal infer's on the same
// file. The preprocessing recorded by Export is read back into Normalize,
// Prepare and Classes.
func FromONNX(m *onnx.Model) (*Model, error) {
	if m == nil || m.Graph == nil {
		return nil, errors.New("train: FromONNX: model has no graph")
	}
	b := &onnxBuilder{g: m.Graph, inits: map[string]*tensor.Tensor{}, consts: map[string]*tensor.Tensor{}, state: map[string]*tensor.Tensor{}}
	for _, in := range m.Graph.Initializers {
		b.inits[in.Name] = in.Tensor
	}
	input, err := b.input()
	if err != nil {
		return nil, err
	}
	b.cur = input.Name
	for i := 0; i < len(m.Graph.Nodes); i++ {
		i += b.node(i)
	}
	if len(b.bad) == 0 && (len(m.Graph.Outputs) != 1 || m.Graph.Outputs[0].Name != b.cur) {
		b.bad = append(b.bad, "the graph's output is not the end of the chain of nodes")
	}
	if len(b.bad) > 0 {
		return nil, fmt.Errorf("train: FromONNX: cannot train this graph: %s", strings.Join(b.bad, "; "))
	}
	kind, _ := m.MetadataValue(onnx.MetaModel)
	if kind == "" {
		kind = "onnx"
	}
	model, err := NewModel(kind, b.sample, b.layers...)
	if err != nil {
		return nil, err
	}
	if err := model.LoadState(b.state); err != nil {
		return nil, err
	}
	p, err := m.Preprocess()
	if err != nil {
		return nil, fmt.Errorf("train: FromONNX: %w", err)
	}
	if !p.Identity() {
		model.Normalize = &Normalize{Mean: p.Mean, Std: p.Std}
	}
	if p.Classes != nil && len(p.Classes) != model.NumClasses() {
		return nil, fmt.Errorf("train: FromONNX: metadata %s has %d class names for %d scores", onnx.MetaClasses, len(p.Classes), model.NumClasses())
	}
	model.Prepare, model.Classes = p.Prepare, p.Classes
	model.SetTraining(false)
	return model, nil
}

// onnxBuilder walks a graph's chain of nodes, turning each into a layer.
type onnxBuilder struct {
	g      *onnx.Graph
	inits  map[string]*tensor.Tensor
	consts map[string]*tensor.Tensor // outputs of Constant nodes
	cur    string                    // the value the chain has reached
	sample []int                     // shape of one input sample
	shape  []int                     // shape of one sample at cur
	layers []Layer
	state  map[string]*tensor.Tensor
	bad    []string
}

func (b *onnxBuilder) input() (*onnx.ValueInfo, error) {
	var ins []*onnx.ValueInfo
	for _, vi := range b.g.Inputs {
		if b.inits[vi.Name] == nil {
			ins = append(ins, vi)
		}
	}
	if len(ins) != 1 {
		return nil, fmt.Errorf("train: FromONNX: want one graph input, have %d", len(ins))
	}
	in := ins[0]
	if in.DType != tensor.Float32 || !in.HasShape || len(in.Shape) != 4 {
		return nil, fmt.Errorf("train: FromONNX: input %q must be float32 [N, C, H, W]", in.Name)
	}
	for _, d := range in.Shape[1:] {
		if d.Value <= 0 {
			return nil, fmt.Errorf("train: FromONNX: input %q: C, H and W must be fixed", in.Name)
		}
		b.sample = append(b.sample, int(d.Value))
	}
	b.shape = append([]int(nil), b.sample...)
	return in, nil
}

func (b *onnxBuilder) fail(n *onnx.Node, format string, args ...any) {
	b.bad = append(b.bad, fmt.Sprintf("node %q (%s): %s", n.Name, n.OpType, fmt.Sprintf(format, args...)))
}

// value returns a constant input: an initializer or a Constant's output.
func (b *onnxBuilder) value(name string) *tensor.Tensor {
	if t := b.inits[name]; t != nil {
		return t
	}
	return b.consts[name]
}

// layerName is the prefix of a ".weight" initializer, else one made from
// the node's name or its position.
func (b *onnxBuilder) layerName(n *onnx.Node, weight string) string {
	if p, ok := strings.CutSuffix(weight, ".weight"); ok && p != "" {
		return p
	}
	name := strings.Trim(strings.ReplaceAll(n.Name, "/", "_"), "_")
	if name == "" {
		name = strings.ToLower(n.OpType) + strconv.Itoa(len(b.layers))
	}
	return name
}

// node turns node i into a layer and returns how many following nodes it
// consumed too (the Add after a MatMul).
func (b *onnxBuilder) node(i int) int {
	n := b.g.Nodes[i]
	if n.Domain != "" && n.Domain != "ai.onnx" {
		b.fail(n, "domain %q is not supported", n.Domain)
		return 0
	}
	if n.OpType == "Constant" {
		if a := n.Attr("value"); a != nil && a.T != nil && len(n.Outputs) == 1 {
			b.consts[n.Outputs[0]] = a.T
			return 0
		}
		b.fail(n, "only Constant with a tensor value is supported")
		return 0
	}
	if len(n.Inputs) == 0 || n.Inputs[0] != b.cur || len(n.Outputs) < 1 {
		b.fail(n, "not part of a chain from the graph input (its first input must be %q)", b.cur)
		return 0
	}
	consumed := 0
	var layer Layer
	switch n.OpType {
	case "Conv":
		layer = b.conv(n)
	case "Gemm":
		layer = b.gemm(n)
	case "MatMul":
		layer, consumed = b.matmul(n, i)
	case "AveragePool", "MaxPool":
		layer = b.pool(n)
	case "Pad":
		b.pad(n)
	case "BatchNormalization":
		layer = b.batchNorm(n)
	case "Relu":
		layer = NewReLU(b.layerName(n, ""))
	case "Tanh":
		layer = NewTanh(b.layerName(n, ""))
	case "Flatten", "Reshape":
		layer = b.flatten(n)
	case "Dropout":
		ratio := 0.5
		if a := n.Attr("ratio"); a != nil {
			ratio = float64(a.F)
		} else if len(n.Inputs) > 1 && n.Inputs[1] != "" {
			if t := b.value(n.Inputs[1]); t != nil && t.Len() == 1 {
				ratio = t.Float64At(0)
			}
		}
		layer = NewDropout(b.layerName(n, ""), ratio, uint64(len(b.layers)))
	case "Identity":
	default:
		b.fail(n, "no trainable layer for this op")
	}
	if layer != nil {
		b.layers = append(b.layers, layer)
	}
	last := b.g.Nodes[i+consumed]
	b.cur = last.Outputs[0]
	return consumed
}

func intsAttr(n *onnx.Node, name string, def []int64) []int64 {
	if a := n.Attr(name); a != nil {
		return a.Ints
	}
	return def
}

func allEqual(v []int64, want int64) bool {
	for _, x := range v {
		if x != want {
			return false
		}
	}
	return true
}

// batchNorm makes a BatchNorm2d (in inference form: spatial, not
// training_mode) from constant scale, bias, mean and variance.
func (b *onnxBuilder) batchNorm(n *onnx.Node) Layer {
	if len(b.shape) != 3 {
		b.fail(n, "input must be [N, C, H, W], is [N %v]", b.shape)
		return nil
	}
	c := b.shape[0]
	if len(n.Inputs) != 5 {
		b.fail(n, "want 5 inputs (X, scale, B, mean, var), have %d", len(n.Inputs))
		return nil
	}
	var ts [4]*tensor.Tensor
	for i := range ts {
		ts[i] = b.value(n.Inputs[i+1])
		if t := ts[i]; t == nil || t.DType != tensor.Float32 || t.Rank() != 1 || t.Len() != c {
			b.fail(n, "input %q must be a float32 [%d] initializer", n.Inputs[i+1], c)
			return nil
		}
	}
	for _, o := range n.Outputs[1:] {
		if o != "" {
			b.fail(n, "output %q: only the first output (inference) is supported", o)
			return nil
		}
	}
	if a := n.Attr("spatial"); a != nil && a.I != 1 {
		b.fail(n, "attribute spatial %d is not supported (want 1)", a.I)
		return nil
	}
	if a := n.Attr("training_mode"); a != nil && a.I != 0 {
		b.fail(n, "attribute training_mode %d is not supported (want 0)", a.I)
		return nil
	}
	eps, mom := float32(1e-5), float32(0.9)
	if a := n.Attr("epsilon"); a != nil {
		eps = a.F
	}
	if a := n.Attr("momentum"); a != nil {
		mom = a.F
	}
	if !(eps >= 0) || math.IsInf(float64(eps), 0) || !(mom >= 0 && mom <= 1) {
		b.fail(n, "epsilon %v and momentum %v: want a finite epsilon >= 0 and a momentum in [0, 1]", eps, mom)
		return nil
	}
	l := NewBatchNorm2d(b.layerName(n, n.Inputs[1]), c)
	l.Eps, l.Momentum = eps, 1-mom // ONNX's momentum weighs the running value
	b.state[l.Weight.Name], b.state[l.Bias.Name] = ts[0], ts[1]
	copy(l.RunningMean.Value.F32, ts[2].F32)
	copy(l.RunningVar.Value.F32, ts[3].F32)
	return l
}

func (b *onnxBuilder) conv(n *onnx.Node) Layer {
	if len(n.Inputs) < 2 {
		b.fail(n, "no weight input")
		return nil
	}
	w := b.value(n.Inputs[1])
	if w == nil || w.DType != tensor.Float32 || w.Rank() != 4 || len(b.shape) != 3 || w.Shape[1] != b.shape[0] {
		b.fail(n, "weight must be a float32 [OutC, %d, K, K] initializer", b.shape[0])
		return nil
	}
	outC, inC, kh, kw := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	pads := intsAttr(n, "pads", []int64{0, 0, 0, 0})
	strides := intsAttr(n, "strides", []int64{1, 1})
	if a := n.Attr("auto_pad"); a != nil && string(a.S) != "NOTSET" {
		b.fail(n, "auto_pad %q is not supported", a.S)
	}
	if kh != kw || len(pads) != 4 || !allEqual(pads, pads[0]) || len(strides) != 2 || strides[0] != strides[1] ||
		!allEqual(intsAttr(n, "dilations", []int64{1, 1}), 1) {
		b.fail(n, "only square kernels with equal strides, symmetric equal pads and no dilation are supported")
		return nil
	}
	if a := n.Attr("group"); a != nil && a.I != 1 {
		b.fail(n, "group %d is not supported", a.I)
		return nil
	}
	if ks := intsAttr(n, "kernel_shape", nil); ks != nil && (len(ks) != 2 || ks[0] != int64(kh) || ks[1] != int64(kw)) {
		b.fail(n, "attribute kernel_shape %v does not match the weight's %dx%d kernel", ks, kh, kw)
		return nil
	}
	if kh < 1 || strides[0] < 1 || pads[0] < 0 || pads[0] > int64(kh) {
		b.fail(n, "kernel %d, stride %d and pad %d: want a kernel and stride of at least 1 and a pad from 0 to the kernel size", kh, strides[0], pads[0])
		return nil
	}
	name := b.layerName(n, n.Inputs[1])
	c := NewConv2d(name, inC, outC, kh, int(strides[0]), int(pads[0]))
	oh, ow := c.OutSize(b.shape[1], b.shape[2])
	if oh <= 0 || ow <= 0 {
		b.fail(n, "input %v is smaller than the kernel", b.shape)
		return nil
	}
	b.state[c.Weight.Name] = w
	bias := tensor.New(tensor.Float32, outC)
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		if bias = b.value(n.Inputs[2]); bias == nil || bias.Len() != outC {
			b.fail(n, "bias must be a float32 [%d] initializer", outC)
			return nil
		}
	}
	b.state[c.Bias.Name] = bias
	b.shape = []int{outC, oh, ow}
	return c
}

// linear makes a Linear layer from a [out, in] weight (transposing a
// [in, out] one when transposed is false) and an optional bias.
func (b *onnxBuilder) linear(n *onnx.Node, weightName string, w *tensor.Tensor, transposed bool, bias *tensor.Tensor) Layer {
	if len(b.shape) != 1 || w == nil || w.DType != tensor.Float32 || w.Rank() != 2 {
		b.fail(n, "want a float32 matrix initializer applied to [N, features] (have a sample shape %v)", b.shape)
		return nil
	}
	in, out := w.Shape[1], w.Shape[0]
	if !transposed {
		in, out = out, in
		t := tensor.New(tensor.Float32, out, in)
		for i := range in {
			for j := range out {
				t.F32[j*in+i] = w.F32[i*out+j]
			}
		}
		w = t
	}
	if in != b.shape[0] {
		b.fail(n, "weight takes %d features, the input has %d", in, b.shape[0])
		return nil
	}
	if bias == nil {
		bias = tensor.New(tensor.Float32, out)
	}
	if bias.DType != tensor.Float32 || bias.Len() != out {
		b.fail(n, "bias must be float32 [%d]", out)
		return nil
	}
	l := NewLinear(b.layerName(n, weightName), in, out)
	b.state[l.Weight.Name] = w
	b.state[l.Bias.Name] = tensor.FromFloat32(bias.F32, out)
	b.shape = []int{out}
	return l
}

func (b *onnxBuilder) gemm(n *onnx.Node) Layer {
	attr := func(name string, def float32) float32 {
		if a := n.Attr(name); a != nil {
			if a.Type == onnx.AttrInt {
				return float32(a.I)
			}
			return a.F
		}
		return def
	}
	if attr("alpha", 1) != 1 || attr("beta", 1) != 1 || attr("transA", 0) != 0 || len(n.Inputs) < 2 {
		b.fail(n, "only alpha = beta = 1 and transA = 0 are supported")
		return nil
	}
	var bias *tensor.Tensor
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		if bias = b.value(n.Inputs[2]); bias == nil {
			b.fail(n, "bias %q is not an initializer", n.Inputs[2])
			return nil
		}
	}
	return b.linear(n, n.Inputs[1], b.value(n.Inputs[1]), attr("transB", 0) == 1, bias)
}

func (b *onnxBuilder) matmul(n *onnx.Node, i int) (Layer, int) {
	if len(n.Inputs) != 2 {
		b.fail(n, "want 2 inputs")
		return nil, 0
	}
	var bias *tensor.Tensor
	consumed := 0
	if i+1 < len(b.g.Nodes) {
		if add := b.g.Nodes[i+1]; add.OpType == "Add" && len(add.Inputs) == 2 && add.Inputs[0] == n.Outputs[0] {
			bias, consumed = b.value(add.Inputs[1]), 1
		}
	}
	return b.linear(n, n.Inputs[1], b.value(n.Inputs[1]), false, bias), consumed
}

func (b *onnxBuilder) pool(n *onnx.Node) Layer {
	k := intsAttr(n, "kernel_shape", nil)
	strides := intsAttr(n, "strides", []int64{1, 1})
	if len(b.shape) != 3 || len(k) != 2 || k[0] != k[1] || len(strides) != 2 || strides[0] != strides[1] ||
		!allEqual(intsAttr(n, "pads", nil), 0) || !allEqual(intsAttr(n, "dilations", nil), 1) ||
		(n.Attr("ceil_mode") != nil && n.Attr("ceil_mode").I != 0) ||
		(n.Attr("auto_pad") != nil && string(n.Attr("auto_pad").S) != "NOTSET") || len(n.Outputs) > 1 {
		b.fail(n, "only square kernels with equal strides and no padding are supported")
		return nil
	}
	if k[0] < 1 || strides[0] < 1 || k[0] > int64(b.shape[1]) {
		b.fail(n, "kernel %d and stride %d over a %dx%d input: want both at least 1 and the kernel within the input", k[0], strides[0], b.shape[1], b.shape[2])
		return nil
	}
	kk, s := int(k[0]), int(strides[0])
	oh, ow := (b.shape[1]-kk)/s+1, (b.shape[2]-kk)/s+1
	if oh <= 0 || ow <= 0 {
		b.fail(n, "input %v is smaller than the kernel", b.shape)
		return nil
	}
	b.shape = []int{b.shape[0], oh, ow}
	if n.OpType == "MaxPool" {
		return NewMaxPool2d(b.layerName(n, ""), kk, s)
	}
	return NewAvgPool2d(b.layerName(n, ""), kk, s)
}

// pad accepts only a Pad that adds nothing (PyTorch writes one before
// AveragePool).
func (b *onnxBuilder) pad(n *onnx.Node) {
	if a := n.Attr("mode"); a != nil && string(a.S) != "constant" {
		b.fail(n, "only constant padding is supported")
		return
	}
	pads := intsAttr(n, "pads", nil)
	if len(n.Inputs) > 1 && n.Inputs[1] != "" {
		t := b.value(n.Inputs[1])
		if t == nil || t.DType != tensor.Int64 {
			b.fail(n, "pads must be a constant int64 tensor")
			return
		}
		pads = t.I64
	}
	if !allEqual(pads, 0) {
		b.fail(n, "only zero padding is supported (a padded pooling has no trainable layer)")
	}
}

func (b *onnxBuilder) flatten(n *onnx.Node) Layer {
	features := 1
	for _, d := range b.shape {
		features *= d
	}
	switch n.OpType {
	case "Flatten":
		if a := n.Attr("axis"); a != nil && a.I != 1 {
			b.fail(n, "only axis 1 is supported")
			return nil
		}
	case "Reshape":
		var shape *tensor.Tensor
		if len(n.Inputs) > 1 {
			shape = b.value(n.Inputs[1])
		}
		ok := shape != nil && shape.DType == tensor.Int64 && shape.Len() == 2 &&
			(shape.I64[0] == -1 || shape.I64[0] == 0) && (shape.I64[1] == -1 || shape.I64[1] == int64(features))
		if !ok {
			b.fail(n, "only a reshape to [batch, features] is supported")
			return nil
		}
	}
	b.shape = []int{features}
	return NewFlatten(b.layerName(n, ""))
}
