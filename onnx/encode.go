package onnx

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/onnxkit/onnxkit/internal/atomicfile"
	"github.com/onnxkit/onnxkit/internal/onnxpb"
)

// Encode serializes m as a ModelProto, the content of a .onnx file. Tensors
// are written with their elements in raw_data, little-endian. Output is
// deterministic: the same model always gives the same bytes.
//
// What Decode drops is not written back: doc strings and metadata of nodes,
// graphs and value infos beyond those in the Model types, dimension
// denotations, quantization annotations and unknown fields.
func Encode(m *Model) ([]byte, error) {
	mp, err := encodeModel(m)
	if err != nil {
		return nil, err
	}
	return marshal(mp)
}

// WriteFile encodes m and writes it to path atomically: the data goes to a
// temporary file in the same folder, which is synced and then renamed over
// path. On failure path is unchanged and no temporary file is left behind.
func WriteFile(path string, m *Model) error {
	data, err := Encode(m)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data)
}

func encodeModel(m *Model) (*onnxpb.ModelProto, error) {
	if m == nil {
		return nil, fmt.Errorf("onnx: encode: nil model")
	}
	if m.Graph == nil {
		return nil, fmt.Errorf("onnx: encode: model has no graph")
	}
	mp := &onnxpb.ModelProto{
		IrVersion:       m.IRVersion,
		ProducerName:    m.ProducerName,
		ProducerVersion: m.ProducerVersion,
		Domain:          m.Domain,
		ModelVersion:    m.ModelVersion,
		DocString:       m.DocString,
		OpsetImport:     opsetsToProto(m.OpsetImports),
		MetadataProps:   pairsToProto(m.Metadata),
	}
	g, err := graphToProto(m.Graph, "")
	if err != nil {
		return nil, err
	}
	mp.Graph = g
	for i, f := range m.Functions {
		fp, err := functionToProto(f, i)
		if err != nil {
			return nil, err
		}
		mp.Functions = append(mp.Functions, fp)
	}
	for _, b := range m.trainingInfo {
		tp := new(onnxpb.TrainingInfoProto)
		if err := proto.Unmarshal(b, tp); err != nil {
			return nil, fmt.Errorf("onnx: encode training info: %w", err)
		}
		mp.TrainingInfo = append(mp.TrainingInfo, tp)
	}
	return mp, nil
}

func opsetsToProto(os []OpsetImport) []*onnxpb.OperatorSetIdProto {
	var out []*onnxpb.OperatorSetIdProto
	for _, o := range os {
		out = append(out, &onnxpb.OperatorSetIdProto{Domain: o.Domain, Version: o.Version})
	}
	return out
}

func pairsToProto(ps []StringPair) []*onnxpb.StringStringEntryProto {
	var out []*onnxpb.StringStringEntryProto
	for _, p := range ps {
		out = append(out, &onnxpb.StringStringEntryProto{Key: p.Key, Value: p.Value})
	}
	return out
}

// graphToProto converts a graph; ctx prefixes errors as in decoder.graph.
func graphToProto(g *Graph, ctx string) (*onnxpb.GraphProto, error) {
	if g == nil {
		return nil, fmt.Errorf("onnx: encode: %snil graph", ctx)
	}
	gp := &onnxpb.GraphProto{Name: g.Name, DocString: g.DocString}
	for i, in := range g.Initializers {
		if in == nil {
			return nil, fmt.Errorf("onnx: encode: %sinitializer %d is nil", ctx, i)
		}
		tp, err := tensorToProto(in.Name, in.Tensor, fmt.Sprintf("%sinitializer %q", ctx, in.Name))
		if err != nil {
			return nil, err
		}
		tp.DocString = in.DocString
		gp.Initializer = append(gp.Initializer, tp)
	}
	var err error
	if gp.Input, err = valueInfosToProto(g.Inputs, ctx+"input"); err != nil {
		return nil, err
	}
	if gp.Output, err = valueInfosToProto(g.Outputs, ctx+"output"); err != nil {
		return nil, err
	}
	if gp.ValueInfo, err = valueInfosToProto(g.ValueInfo, ctx+"value_info"); err != nil {
		return nil, err
	}
	if gp.Node, err = nodesToProto(g.Nodes, ctx); err != nil {
		return nil, err
	}
	return gp, nil
}

func nodesToProto(ns []*Node, ctx string) ([]*onnxpb.NodeProto, error) {
	var out []*onnxpb.NodeProto
	for i, n := range ns {
		if n == nil {
			return nil, fmt.Errorf("onnx: encode: %snode %d is nil", ctx, i)
		}
		np := &onnxpb.NodeProto{
			Name:      n.Name,
			OpType:    n.OpType,
			Domain:    n.Domain,
			Input:     n.Inputs,
			Output:    n.Outputs,
			DocString: n.DocString,
		}
		nctx := ctx + nodeLabel(n, i) + ": "
		for _, a := range n.Attrs {
			ap, err := attributeToProto(a, nctx)
			if err != nil {
				return nil, err
			}
			np.Attribute = append(np.Attribute, ap)
		}
		out = append(out, np)
	}
	return out, nil
}

