package infer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// UnsupportedOp is one node that the registry cannot run.
type UnsupportedOp struct {
	Node    string // node name (may be empty)
	OpType  string
	Domain  string // "" for the default ONNX domain
	Version int64  // opset version of Domain that the model imports (0 if none)
	Reason  string // optional detail, e.g. "training_mode=1"
}

// String describes the node: name, op type, domain, opset version and reason.
func (u UnsupportedOp) String() string {
	dom := u.Domain
	if dom == "" {
		dom = "ai.onnx"
	}
	s := fmt.Sprintf("node %q (%s, domain %s, opset %d)", u.Node, u.OpType, dom, u.Version)
	if u.Reason != "" {
		s += ": " + u.Reason
	}
	return s
}

// UnsupportedOpsError reports every node of a model that uses an op type,
// domain, opset version or attribute value that this package does not
// implement. The model itself may be valid.
type UnsupportedOpsError struct {
	Ops []UnsupportedOp
}

// Error lists every unsupported node on one line.
func (e *UnsupportedOpsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "infer: %d unsupported node", len(e.Ops))
	if len(e.Ops) != 1 {
		b.WriteByte('s')
	}
	for i, u := range e.Ops {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(u.String())
	}
	return b.String()
}

// unsupportedError is returned by a builder for a node whose attribute values
// select behavior that is not implemented (as opposed to a malformed node).
// NewSession collects these into an UnsupportedOpsError.
type unsupportedError struct{ reason string }

func (e *unsupportedError) Error() string { return "unsupported: " + e.reason }

// unsupportedf returns a node error that NewSession reports as an
// UnsupportedOp with the given reason.
func unsupportedf(n *onnx.Node, format string, args ...any) error {
	return &nodeError{Name: n.Name, OpType: n.OpType, Err: &unsupportedError{fmt.Sprintf(format, args...)}}
}

// MaxOpset is the newest version of the default ONNX operator set that
// this package implements (ONNX 1.22's); a model importing a newer one is
// refused with an UnsupportedOpsError naming each of its nodes, since any of
// their ops may have changed.
const MaxOpset = 27

// lookup returns the builder for an op type of the default domain at the
// given opset version, or nil.
func lookup(opType string, opset int64) builder {
	for _, v := range registry[opType] {
		if opset >= v.since && (v.until == 0 || opset <= v.until) {
			return v.build
		}
	}
	return nil
}

// isDefaultDomain reports whether a node or opset_import domain names the
// default ONNX operator set.
func isDefaultDomain(d string) bool { return d == "" || d == "ai.onnx" }

// planNode is one node ready to run: its op and the slots of its arguments.
type planNode struct {
	node *onnx.Node
	op   op
	in   []int // slot of each input; -1 for an absent optional input
	out  []int // slot of each output, trailing absent outputs trimmed; -1 for an absent one
	// narrow is the float16 or bfloat16 type of the constant inputs that
	// widenConsts made float32, Invalid if none (see narrow.go).
	narrow tensor.DType
}

// graphInput is a graph input the caller may feed.
type graphInput struct {
	info     *onnx.ValueInfo
	slot     int
	optional bool // backed by an initializer: feeding it overrides the initializer
}

// graphOutput is a graph output.
type graphOutput struct {
	info *onnx.ValueInfo
	slot int
}

// plan is the load-time result: the ops in execution order and where every
// value lives. A slot is one named value of the graph.
type plan struct {
	opset   int64
	nodes   []planNode
	nslots  int
	consts  []*tensor.Tensor // by slot: initializer tensor, or nil
	inputs  []graphInput
	inIndex map[string]int // input name -> index in inputs
	outputs []graphOutput
	views   []int // slots whose tensors share another slot's elements (see markViews)
	buf     []int // by slot: the run buffer holding a node output (see assignBuffers); -1 for none
	nbufs   int
}

