package train

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/onnxkit/onnxkit/tensor"
)

// InputName names a graph model's input among the values its nodes read.
const InputName = "input"

// Node is one step of a graph model: a Layer applied to one value, or a
// Join combining several. Inputs name the values it reads: InputName or
// an earlier node's name (its Layer's or Join's); no Inputs means the
// value of the node before (the model's input for the first node).
type Node struct {
	Layer  Layer
	Join   Join
	Inputs []string
}

// Apply returns the node applying l to the named value (the previous
// node's when inputs is empty).
func Apply(l Layer, inputs ...string) Node { return Node{Layer: l, Inputs: inputs} }

// Combine returns the node joining the named values with j.
func Combine(j Join, inputs ...string) Node { return Node{Join: j, Inputs: inputs} }

// gnode is a Node resolved: its inputs as value indices (0 the model's
// input, i+1 node i's output) and its output's sample shape.
type gnode struct {
	Node
	name   string
	in     []int
	shape  []int
	frozen bool
}

func (n *gnode) params() []*Param {
	if n.Layer == nil {
		return nil
	}
	return n.Layer.Params()
}

// NewModel assembles a model from a sequence of layers for samples of shape
// input (e.g. [1 28 28]): NewGraph with each layer applied to the output
// of the one before.
func NewModel(kind string, input []int, layers ...Layer) (*Model, error) {
	nodes := make([]Node, len(layers))
	for i, l := range layers {
		nodes[i] = Apply(l)
	}
	return NewGraph(kind, input, nodes...)
}

// NewGraph assembles a model from nodes in order (each reads only the
// input and earlier nodes) for samples of shape input. The last node's
// output is the model's. It checks that names (of nodes and of parameters)
// are unique, that every input names a known value, that every node's
// output is used, and that shapes fit, naming the node at fault.
func NewGraph(kind string, input []int, nodes ...Node) (*Model, error) {
	m := &Model{Kind: kind, input: append([]int(nil), input...), training: true}
	if len(input) == 0 || slices.ContainsFunc(input, func(d int) bool { return d < 1 }) {
		return nil, fmt.Errorf("train: model %q: input shape %v: want positive sizes", kind, input)
	}
	index := map[string]int{InputName: 0}
	shapes := [][]int{m.input}
	params := map[string]bool{}
	used := make([]bool, len(nodes)+1)
	for i, nd := range nodes {
		var name string
		switch {
		case (nd.Layer == nil) == (nd.Join == nil):
			return nil, fmt.Errorf("train: model %q: node %d: want a Layer or a Join, not both or neither", kind, i)
		case nd.Layer != nil:
			name = nd.Layer.Name()
		default:
			name = nd.Join.Name()
		}
		if _, dup := index[name]; dup || name == "" {
			return nil, fmt.Errorf("train: model %q: node %d: name %q is empty or used twice", kind, i, name)
		}
		g := gnode{Node: nd, name: name}
		ins := nd.Inputs
		if len(ins) == 0 {
			g.in = []int{i}
		}
		for _, in := range ins {
			v, ok := index[in]
			if !ok {
				return nil, fmt.Errorf("train: model %q: layer %q: input %q is not the model's input or an earlier node", kind, name, in)
			}
			g.in = append(g.in, v)
		}
		var err error
		if nd.Layer != nil {
			if len(g.in) != 1 {
				return nil, fmt.Errorf("train: model %q: layer %q: has %d inputs, want 1", kind, name, len(g.in))
			}
			g.shape, err = nd.Layer.OutShape(slices.Clone(shapes[g.in[0]]))
		} else {
			in := make([][]int, len(g.in))
			for k, v := range g.in {
				in[k] = slices.Clone(shapes[v])
			}
			g.shape, err = nd.Join.OutShape(in)
		}
		if err != nil {
			return nil, fmt.Errorf("train: model %q: layer %q: %w", kind, name, err)
		}
		for _, v := range g.in {
			used[v] = true
		}
		for _, p := range g.params() {
			if params[p.Name] {
				return nil, fmt.Errorf("train: model %q: parameter name %q used twice", kind, p.Name)
			}
			params[p.Name] = true
		}
		index[name] = i + 1
		shapes = append(shapes, g.shape)
		m.nodes = append(m.nodes, g)
	}
	for i := 1; i < len(nodes); i++ {
		if !used[i] {
			return nil, fmt.Errorf("train: model %q: layer %q: its output is not used (the model's output is the last node's)", kind, m.nodes[i-1].name)
		}
	}
	m.vals = make([]*tensor.Tensor, len(nodes)+1)
	m.grads = make([]*tensor.Tensor, len(nodes)+1)
	m.own = make([]tensor.Tensor, len(nodes)+1)
	m.owned = make([]bool, len(nodes)+1)
	m.plan()
	return m, nil
}

// plan sets the trainable parameters and which values need a gradient: a
// node's output does when the node has trainable parameters or one of its
// inputs needs one.
func (m *Model) plan() {
	m.params = m.params[:0]
	m.needGrad = make([]bool, len(m.nodes)+1)
	for i, n := range m.nodes {
		need := !n.frozen && len(n.params()) > 0
		for _, v := range n.in {
			need = need || m.needGrad[v]
		}
		m.needGrad[i+1] = need
		if !n.frozen {
			m.params = append(m.params, n.params()...)
		}
	}
}

