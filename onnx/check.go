package onnx

import (
	"fmt"
)

// MaxIRVersion is the newest IR version Check accepts (IR_VERSION of
// ONNX 1.22).
const MaxIRVersion = 13

// Check checks the structure of a model, in the spirit of onnx.checker:
//
//   - the IR version is set (3 or later, when opset_import appeared) and not
//     newer than MaxIRVersion;
//   - opset_import is not empty, imports each domain once at version 1 or
//     later, and imports the domain of every node (the default domain
//     "" for standard operators);
//   - every node input is produced before use, by a graph input, an
//     initializer, an earlier node or (in a subgraph) a value visible from
//     an outer graph; "" stands for an absent optional input;
//   - no value is produced twice, and no subgraph shadows an outer value;
//   - node names are unique where given, op types are set, attribute names
//     are set and unique per node;
//   - every graph output is produced;
//   - an initializer that is also a graph input matches its declared type
//     and shape; declared shapes are valid.
//
// Errors are *FormatError values that name the node at fault, like
// `node "/conv1/Conv" (Conv): input "x" is not produced before use`, or an
// *UnsupportedError for an IR version newer than MaxIRVersion. Check does
// not check operators' attributes or types. It is safe on any Model,
// including ones built by hand with nil fields.
func Check(m *Model) error {
	if m == nil {
		return checkErr("nil model")
	}
	if m.IRVersion < 3 {
		return checkErr("ir_version %d: want 3 or later", m.IRVersion)
	}
	if m.IRVersion > MaxIRVersion {
		return &UnsupportedError{Msg: fmt.Sprintf("ir_version %d is newer than %d", m.IRVersion, MaxIRVersion)}
	}
	imported, err := checkOpsets(m.OpsetImports, "")
	if err != nil {
		return err
	}
	if len(imported) == 0 {
		return checkErr("opset_import is empty")
	}
	if m.Graph == nil {
		return checkErr("model has no graph")
	}
	c := &checker{imported: imported}
	if err := c.graph(m.Graph, nil, ""); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, f := range m.Functions {
		if f == nil {
			return checkErr("function %d is nil", i)
		}
		key := f.Domain + "\x00" + f.Name + "\x00" + f.Overload
		if seen[key] {
			return checkErr("function %q of domain %q defined twice", f.Name, f.Domain)
		}
		seen[key] = true
		if err := checkFunction(f, imported); err != nil {
			return err
		}
	}
	return nil
}

func checkErr(format string, args ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, args...)}
}

// checkOpsets checks a list of opset imports and returns them as a map.
func checkOpsets(os []OpsetImport, ctx string) (map[string]int64, error) {
	imported := map[string]int64{}
	for _, o := range os {
		if _, dup := imported[o.Domain]; dup {
			return nil, checkErr("%sopset_import: domain %q imported twice", ctx, o.Domain)
		}
		if o.Version < 1 {
			return nil, checkErr("%sopset_import: domain %q at version %d", ctx, o.Domain, o.Version)
		}
		imported[o.Domain] = o.Version
	}
	return imported, nil
}

// scope is the set of values visible in a graph: its own and, through
// parent, those of the outer graphs at the point the subgraph is used.
type scope struct {
	names  map[string]string // value name -> what produces it
	parent *scope
}

func (s *scope) lookup(name string) (string, bool) {
	for ; s != nil; s = s.parent {
		if p, ok := s.names[name]; ok {
			return p, true
		}
	}
	return "", false
}

type checker struct {
	imported map[string]int64
}

// define adds a value to the graph's scope, reporting one produced twice
// in the graph or shadowing an outer value. who says what defines it, like
// `node "relu" (Relu): output`; producer is how later errors name it.
func (s *scope) define(name, producer, who string) error {
	if p, ok := s.names[name]; ok {
		return checkErr("%s %q is already produced by %s", who, name, p)
	}
	if p, ok := s.parent.lookup(name); ok {
		return checkErr("%s %q shadows a value of an outer graph (%s)", who, name, p)
	}
	s.names[name] = producer
	return nil
}

