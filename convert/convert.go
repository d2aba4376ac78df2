package convert

import (
	"fmt"
	"sort"
	"strings"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Opsets Convert converts between, both ways.
const (
	MinOpset = 7
	MaxOpset = 21
)

// Options say what Convert does. The zero value converts nothing: it
// returns a copy of the model without unused constants.
type Options struct {
	// Opset is the target version of the default domain, MinOpset to
	// MaxOpset; 0 keeps the model's, or takes the Target's when the
	// model's is newer than the Target runs.
	Opset int64
	// Target names the runtime to rewrite for (see Targets): its
	// lowerings run after the opset conversion.
	Target string
	// Batch, when positive, fixes the symbolic first dimension of the
	// graph inputs and outputs to this size, which lets rewrites that need
	// static shapes (a Reshape with -1) apply.
	Batch int
}

// Error reports the nodes Convert could not rewrite, all of them.
type Error struct {
	// Problems name the node (or the model-level thing) and say why, one
	// per entry.
	Problems []string
}

// Error lists the problems, one per line after the first.
func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "convert: " + e.Problems[0]
	}
	return fmt.Sprintf("convert: %d problems:\n\t%s", len(e.Problems), strings.Join(e.Problems, "\n\t"))
}

// Convert returns m rewritten as o asks. It is safe on any model that
// onnx.Check accepts; m itself is not modified (tensors are shared).
func Convert(m *onnx.Model, o Options) (*onnx.Model, error) {
	if err := onnx.Check(m); err != nil {
		return nil, err
	}
	var tg *target
	if o.Target != "" {
		t, ok := targets[o.Target]
		if !ok {
			return nil, fmt.Errorf("convert: unknown target %q (want %s)", o.Target, strings.Join(Targets(), ", "))
		}
		tg = &t
	}
	if o.Batch < 0 {
		return nil, fmt.Errorf("convert: batch %d is negative", o.Batch)
	}
	from, ok := m.Opset("")
	if !ok {
		return nil, &Error{Problems: []string{"the model does not import the default domain"}}
	}
	to := o.Opset
	if to == 0 {
		to = from
		if tg != nil && to > tg.maxOpset {
			to = tg.maxOpset
		}
	}
	if to < MinOpset || to > MaxOpset {
		return nil, fmt.Errorf("convert: target opset %d outside %d to %d", to, MinOpset, MaxOpset)
	}
	if tg != nil && to > tg.maxOpset {
		return nil, fmt.Errorf("convert: target %s runs opsets up to %d, not %d", o.Target, tg.maxOpset, to)
	}
	if from != to && (from < MinOpset || from > MaxOpset) {
		return nil, &Error{Problems: []string{fmt.Sprintf("source opset %d outside %d to %d", from, MinOpset, MaxOpset)}}
	}
	out := copyModel(m)
	r := newRewriter(out)
	if o.Batch > 0 {
		r.fixBatch(o.Batch)
	}
	r.inferShapes()
	r.each(func(n *onnx.Node) ([]*onnx.Node, error) { return r.convertNode(n, from, to) })
	if err := r.err(); err != nil {
		return nil, err
	}
	if from != to {
		setOpset(out, from, to)
	}
	if tg != nil {
		for _, name := range tg.lowerings {
			r.inferShapes()
			l := lowerings[name]
			r.each(func(n *onnx.Node) ([]*onnx.Node, error) { return l(r, n) })
			if err := r.err(); err != nil {
				return nil, err
			}
		}
		r.inferShapes()
		r.each(func(n *onnx.Node) ([]*onnx.Node, error) { return tg.check(r, n) })
		if err := r.err(); err != nil {
			return nil, err
		}
	}
	r.prune()
	if err := onnx.Check(out); err != nil {
		return nil, fmt.Errorf("convert: the rewritten model is malformed: %w", err)
	}
	return out, nil
}

// setOpset sets the default domain's version and the IR version of the
// ONNX release that introduced it (ONNX's docs/Versioning.md), at least 4 so
// that initializers need not be graph inputs; converting up never lowers
// the IR version.
func setOpset(m *onnx.Model, from, to int64) {
	for i := range m.OpsetImports {
		if m.OpsetImports[i].Domain == "" {
			m.OpsetImports[i].Version = to
		}
	}
	ir := int64(4)
	for _, e := range [...]struct{ opset, ir int64 }{{10, 5}, {11, 6}, {12, 7}, {15, 8}, {19, 9}, {21, 10}} {
		if to >= e.opset {
			ir = e.ir
		}
	}
	if len(m.Functions) > 0 && ir < 8 {
		ir = 8 // model-local functions appeared in IR 8
	}
	if to > from && m.IRVersion > ir {
		ir = m.IRVersion
	}
	m.IRVersion = ir
}