// Freeze stops training every node before the one named name (a layer's
// name, or the ONNX node name it was built from): their parameters leave
// Params, get no gradient, and their BatchNorm2d layers keep their running
// statistics (they stay in evaluation mode). "" unfreezes everything.
func (m *Model) Freeze(name string) error {
	at := -1
	if name == "" {
		at = 0
	}
	if l, ok := m.sources[name]; ok {
		name = l
	}
	for i, n := range m.nodes {
		if n.name == name {
			at = i
		}
	}
	if at < 0 {
		return fmt.Errorf("train: model %q: Freeze: no node named %q", m.Kind, name)
	}
	for i := range m.nodes {
		m.nodes[i].frozen = i < at
	}
	m.plan()
	m.SetTraining(m.training)
	return nil
}

// Frozen returns the name of the first node that trains ("" when none is
// frozen).
func (m *Model) Frozen() string {
	for i, n := range m.nodes {
		if !n.frozen {
			if i == 0 {
				return ""
			}
			return n.name
		}
	}
	return ""
}

// Forward returns the logits [N, classes] for x [N, C, H, W] (a layer's
// buffer: valid until the next Forward).
func (m *Model) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if x.DType != tensor.Float32 || len(x.Shape) != len(m.input)+1 || !slices.Equal(x.Shape[1:], m.input) || !x.Valid() || x.Shape[0] == 0 {
		return nil, fmt.Errorf("train: model %q: input is %v, want float32[N,%s] with N >= 1", m.Kind, x, tensor.ShapeString(m.input))
	}
	m.vals[0] = x
	for i, n := range m.nodes {
		if n.Layer != nil {
			m.vals[i+1] = n.Layer.Forward(m.vals[n.in[0]])
			continue
		}
		m.xs = m.xs[:0]
		for _, v := range n.in {
			m.xs = append(m.xs, m.vals[v])
		}
		m.vals[i+1] = n.Join.Forward(m.xs)
	}
	return m.vals[len(m.nodes)], nil
}

// Backward back-propagates dL/dlogits [N, classes] of the last Forward and
// sets the Grad of every parameter in Params. Where a value feeds several
// nodes their gradients are summed. Nodes whose output does not depend on
// a trainable parameter are skipped, and the gradient with respect to the
// model's input is not computed.
func (m *Model) Backward(dlogits *tensor.Tensor) {
	clear(m.grads)
	last := len(m.nodes)
	m.grads[last], m.owned[last] = dlogits, false
	for i := last - 1; i >= 0; i-- {
		n, dy := &m.nodes[i], m.grads[i+1]
		if !m.needGrad[i+1] || dy == nil {
			continue
		}
		if n.Join != nil {
			for k, dx := range n.Join.Backward(dy) {
				m.accumulate(n.in[k], dx)
			}
			continue
		}
		if v := n.in[0]; m.needGrad[v] {
			m.accumulate(v, n.Layer.Backward(dy))
		} else if p, ok := n.Layer.(paramsOnly); ok {
			p.backwardParams(dy)
		} else {
			n.Layer.Backward(dy)
		}
	}
}

// accumulate adds dx to the gradient of value v: the first contribution is
// kept as it is, a second one is summed into the model's own buffer.
func (m *Model) accumulate(v int, dx *tensor.Tensor) {
	if !m.needGrad[v] {
		return
	}
	g := m.grads[v]
	if g == nil {
		m.grads[v], m.owned[v] = dx, false
		return
	}
	if !m.owned[v] {
		o := &m.own[v]
		o.Resize(tensor.Float32, g.Shape...)
		copy(o.F32, g.F32)
		m.grads[v], m.owned[v] = o, true
	}
	addTo(m.grads[v].F32, dx.F32)
}

// ReplaceHead replaces the model's last Linear layer, which must come
// after every other layer with parameters, by a new one of the same name
// and input size with classes outputs, initialized as PyTorch's
// nn.Linear (drawing from seed): what `model.fc = nn.Linear(512, classes)`
// does to a torchvision ResNet. Classes is cleared; the frozen part stays
// frozen.
func (m *Model) ReplaceHead(classes int, seed uint64) error {
	if classes < 1 || classes > maxFeatures {
		return fmt.Errorf("train: model %q: ReplaceHead(%d): want 1 to %d classes", m.Kind, classes, maxFeatures)
	}
	at := -1
	for i, n := range m.nodes {
		if _, ok := n.Layer.(*Linear); ok {
			at = i
		} else if len(n.params()) > 0 {
			at = -1
		}
	}
	if at < 0 {
		return fmt.Errorf("train: model %q: ReplaceHead: no Linear layer after the last layer with other parameters", m.Kind)
	}
	old := m.nodes[at].Layer.(*Linear)
	head := NewLinear(old.name, old.In, classes)
	initLayer(head, rand.New(rand.NewPCG(seed, 0x68656164))) // "head"
	nodes := make([]Node, len(m.nodes))
	for i, n := range m.nodes {
		nodes[i] = n.Node
		names := make([]string, len(n.in))
		for k, v := range n.in {
			names[k] = InputName
			if v > 0 {
				names[k] = m.nodes[v-1].name
			}
		}
		nodes[i].Inputs = names
	}
	nodes[at].Layer = head
	g, err := NewGraph(m.Kind, m.input, nodes...)
	if err != nil {
		return err
	}
	for i := range g.nodes {
		g.nodes[i].frozen = m.nodes[i].frozen
	}
	m.nodes, m.vals, m.grads, m.own, m.owned = g.nodes, g.vals, g.grads, g.own, g.owned
	m.Classes = nil
	m.plan()
	m.SetTraining(m.training)
	return nil
}
