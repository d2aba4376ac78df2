package onnx

import (
	"fmt"

	"github.com/onnxkit/onnxkit/internal/onnxpb"
)

// normDomain maps the long spelling of the default domain to "".
func normDomain(s string) string {
	if s == "ai.onnx" {
		return ""
	}
	return s
}

func (d *decoder) model(mp *onnxpb.ModelProto) (*Model, error) {
	m := &Model{
		IRVersion:       mp.GetIrVersion(),
		ProducerName:    mp.GetProducerName(),
		ProducerVersion: mp.GetProducerVersion(),
		Domain:          mp.GetDomain(),
		ModelVersion:    mp.GetModelVersion(),
		DocString:       mp.GetDocString(),
		OpsetImports:    opsets(mp.GetOpsetImport()),
		Metadata:        pairs(mp.GetMetadataProps()),
	}
	if mp.GetGraph() == nil {
		return nil, d.formatError(nil, "model has no graph")
	}
	g, err := d.graph(mp.GetGraph(), 1, "")
	if err != nil {
		return nil, err
	}
	m.Graph = g
	for i, fp := range mp.GetFunctions() {
		f, err := d.function(fp, i)
		if err != nil {
			return nil, err
		}
		m.Functions = append(m.Functions, f)
	}
	for _, tp := range mp.GetTrainingInfo() {
		b, err := marshal(tp)
		if err != nil {
			return nil, err
		}
		m.trainingInfo = append(m.trainingInfo, b)
	}
	return m, nil
}

func opsets(ps []*onnxpb.OperatorSetIdProto) []OpsetImport {
	var out []OpsetImport
	for _, p := range ps {
		out = append(out, OpsetImport{Domain: normDomain(p.GetDomain()), Version: p.GetVersion()})
	}
	return out
}

func pairs(ps []*onnxpb.StringStringEntryProto) []StringPair {
	var out []StringPair
	for _, p := range ps {
		out = append(out, StringPair{Key: p.GetKey(), Value: p.GetValue()})
	}
	return out
}

// graph converts a graph at nesting depth depth (the main graph is 1).
// ctx prefixes error messages: it names the node and attribute holding a
// subgraph, and is empty for the main graph.
func (d *decoder) graph(gp *onnxpb.GraphProto, depth int, ctx string) (*Graph, error) {
	if depth > d.maxDepth {
		return nil, d.formatError(nil, "%ssubgraphs nested deeper than %d levels", ctx, d.maxDepth)
	}
	g := &Graph{Name: gp.GetName(), DocString: gp.GetDocString()}
	for i, tp := range gp.GetInitializer() {
		label := fmt.Sprintf("%sinitializer %d", ctx, i)
		if tp.GetName() != "" {
			label = fmt.Sprintf("%sinitializer %q", ctx, tp.GetName())
		}
		t, err := d.tensor(tp, label)
		if err != nil {
			return nil, err
		}
		g.Initializers = append(g.Initializers, &Initializer{Name: tp.GetName(), DocString: tp.GetDocString(), Tensor: t})
	}
	if sp := gp.GetSparseInitializer(); len(sp) > 0 {
		return nil, d.unsupported("%ssparse initializer %q", ctx, sp[0].GetValues().GetName())
	}
	var err error
	if g.Inputs, err = d.valueInfos(gp.GetInput(), ctx+"input"); err != nil {
		return nil, err
	}
	if g.Outputs, err = d.valueInfos(gp.GetOutput(), ctx+"output"); err != nil {
		return nil, err
	}
	if g.ValueInfo, err = d.valueInfos(gp.GetValueInfo(), ctx+"value_info"); err != nil {
		return nil, err
	}
	if g.Nodes, err = d.nodes(gp.GetNode(), depth, ctx); err != nil {
		return nil, err
	}
	return g, nil
}