func valueInfosToProto(vs []*ValueInfo, what string) ([]*onnxpb.ValueInfoProto, error) {
	var out []*onnxpb.ValueInfoProto
	for i, v := range vs {
		if v == nil {
			return nil, fmt.Errorf("onnx: encode: %s %d is nil", what, i)
		}
		vp := &onnxpb.ValueInfoProto{Name: v.Name, DocString: v.DocString}
		switch {
		case v.otherType != nil:
			tp := new(onnxpb.TypeProto)
			if err := proto.Unmarshal(v.otherType, tp); err != nil {
				return nil, fmt.Errorf("onnx: encode: %s %q: %w", what, v.Name, err)
			}
			vp.Type = tp
		case v.ElemType != 0 || v.DType != 0 || v.HasShape:
			elem := v.ElemType
			if elem == 0 {
				elem = ElemTypeOf(v.DType)
			}
			tt := &onnxpb.TypeProto_Tensor{ElemType: elem}
			if v.HasShape {
				tt.Shape = &onnxpb.TensorShapeProto{Dim: make([]*onnxpb.TensorShapeProto_Dimension, 0, len(v.Shape))}
				for _, d := range v.Shape {
					dp := new(onnxpb.TensorShapeProto_Dimension)
					switch {
					case d.Param != "":
						dp.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d.Param}
					case d.Value >= 0:
						dp.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d.Value}
					}
					tt.Shape.Dim = append(tt.Shape.Dim, dp)
				}
			}
			vp.Type = &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: tt}}
		}
		out = append(out, vp)
	}
	return out, nil
}

func attributeToProto(a *Attribute, ctx string) (*onnxpb.AttributeProto, error) {
	if a == nil {
		return nil, fmt.Errorf("onnx: encode: %snil attribute", ctx)
	}
	actx := fmt.Sprintf("%sattribute %q", ctx, a.Name)
	ap := &onnxpb.AttributeProto{
		Name:        a.Name,
		Type:        onnxpb.AttributeProto_AttributeType(a.Type),
		DocString:   a.DocString,
		RefAttrName: a.RefAttrName,
	}
	switch a.Type {
	case AttrFloat:
		ap.F = a.F
	case AttrInt:
		ap.I = a.I
	case AttrString:
		ap.S = a.S
	case AttrFloats:
		ap.Floats = a.Floats
	case AttrInts:
		ap.Ints = a.Ints
	case AttrStrings:
		ap.Strings = a.Strings
	case AttrTensor:
		if a.T == nil && a.RefAttrName != "" {
			break
		}
		tp, err := tensorToProto("", a.T, actx)
		if err != nil {
			return nil, err
		}
		ap.T = tp
	case AttrTensors:
		for i, t := range a.Tensors {
			tp, err := tensorToProto("", t, fmt.Sprintf("%s: tensor %d", actx, i))
			if err != nil {
				return nil, err
			}
			ap.Tensors = append(ap.Tensors, tp)
		}
	case AttrGraph:
		if a.G == nil && a.RefAttrName != "" {
			break
		}
		gp, err := graphToProto(a.G, actx+": ")
		if err != nil {
			return nil, err
		}
		ap.G = gp
	case AttrGraphs:
		for i, g := range a.Graphs {
			gp, err := graphToProto(g, fmt.Sprintf("%s: graph %d: ", actx, i))
			if err != nil {
				return nil, err
			}
			ap.Graphs = append(ap.Graphs, gp)
		}
	case AttrUndefined:
		if a.RefAttrName == "" {
			return nil, fmt.Errorf("onnx: encode: %s: undefined type", actx)
		}
	default:
		return nil, fmt.Errorf("onnx: encode: %s: unknown type %v", actx, a.Type)
	}
	return ap, nil
}

func functionToProto(f *Function, i int) (*onnxpb.FunctionProto, error) {
	if f == nil {
		return nil, fmt.Errorf("onnx: encode: function %d is nil", i)
	}
	ctx := fmt.Sprintf("function %q: ", f.Name)
	fp := &onnxpb.FunctionProto{
		Name:        f.Name,
		Domain:      f.Domain,
		Overload:    f.Overload,
		Input:       f.Inputs,
		Output:      f.Outputs,
		Attribute:   f.Attributes,
		OpsetImport: opsetsToProto(f.OpsetImports),
		DocString:   f.DocString,
	}
	for _, a := range f.AttributeDefaults {
		ap, err := attributeToProto(a, ctx)
		if err != nil {
			return nil, err
		}
		fp.AttributeProto = append(fp.AttributeProto, ap)
	}
	var err error
	if fp.ValueInfo, err = valueInfosToProto(f.ValueInfo, ctx+"value_info"); err != nil {
		return nil, err
	}
	if fp.Node, err = nodesToProto(f.Nodes, ctx); err != nil {
		return nil, err
	}
	return fp, nil
}
