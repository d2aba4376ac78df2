package train

import (
	"fmt"
	"slices"

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
// float32 [N,classes] with a symbolic batch dimension "N"; the parameters
// (frozen ones too) then BatchNorm2d's running statistics as initializers
// named by their state_dict keys (copied); each layer's nodes (Conv, Relu,
// Tanh, MaxPool, AveragePool, GlobalAveragePool, Flatten, Gemm with
// transB=1, BatchNormalization, Add, Concat), named "/<layer>/<OpType>".
// Dropout is the identity at inference and is left out. The preprocessing, Prepare and
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
	for _, p := range m.allParams() {
		g.Initializers = append(g.Initializers, &onnx.Initializer{Name: p.Name, Tensor: p.Value.Clone()})
	}
	for _, p := range modelBuffers(m) {
		g.Initializers = append(g.Initializers, &onnx.Initializer{Name: p.Name, Tensor: p.Value.Clone()})
	}

	e := &exporter{g: g}
	vals := []string{InputName}
	var ins []string
	for _, n := range m.nodes {
		ins = ins[:0]
		for _, v := range n.in {
			ins = append(ins, vals[v])
		}
		if n.Layer != nil {
			vals = append(vals, n.Layer.exportONNX(e, ins[0]))
		} else {
			vals = append(vals, n.Join.exportONNX(e, ins))
		}
	}
	out := vals[len(vals)-1]
	if len(g.Nodes) == 0 || out == InputName {
		return nil, fmt.Errorf("train: export of %q: model has no layers", m.Kind)
	}
	for _, n := range g.Nodes {
		for i, v := range n.Inputs {
			if v == out {
				n.Inputs[i] = "logits"
			}
		}
		for i, v := range n.Outputs {
			if v == out {
				n.Outputs[i] = "logits"
			}
		}
	}
	outDim := int64(m.NumClasses())
	if outDim == 0 {
		return nil, fmt.Errorf("train: export of %q: output %v is not a vector of scores", m.Kind, m.OutputShape())
	}
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

// exporter collects the nodes of an export.
type exporter struct {
	g *onnx.Graph
}

// node appends node "/<layer>/<op>" reading inputs, with attributes, and
// returns the name of its output.
func (e *exporter) node(layer, op string, attrs []*onnx.Attribute, inputs ...string) string {
	name := "/" + layer + "/" + op
	out := name + "_output_0"
	e.g.Nodes = append(e.g.Nodes, &onnx.Node{Name: name, OpType: op, Inputs: slices.Clone(inputs), Outputs: []string{out}, Attrs: attrs})
	return out
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