func (d *decoder) nodes(nps []*onnxpb.NodeProto, depth int, ctx string) ([]*Node, error) {
	var out []*Node
	for i, np := range nps {
		n := &Node{
			Name:      np.GetName(),
			OpType:    np.GetOpType(),
			Domain:    normDomain(np.GetDomain()),
			Inputs:    np.GetInput(),
			Outputs:   np.GetOutput(),
			DocString: np.GetDocString(),
		}
		nctx := ctx + nodeLabel(n, i) + ": "
		for _, ap := range np.GetAttribute() {
			a, err := d.attribute(ap, depth, nctx)
			if err != nil {
				return nil, err
			}
			n.Attrs = append(n.Attrs, a)
		}
		out = append(out, n)
	}
	return out, nil
}

// nodeLabel names a node in errors: `node "/conv1/Conv" (Conv)`, or by its
// index when it has no name.
func nodeLabel(n *Node, i int) string {
	if n.Name != "" {
		return fmt.Sprintf("node %q (%s)", n.Name, n.OpType)
	}
	return fmt.Sprintf("node %d (%s)", i, n.OpType)
}

func (d *decoder) valueInfos(vps []*onnxpb.ValueInfoProto, what string) ([]*ValueInfo, error) {
	var out []*ValueInfo
	for i, vp := range vps {
		label := fmt.Sprintf("%s %d", what, i)
		if vp.GetName() != "" {
			label = fmt.Sprintf("%s %q", what, vp.GetName())
		}
		v, err := d.valueInfo(vp, label)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (d *decoder) valueInfo(vp *onnxpb.ValueInfoProto, what string) (*ValueInfo, error) {
	v := &ValueInfo{Name: vp.GetName(), DocString: vp.GetDocString()}
	tp := vp.GetType()
	if tp == nil || tp.GetValue() == nil {
		return v, nil
	}
	tt := tp.GetTensorType()
	if tt == nil {
		b, err := marshal(tp)
		if err != nil {
			return nil, err
		}
		v.otherType = b
		return v, nil
	}
	v.ElemType = tt.GetElemType()
	v.DType = DTypeOf(v.ElemType)
	if sp := tt.GetShape(); sp != nil {
		v.HasShape = true
		v.Shape = make([]Dim, 0, len(sp.GetDim()))
		for i, dp := range sp.GetDim() {
			switch x := dp.GetValue().(type) {
			case *onnxpb.TensorShapeProto_Dimension_DimValue:
				if x.DimValue < 0 {
					return nil, d.formatError(nil, "%s: dim %d is negative (%d)", what, i, x.DimValue)
				}
				v.Shape = append(v.Shape, Dim{Value: x.DimValue})
			case *onnxpb.TensorShapeProto_Dimension_DimParam:
				v.Shape = append(v.Shape, Dim{Value: -1, Param: x.DimParam})
			default:
				v.Shape = append(v.Shape, Dim{Value: -1})
			}
		}
	}
	return v, nil
}

// attribute converts a node or function attribute; subgraphs are one
// level deeper than depth.
func (d *decoder) attribute(ap *onnxpb.AttributeProto, depth int, ctx string) (*Attribute, error) {
	a := &Attribute{
		Name:        ap.GetName(),
		Type:        AttrType(ap.GetType()),
		DocString:   ap.GetDocString(),
		RefAttrName: ap.GetRefAttrName(),
	}
	actx := fmt.Sprintf("%sattribute %q", ctx, a.Name)
	if a.Type == AttrUndefined {
		// Files from before IR version 3 may leave the type out; infer it
		// from the one field that is set, as onnx.checker does.
		a.Type = inferAttrType(ap)
		if a.Type == AttrUndefined && a.RefAttrName == "" {
			return nil, d.formatError(nil, "%s: no type and no value", actx)
		}
	}
	switch a.Type {
	case AttrFloat:
		a.F = ap.GetF()
	case AttrInt:
		a.I = ap.GetI()
	case AttrString:
		a.S = ap.GetS()
	case AttrFloats:
		a.Floats = ap.GetFloats()
	case AttrInts:
		a.Ints = ap.GetInts()
	case AttrStrings:
		a.Strings = ap.GetStrings()
	case AttrTensor:
		if ap.GetT() == nil {
			if a.RefAttrName != "" {
				break
			}
			return nil, d.formatError(nil, "%s: type tensor but no tensor", actx)
		}
		t, err := d.tensor(ap.GetT(), actx)
		if err != nil {
			return nil, err
		}
		a.T = t
	case AttrTensors:
		for i, tp := range ap.GetTensors() {
			t, err := d.tensor(tp, fmt.Sprintf("%s: tensor %d", actx, i))
			if err != nil {
				return nil, err
			}
			a.Tensors = append(a.Tensors, t)
		}
	case AttrGraph:
		if ap.GetG() == nil {
			if a.RefAttrName != "" {
				break
			}
			return nil, d.formatError(nil, "%s: type graph but no graph", actx)
		}
		g, err := d.graph(ap.GetG(), depth+1, actx+": ")
		if err != nil {
			return nil, err
		}
		a.G = g
	case AttrGraphs:
		for i, gp := range ap.GetGraphs() {
			g, err := d.graph(gp, depth+1, fmt.Sprintf("%s: graph %d: ", actx, i))
			if err != nil {
				return nil, err
			}
			a.Graphs = append(a.Graphs, g)
		}
	case AttrUndefined:
		// A reference to a function attribute of unstated type.
	default:
		switch ap.GetType() {
		case onnxpb.AttributeProto_SPARSE_TENSOR, onnxpb.AttributeProto_SPARSE_TENSORS:
			return nil, d.unsupported("%s: sparse tensor attributes", actx)
		case onnxpb.AttributeProto_TYPE_PROTO, onnxpb.AttributeProto_TYPE_PROTOS:
			return nil, d.unsupported("%s: type attributes", actx)
		}
		return nil, d.formatError(nil, "%s: unknown attribute type %d", actx, int32(ap.GetType()))
	}
	return a, nil
}

// inferAttrType guesses the type of an attribute whose type field is not
// set from the value field that is. Zero scalars cannot be told apart from
// unset ones in proto3, so an attribute holding only 0 stays undefined.
func inferAttrType(ap *onnxpb.AttributeProto) AttrType {
	switch {
	case ap.GetT() != nil:
		return AttrTensor
	case ap.GetG() != nil:
		return AttrGraph
	case len(ap.GetFloats()) > 0:
		return AttrFloats
	case len(ap.GetInts()) > 0:
		return AttrInts
	case len(ap.GetStrings()) > 0:
		return AttrStrings
	case len(ap.GetTensors()) > 0:
		return AttrTensors
	case len(ap.GetGraphs()) > 0:
		return AttrGraphs
	case len(ap.GetS()) > 0:
		return AttrString
	case ap.GetI() != 0:
		return AttrInt
	case ap.GetF() != 0:
		return AttrFloat
	}
	return AttrUndefined
}

func (d *decoder) function(fp *onnxpb.FunctionProto, i int) (*Function, error) {
	f := &Function{
		Name:         fp.GetName(),
		Domain:       fp.GetDomain(),
		Overload:     fp.GetOverload(),
		Inputs:       fp.GetInput(),
		Outputs:      fp.GetOutput(),
		Attributes:   fp.GetAttribute(),
		OpsetImports: opsets(fp.GetOpsetImport()),
		DocString:    fp.GetDocString(),
	}
	ctx := fmt.Sprintf("function %d: ", i)
	if f.Name != "" {
		ctx = fmt.Sprintf("function %q: ", f.Name)
	}
	for _, ap := range fp.GetAttributeProto() {
		a, err := d.attribute(ap, 1, ctx)
		if err != nil {
			return nil, err
		}
		f.AttributeDefaults = append(f.AttributeDefaults, a)
	}
	var err error
	if f.ValueInfo, err = d.valueInfos(fp.GetValueInfo(), ctx+"value_info"); err != nil {
		return nil, err
	}
	if f.Nodes, err = d.nodes(fp.GetNode(), 1, ctx); err != nil {
		return nil, err
	}
	return f, nil
}