// buildPlan checks a model and builds its plan.
func buildPlan(m *onnx.Model) (*plan, error) {
	if m == nil || m.Graph == nil {
		return nil, fmt.Errorf("infer: model has no graph")
	}
	opset, ok := m.Opset("")
	if !ok {
		opset, ok = m.Opset("ai.onnx")
	}
	if !ok {
		return nil, fmt.Errorf("infer: model does not import the default ONNX opset")
	}
	if m.IRVersion > onnx.MaxIRVersion {
		return nil, &onnx.UnsupportedError{Msg: fmt.Sprintf("ir_version %d is newer than %d, the newest this package reads", m.IRVersion, onnx.MaxIRVersion)}
	}
	g := m.Graph
	p := &plan{opset: opset, inIndex: make(map[string]int)}
	slots := make(map[string]int)
	newSlot := func(name string) int {
		s := p.nslots
		slots[name] = s
		p.nslots++
		p.consts = append(p.consts, nil)
		return s
	}

	for _, init := range g.Initializers {
		if init == nil || init.Tensor == nil {
			return nil, fmt.Errorf("infer: initializer without a tensor")
		}
		if init.Name == "" {
			return nil, fmt.Errorf("infer: initializer without a name")
		}
		if _, dup := slots[init.Name]; dup {
			return nil, fmt.Errorf("infer: initializer %q defined twice", init.Name)
		}
		if !init.Tensor.Valid() {
			return nil, fmt.Errorf("infer: initializer %q: %d-element data for shape %v", init.Name, init.Tensor.Len(), init.Tensor.Shape)
		}
		p.consts[newSlot(init.Name)] = init.Tensor
	}
	for _, vi := range g.Inputs {
		if vi == nil || vi.Name == "" {
			return nil, fmt.Errorf("infer: graph input without a name")
		}
		if _, dup := p.inIndex[vi.Name]; dup {
			return nil, fmt.Errorf("infer: graph input %q listed twice", vi.Name)
		}
		s, isInit := slots[vi.Name]
		if !isInit {
			s = newSlot(vi.Name)
		}
		p.inIndex[vi.Name] = len(p.inputs)
		p.inputs = append(p.inputs, graphInput{info: vi, slot: s, optional: isInit})
	}

	// Resolve every node: support first, so that one error lists them all.
	var unsupported []UnsupportedOp
	builders := make([]builder, len(g.Nodes))
	for i, n := range g.Nodes {
		if n == nil {
			return nil, fmt.Errorf("infer: graph node %d is missing", i)
		}
		if !isDefaultDomain(n.Domain) {
			v, _ := m.Opset(n.Domain)
			unsupported = append(unsupported, UnsupportedOp{Node: n.Name, OpType: n.OpType, Domain: n.Domain, Version: v})
			continue
		}
		if opset > MaxOpset {
			unsupported = append(unsupported, UnsupportedOp{Node: n.Name, OpType: n.OpType, Version: opset,
				Reason: fmt.Sprintf("opset %d is newer than %d, the newest this package implements", opset, MaxOpset)})
			continue
		}
		b := lookup(n.OpType, opset)
		if b == nil {
			unsupported = append(unsupported, UnsupportedOp{Node: n.Name, OpType: n.OpType, Version: opset})
			continue
		}
		builders[i] = b
	}

	// Build ops and wire slots in file order, which must be topological.
	producedLater := make(map[string]int) // output name -> index of the node producing it
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o != "" {
				if _, seen := producedLater[o]; !seen {
					producedLater[o] = i
				}
			}
		}
	}
	var firstErr error
	for i, n := range g.Nodes {
		pn := planNode{node: n}
		if builders[i] != nil {
			o, err := safeBuild(builders[i], n, opset)
			var ue *unsupportedError
			switch {
			case err == nil && o == nil:
				err = errorf(n, "builder returned no op")
			case errors.As(err, &ue):
				unsupported = append(unsupported, UnsupportedOp{Node: n.Name, OpType: n.OpType, Version: opset, Reason: ue.reason})
				err = nil
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
			pn.op = o
		}
		for _, name := range n.Inputs {
			if name == "" {
				pn.in = append(pn.in, -1)
				continue
			}
			s, ok := slots[name]
			if !ok {
				if j, later := producedLater[name]; later && j >= i {
					return nil, errorf(n, "input %q is produced by node %q, which comes later (graph is not topologically sorted)", name, g.Nodes[j].Name)
				}
				return nil, errorf(n, "input %q is not defined by any initializer, graph input or earlier node", name)
			}
			pn.in = append(pn.in, s)
		}
		last := -1
		for j, name := range n.Outputs {
			if name != "" {
				last = j
			}
		}
		for _, name := range n.Outputs[:last+1] {
			if name == "" {
				pn.out = append(pn.out, -1)
				continue
			}
			if _, dup := slots[name]; dup {
				return nil, errorf(n, "output %q is already defined", name)
			}
			s := newSlot(name)
			pn.out = append(pn.out, s)
		}
		p.nodes = append(p.nodes, pn)
	}
	if len(unsupported) > 0 {
		return nil, &UnsupportedOpsError{Ops: unsupported}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	p.widenConsts()
	if err := p.checkConsts(); err != nil {
		return nil, err
	}

	seenOut := make(map[string]bool)
	for _, vi := range g.Outputs {
		if vi == nil || vi.Name == "" {
			return nil, fmt.Errorf("infer: graph output without a name")
		}
		if seenOut[vi.Name] {
			return nil, fmt.Errorf("infer: graph output %q listed twice", vi.Name)
		}
		seenOut[vi.Name] = true
		s, ok := slots[vi.Name]
		if !ok {
			return nil, fmt.Errorf("infer: graph output %q is not computed by any node", vi.Name)
		}
		p.outputs = append(p.outputs, graphOutput{info: vi, slot: s})
	}
	if optimizePlans {
		p.optimize()
	}
	p.assignBuffers()
	return p, nil
}

// safeBuild calls a builder, turning a panic into an error naming the node.
func safeBuild(b builder, n *onnx.Node, opset int64) (o op, err error) {
	defer func() {
		if r := recover(); r != nil {
			o, err = nil, errorf(n, "internal error while loading: %v", r)
		}
	}()
	return b(n, opset)
}

// constChecker is an op that checks the inputs known at load (constant
// weights against its attributes, say) and may prepare them; consts has
// one entry per input, nil where the value is not constant.
type constChecker interface {
	checkConsts(consts []*tensor.Tensor) error
}

// checkConsts hands each constChecker its constant inputs.
func (p *plan) checkConsts() error {
	for _, pn := range p.nodes {
		c, ok := pn.op.(constChecker)
		if !ok {
			continue
		}
		consts := make([]*tensor.Tensor, len(pn.in))
		for i, s := range pn.in {
			consts[i] = p.constant(s)
		}
		if err := c.checkConsts(consts); err != nil {
			return errorf(pn.node, "%v", err)
		}
	}
	return nil
}