// copyModel copies what rewrites change: the model, its graph, nodes and
// attribute lists (subgraphs too). Tensors are shared and never modified.
func copyModel(m *onnx.Model) *onnx.Model {
	c := *m
	c.OpsetImports = append([]onnx.OpsetImport(nil), m.OpsetImports...)
	c.Graph = copyGraph(m.Graph)
	return &c
}

func copyGraph(g *onnx.Graph) *onnx.Graph {
	c := *g
	c.Nodes = make([]*onnx.Node, len(g.Nodes))
	for i, n := range g.Nodes {
		nc := *n
		nc.Inputs = append([]string(nil), n.Inputs...)
		nc.Outputs = append([]string(nil), n.Outputs...)
		nc.Attrs = make([]*onnx.Attribute, len(n.Attrs))
		for j, a := range n.Attrs {
			ac := *a
			if a.G != nil {
				ac.G = copyGraph(a.G)
			}
			if a.Graphs != nil {
				ac.Graphs = make([]*onnx.Graph, len(a.Graphs))
				for k, sg := range a.Graphs {
					ac.Graphs[k] = copyGraph(sg)
				}
			}
			nc.Attrs[j] = &ac
		}
		c.Nodes[i] = &nc
	}
	c.Initializers = append([]*onnx.Initializer(nil), g.Initializers...)
	c.Inputs = copyValueInfos(g.Inputs)
	c.Outputs = copyValueInfos(g.Outputs)
	c.ValueInfo = copyValueInfos(g.ValueInfo)
	return &c
}

func copyValueInfos(vs []*onnx.ValueInfo) []*onnx.ValueInfo {
	out := make([]*onnx.ValueInfo, len(vs))
	for i, v := range vs {
		c := *v
		c.Shape = append([]onnx.Dim(nil), v.Shape...)
		out[i] = &c
	}
	return out
}

// rewriter edits one graph: it knows its constants, the names in use and,
// after inferShapes, the static shapes it could work out.
type rewriter struct {
	m        *onnx.Model
	g        *onnx.Graph
	consts   map[string]*tensor.Tensor // initializers that are not inputs, Constant outputs
	names    map[string]bool           // every value and node name
	shapes   map[string][]int64        // known ranks; -1 for an unknown dimension
	dtypes   map[string]tensor.DType   // known element types
	problems []string
}

func newRewriter(m *onnx.Model) *rewriter {
	r := &rewriter{m: m, g: m.Graph, consts: map[string]*tensor.Tensor{}, names: map[string]bool{}}
	inputs := map[string]bool{}
	for _, v := range r.g.Inputs {
		inputs[v.Name] = true
		r.names[v.Name] = true
	}
	for _, in := range r.g.Initializers {
		r.names[in.Name] = true
		if !inputs[in.Name] {
			r.consts[in.Name] = in.Tensor
		}
	}
	var walk func(g *onnx.Graph)
	walk = func(g *onnx.Graph) {
		for _, n := range g.Nodes {
			r.names[n.Name] = true
			for _, o := range n.Outputs {
				r.names[o] = true
			}
			for _, a := range n.Attrs {
				if a.G != nil {
					walk(a.G)
				}
				for _, sg := range a.Graphs {
					walk(sg)
				}
			}
		}
	}
	walk(r.g)
	for _, n := range r.g.Nodes {
		r.noteConstant(n)
	}
	return r
}

// noteConstant records the value of a Constant node of the main graph.
func (r *rewriter) noteConstant(n *onnx.Node) {
	if n.OpType != "Constant" || n.Domain != "" || len(n.Outputs) != 1 || len(n.Attrs) != 1 {
		return
	}
	a := n.Attrs[0]
	var t *tensor.Tensor
	switch a.Name {
	case "value":
		t = a.T
	case "value_float":
		t = tensor.FromFloat32([]float32{a.F})
	case "value_floats":
		t = tensor.FromFloat32(append([]float32(nil), a.Floats...), len(a.Floats))
	case "value_int":
		t = tensor.FromInt64([]int64{a.I})
	case "value_ints":
		t = tensor.FromInt64(append([]int64(nil), a.Ints...), len(a.Ints))
	}
	if t != nil {
		r.consts[n.Outputs[0]] = t
	}
}