// graph checks a graph whose outer scope is outer (nil for the main
// graph). ctx prefixes errors and names the node holding a subgraph.
func (c *checker) graph(g *Graph, outer *scope, ctx string) error {
	if g == nil {
		return checkErr("%snil graph", ctx)
	}
	s := &scope{names: map[string]string{}, parent: outer}
	inputs := map[string]*ValueInfo{}
	for i, v := range g.Inputs {
		if v == nil || v.Name == "" {
			return checkErr("%sinput %d has no name", ctx, i)
		}
		if err := checkValueInfo(v, ctx+"input"); err != nil {
			return err
		}
		if err := s.define(v.Name, "graph input", ctx+"input"); err != nil {
			return err
		}
		inputs[v.Name] = v
	}
	inits := map[string]bool{}
	for i, in := range g.Initializers {
		if in == nil || in.Name == "" {
			return checkErr("%sinitializer %d has no name", ctx, i)
		}
		if inits[in.Name] {
			return checkErr("%sinitializer %q defined twice", ctx, in.Name)
		}
		inits[in.Name] = true
		if in.Tensor == nil || !in.Tensor.Valid() {
			return checkErr("%sinitializer %q: invalid tensor", ctx, in.Name)
		}
		if v, ok := inputs[in.Name]; ok {
			if err := checkInitializerInput(in, v, ctx); err != nil {
				return err
			}
			continue
		}
		if err := s.define(in.Name, "initializer", ctx+"initializer"); err != nil {
			return err
		}
	}
	for i, v := range g.ValueInfo {
		if v == nil || v.Name == "" {
			return checkErr("%svalue_info %d has no name", ctx, i)
		}
		if err := checkValueInfo(v, ctx+"value_info"); err != nil {
			return err
		}
	}

	// Where each value is produced, to tell a value used too early from
	// one that does not exist.
	later := map[string]string{}
	for i, n := range g.Nodes {
		if n == nil {
			return checkErr("%snode %d is nil", ctx, i)
		}
		for _, o := range n.Outputs {
			if _, ok := later[o]; !ok && o != "" {
				later[o] = nodeLabel(n, i)
			}
		}
	}
	names := map[string]int{}
	for i, n := range g.Nodes {
		label := nodeLabel(n, i)
		nctx := ctx + label + ": "
		if n.OpType == "" {
			return checkErr("%snode %d has no op_type", ctx, i)
		}
		if n.Name != "" {
			if j, dup := names[n.Name]; dup {
				return checkErr("%s%s: name also used by node %d", ctx, label, j)
			}
			names[n.Name] = i
		}
		if _, ok := c.imported[n.Domain]; !ok {
			return checkErr("%sdomain %q is not in opset_import", nctx, n.Domain)
		}
		for _, in := range n.Inputs {
			if in == "" {
				continue
			}
			if _, ok := s.lookup(in); ok {
				continue
			}
			if p, ok := later[in]; ok {
				return checkErr("%sinput %q is not produced before use (%s produces it later)", nctx, in, p)
			}
			return checkErr("%sinput %q is not produced before use", nctx, in)
		}
		attrs := map[string]bool{}
		for j, a := range n.Attrs {
			if a == nil || a.Name == "" {
				return checkErr("%sattribute %d has no name", nctx, j)
			}
			if attrs[a.Name] {
				return checkErr("%sattribute %q given twice", nctx, a.Name)
			}
			attrs[a.Name] = true
			actx := fmt.Sprintf("%sattribute %q: ", nctx, a.Name)
			if _, ok := attrTypeNames[a.Type]; !ok || (a.Type == AttrUndefined && a.RefAttrName == "") {
				return checkErr("%sinvalid type %v", actx, a.Type)
			}
			switch a.Type {
			case AttrGraph:
				if err := c.graph(a.G, s, actx); err != nil {
					return err
				}
			case AttrGraphs:
				for k, sub := range a.Graphs {
					if err := c.graph(sub, s, fmt.Sprintf("%sgraph %d: ", actx, k)); err != nil {
						return err
					}
				}
			}
		}
		for _, o := range n.Outputs {
			if o == "" {
				continue
			}
			if err := s.define(o, label, nctx+"output"); err != nil {
				return err
			}
		}
	}
	for i, v := range g.Outputs {
		if v == nil || v.Name == "" {
			return checkErr("%soutput %d has no name", ctx, i)
		}
		if err := checkValueInfo(v, ctx+"output"); err != nil {
			return err
		}
		if _, ok := s.lookup(v.Name); !ok {
			return checkErr("%soutput %q is not produced", ctx, v.Name)
		}
	}
	return nil
}

// checkValueInfo checks a declared shape.
func checkValueInfo(v *ValueInfo, what string) error {
	if !v.HasShape && len(v.Shape) > 0 {
		return checkErr("%s %q: dims given but HasShape is false", what, v.Name)
	}
	for i, d := range v.Shape {
		if d.Param == "" && d.Value < -1 {
			return checkErr("%s %q: dim %d is %d", what, v.Name, i, d.Value)
		}
	}
	return nil
}

// checkInitializerInput checks an initializer against the graph input of
// the same name, which gives its default value.
func checkInitializerInput(in *Initializer, v *ValueInfo, ctx string) error {
	if v.ElemType != 0 && v.ElemType != ElemTypeOf(in.Tensor.DType) {
		return checkErr("%sinitializer %q: %v, but the graph input declares %s",
			ctx, in.Name, in.Tensor.DType, ElemTypeName(v.ElemType))
	}
	if !v.HasShape {
		return nil
	}
	shape := in.Tensor.Shape
	if len(shape) != len(v.Shape) {
		return checkErr("%sinitializer %q: shape %v, but the graph input declares rank %d",
			ctx, in.Name, shape, len(v.Shape))
	}
	for i, d := range v.Shape {
		if d.Param == "" && d.Value >= 0 && d.Value != int64(shape[i]) {
			return checkErr("%sinitializer %q: shape %v, but the graph input declares dim %d = %d",
				ctx, in.Name, shape, i, d.Value)
		}
	}
	return nil
}

// checkFunction checks a model-local function's body.
func checkFunction(f *Function, modelImports map[string]int64) error {
	ctx := fmt.Sprintf("function %q: ", f.Name)
	if f.Name == "" {
		return checkErr("function with no name")
	}
	own, err := checkOpsets(f.OpsetImports, ctx)
	if err != nil {
		return err
	}
	imported := map[string]int64{}
	for d, v := range modelImports {
		imported[d] = v
	}
	for d, v := range own {
		imported[d] = v
	}
	g := &Graph{Nodes: f.Nodes}
	for _, in := range f.Inputs {
		g.Inputs = append(g.Inputs, &ValueInfo{Name: in})
	}
	for _, out := range f.Outputs {
		g.Outputs = append(g.Outputs, &ValueInfo{Name: out})
	}
	c := &checker{imported: imported}
	return c.graph(g, nil, ctx)
}
