package train

import (
	"fmt"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// ProducerVersion is the producer_version written into exported models.
const ProducerVersion = "0.1.0"

// ExportOptions configure Export. The zero value exports at opset 13.
type ExportOptions struct {
	// Opset is the version of the default ONNX domain, 11 to 18; 0 means 13.
	Opset int64
}

// irVersionFor is the IR version of the ONNX release that introduced each
// opset (ONNX's docs/Versioning.md): the oldest IR that can hold it.
func irVersionFor(opset int64) int64 {
	switch {
	case opset <= 11:
		return 6
	case opset <= 14:
		return 7
	default:
		return 8
	}
}

// Export returns the model as an ONNX graph, the way torch.onnx.export
// writes it: input "input" float32 [N,C,H,W] and output "logits"
// float32 [N,classes] with a symbolic batch dimension "N"; the parameters as
// initializers named by their state_dict keys (copied); nodes Conv, Relu,
// Tanh, MaxPool, AveragePool (pads 0, so without PyTorch's separate Pad),
// Flatten, Gemm (transB=1) and BatchNormalization (with the running
// statistics as initializers), named "/<layer>/<OpType>". Dropout is the
// identity at inference and is left out. The preprocessing, Prepare and
// Classes are recorded in metadata_props (onnx.PreprocessMetadata).
func (m *Model) Export(opt ExportOptions) (*onnx.Model, error) {
	opset := opt.Opset
	if opset == 0 {
		opset = 13
	}
	if opset < 11 || opset > 18 {
		return nil, fmt.Errorf("train: export of %q: opset %d not supported (want 11 to 18)", m.Kind, opset)
	}
	g := &onnx.Graph{Name: "main_graph"}
	f32 := onnx.ElemTypeOf(tensor.Float32)
	in := &onnx.ValueInfo{Name: "input", DType: tensor.Float32, ElemType: f32, HasShape: true,
		Shape: []onnx.Dim{{Param: "N"}}}
	for _, d := range m.input {
		in.Shape = append(in.Shape, onnx.Dim{Value: int64(d)})
	}
	g.Inputs = []*onnx.ValueInfo{in}
	for _, p := range m.params {
		g.Initializers = append(g.Initializers, &onnx.Initializer{Name: p.Name, Tensor: p.Value.Clone()})
	}

	cur := "input"
	var outDim int64 = -1
	for _, l := range m.layers {
		var n *onnx.Node
		switch l := l.(type) {
		case *Conv2d:
			n = node(l.name, "Conv", cur, l.Weight.Name, l.Bias.Name)
			n.Attrs = []*onnx.Attribute{
				ints("dilations", 1, 1), intAttr("group", 1), ints("kernel_shape", l.KH, l.KW),
				ints("pads", l.PadH, l.PadW, l.PadH, l.PadW), ints("strides", l.StrideH, l.StrideW),
			}
		case *Linear:
			n = node(l.name, "Gemm", cur, l.Weight.Name, l.Bias.Name)
			n.Attrs = []*onnx.Attribute{floatAttr("alpha", 1), floatAttr("beta", 1), intAttr("transB", 1)}
			outDim = int64(l.Out)
		case *ReLU:
			n = node(l.name, "Relu", cur)
		case *Tanh:
			n = node(l.name, "Tanh", cur)
		case *MaxPool2d:
			n = node(l.name, "MaxPool", cur)
			n.Attrs = []*onnx.Attribute{intAttr("ceil_mode", 0), ints("kernel_shape", l.K, l.K),
				ints("pads", 0, 0, 0, 0), ints("strides", l.Stride, l.Stride)}
		case *AvgPool2d:
			n = node(l.name, "AveragePool", cur)
			n.Attrs = []*onnx.Attribute{intAttr("ceil_mode", 0), intAttr("count_include_pad", 0),
				ints("kernel_shape", l.K, l.K), ints("pads", 0, 0, 0, 0), ints("strides", l.Stride, l.Stride)}
		case *Flatten:
			n = node(l.name, "Flatten", cur)
			n.Attrs = []*onnx.Attribute{intAttr("axis", 1)}
		case *BatchNorm2d:
			n = node(l.name, "BatchNormalization", cur, l.Weight.Name, l.Bias.Name, l.RunningMean.Name, l.RunningVar.Name)
			// ONNX's momentum weighs the running value: 1 - PyTorch's.
			n.Attrs = []*onnx.Attribute{floatAttr("epsilon", l.Eps), floatAttr("momentum", 1-l.Momentum)}
			for _, p := range l.buffers() {
				g.Initializers = append(g.Initializers, &onnx.Initializer{Name: p.Name, Tensor: p.Value.Clone()})
			}
		case *Dropout:
			continue
		default:
			return nil, fmt.Errorf("train: export of %q: layer %q (%T) has no ONNX form", m.Kind, l.Name(), l)
		}
		g.Nodes = append(g.Nodes, n)
		cur = n.Outputs[0]
	}
	if len(g.Nodes) == 0 {
		return nil, fmt.Errorf("train: export of %q: model has no layers", m.Kind)
	}
	g.Nodes[len(g.Nodes)-1].Outputs[0] = "logits"
	g.Outputs = []*onnx.ValueInfo{{Name: "logits", DType: tensor.Float32, ElemType: f32, HasShape: true,
		Shape: []onnx.Dim{{Param: "N"}, {Value: outDim}}}}

	pre := onnx.Preprocess{Mean: 0, Std: 1, Prepare: m.Prepare, Classes: m.Classes}
	if n := m.Normalize; n != nil {
		pre.Mean, pre.Std = n.Mean, n.Std
	}
	if m.Classes != nil && int64(len(m.Classes)) != outDim {
		return nil, fmt.Errorf("train: export of %q: %d class names for %d scores", m.Kind, len(m.Classes), outDim)
	}
	return &onnx.Model{
		IRVersion:       irVersionFor(opset),
		OpsetImports:    []onnx.OpsetImport{{Domain: "", Version: opset}},
		ProducerName:    "onnxkit",
		ProducerVersion: ProducerVersion,
		Metadata:        onnx.PreprocessMetadata(m.Kind, pre),
		Graph:           g,
	}, nil
}

// WriteONNX exports the model (see Export) and writes it to path
// atomically with onnx.WriteFile.
func (m *Model) WriteONNX(path string, opt ExportOptions) error {
	om, err := m.Export(opt)
	if err != nil {
		return err
	}
	if err := onnx.WriteFile(path, om); err != nil {
		return fmt.Errorf("train: writing %s: %w", path, err)
	}
	return nil
}

func node(layer, op string, inputs ...string) *onnx.Node {
	name := "/" + layer + "/" + op
	return &onnx.Node{Name: name, OpType: op, Inputs: inputs, Outputs: []string{name + "_output_0"}}
}

func ints(name string, v ...int) *onnx.Attribute {
	a := &onnx.Attribute{Name: name, Type: onnx.AttrInts}
	for _, x := range v {
		a.Ints = append(a.Ints, int64(x))
	}
	return a
}

func intAttr(name string, v int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInt, I: v}
}

func floatAttr(name string, v float32) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrFloat, F: v}
}