// fail records a problem with node n.
func (r *rewriter) fail(n *onnx.Node, format string, args ...any) {
	r.problems = append(r.problems, nodeLabel(n)+": "+fmt.Sprintf(format, args...))
}

func nodeLabel(n *onnx.Node) string {
	if n.Name != "" {
		return fmt.Sprintf("node %q (%s)", n.Name, n.OpType)
	}
	if len(n.Outputs) > 0 {
		return fmt.Sprintf("node with output %q (%s)", n.Outputs[0], n.OpType)
	}
	return fmt.Sprintf("node (%s)", n.OpType)
}

func (r *rewriter) err() error {
	if len(r.problems) == 0 {
		return nil
	}
	e := &Error{Problems: r.problems}
	r.problems = nil
	return e
}

// each replaces every node of the main graph by what f returns for it (f
// may change the node in place and return it with nodes around it). An
// error is recorded against the node, which is kept.
func (r *rewriter) each(f func(n *onnx.Node) ([]*onnx.Node, error)) {
	var out []*onnx.Node
	for _, n := range r.g.Nodes {
		var ns []*onnx.Node
		var err error
		if n.Domain == "" && (len(n.Outputs) == 0 || len(n.Inputs) < minInputs[n.OpType]) {
			err = fmt.Errorf("%d inputs and %d outputs: too few", len(n.Inputs), len(n.Outputs))
		} else {
			ns, err = f(n)
		}
		if err != nil {
			r.fail(n, "%v", err)
			out = append(out, n)
			continue
		}
		out = append(out, ns...)
	}
	r.g.Nodes = out
}

// minInputs is the fewest inputs of the ops the rewrites read more than
// the first input of; every other op with inputs needs at least one.
var minInputs = map[string]int{"Gemm": 2, "MatMul": 2, "Conv": 2, "QuantizeLinear": 2, "DequantizeLinear": 2}

func init() {
	noInputs := map[string]bool{"Constant": true, "RandomNormal": true, "RandomUniform": true,
		"SequenceEmpty": true}
	for op := range sinceVersions {
		if _, ok := minInputs[op]; !ok && !noInputs[op] {
			minInputs[op] = 1
		}
	}
}

// fresh returns an unused name made from base.
func (r *rewriter) fresh(base string) string {
	name := base
	for i := 1; r.names[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	r.names[name] = true
	return name
}

// addConst adds t as an initializer and returns its name.
func (r *rewriter) addConst(base string, t *tensor.Tensor) string {
	name := r.fresh(base)
	r.g.Initializers = append(r.g.Initializers, &onnx.Initializer{Name: name, Tensor: t})
	r.consts[name] = t
	return name
}

// newNode makes a node named after base whose single output is fresh.
func (r *rewriter) newNode(op, base string, inputs []string, attrs ...*onnx.Attribute) *onnx.Node {
	name := r.fresh(base + "/" + op)
	out := r.fresh(name + "_output_0")
	return &onnx.Node{Name: name, OpType: op, Inputs: inputs, Outputs: []string{out}, Attrs: attrs}
}

// constant returns the value of a constant input, or nil.
func (r *rewriter) constant(name string) *tensor.Tensor {
	if name == "" {
		return nil
	}
	return r.consts[name]
}

// constInts reads input i of n as a constant integer list: ok is false
// when the input is present but not a constant of integers.
func (r *rewriter) constInts(n *onnx.Node, i int) (v []int64, present, ok bool) {
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return nil, false, true
	}
	t := r.constant(n.Inputs[i])
	if t == nil {
		return nil, true, false
	}
	switch t.DType {
	case tensor.Int64:
		return append([]int64(nil), t.I64...), true, true
	case tensor.Int32:
		v = make([]int64, len(t.I32))
		for i, x := range t.I32 {
			v[i] = int64(x)
		}
		return v, true, true
	}
	return nil, true, false
}

// constFloat reads input i of n as a constant scalar (float types).
func (r *rewriter) constFloat(n *onnx.Node, i int) (v float32, present, ok bool) {
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return 0, false, true
	}
	t := r.constant(n.Inputs[i])
	if t == nil || t.Len() != 1 {
		return 0, true, false
	}
	switch t.DType {
	case tensor.Float32:
		return t.F32[0], true, true
	case tensor.Float64:
		return float32(t.F64[0]), true, true
	}
	return 0, true, false
}

// prune drops initializers and Constant nodes that nothing reads any more.
func (r *rewriter) prune() {
	used := map[string]bool{}
	var walk func(g *onnx.Graph)
	walk = func(g *onnx.Graph) {
		for _, n := range g.Nodes {
			for _, in := range n.Inputs {
				used[in] = true
			}
			for _, a := range n.Attrs {
				if a.G != nil {
					walk(a.G)
				}
				for _, sg := range a.Graphs {
					walk(sg)
				}
			}
		}
		for _, o := range g.Outputs {
			used[o.Name] = true
		}
	}
	walk(r.g)
	nodes := r.g.Nodes[:0]
	for _, n := range r.g.Nodes {
		if n.OpType == "Constant" && n.Domain == "" && len(n.Outputs) == 1 && !used[n.Outputs[0]] {
			continue
		}
		nodes = append(nodes, n)
	}
	r.g.Nodes = nodes
	inputs := map[string]bool{}
	for _, v := range r.g.Inputs {
		inputs[v.Name] = true
	}
	inits := r.g.Initializers[:0]
	for _, in := range r.g.Initializers {
		if used[in.Name] || inputs[in.Name] {
			inits = append(inits, in)
		}
	}
	r.g.Initializers = inits
	vis := r.g.ValueInfo[:0]
	produced := map[string]bool{}
	for _, n := range r.g.Nodes {
		for _, o := range n.Outputs {
			produced[o] = true
		}
	}
	for _, v := range r.g.ValueInfo {
		if produced[v.Name] {
			vis = append(vis, v)
		}
	}
	r.g.ValueInfo = vis
}

// fixBatch gives the symbolic first dimension of the graph inputs and
// outputs the size b.
func (r *rewriter) fixBatch(b int) {
	for _, vs := range [][]*onnx.ValueInfo{r.g.Inputs, r.g.Outputs} {
		for _, v := range vs {
			if v.HasShape && len(v.Shape) > 0 && (v.Shape[0].Param != "" || v.Shape[0].Value < 0) {
				v.Shape[0] = onnx.Dim{Value: int64(b)}
			}
		}
	}
}

// Attribute helpers.

func attrInt(n *onnx.Node, name string, def int64) int64 {
	if a := n.Attr(name); a != nil && a.Type == onnx.AttrInt {
		return a.I
	}
	return def
}

func attrInts(n *onnx.Node, name string) ([]int64, bool) {
	if a := n.Attr(name); a != nil && a.Type == onnx.AttrInts {
		return a.Ints, true
	}
	return nil, false
}

func attrFloat(n *onnx.Node, name string, def float32) float32 {
	if a := n.Attr(name); a != nil && a.Type == onnx.AttrFloat {
		return a.F
	}
	return def
}

func attrString(n *onnx.Node, name, def string) string {
	if a := n.Attr(name); a != nil && a.Type == onnx.AttrString {
		return string(a.S)
	}
	return def
}

// setAttr replaces or adds an attribute.
func setAttr(n *onnx.Node, a *onnx.Attribute) {
	for i, b := range n.Attrs {
		if b.Name == a.Name {
			n.Attrs[i] = a
			return
		}
	}
	n.Attrs = append(n.Attrs, a)
}

func delAttr(n *onnx.Node, name string) {
	attrs := n.Attrs[:0]
	for _, a := range n.Attrs {
		if a.Name != name {
			attrs = append(attrs, a)
		}
	}
	n.Attrs = attrs
}

func intsAttr(name string, v []int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
}

func intAttr(name string, v int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInt, I: v}
}

func floatAttr(name string, v float32) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrFloat, F: v}
}

// setInput sets input i of n, growing the list with absent inputs.
func setInput(n *onnx.Node, i int, name string) {
	for len(n.Inputs) <= i {
		n.Inputs = append(n.Inputs, "")
	}
	n.Inputs[i] = name
}

// trimInputs drops absent inputs at the end.
func trimInputs(n *onnx.Node) {
	for len(n.Inputs) > 0 && n.Inputs[len(n.Inputs)-1] == "" {
		n.Inputs = n.Inputs[:len(n.Inputs)-1]
	}
}

// Targets lists the names Options.Target accepts.
func Targets() []string {
	var s []string
	for k := range targets {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}
