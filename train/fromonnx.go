package train

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// onnxBuilders makes a graph node from each ONNX op this package can
// train; each builder lives in its layer's file.
var onnxBuilders = map[string]onnxBuildFunc{
	"Conv":               buildConv,       // conv.go
	"Gemm":               buildGemm,       // linear.go
	"MatMul":             buildMatMul,     // linear.go
	"MaxPool":            buildPool,       // pool2d.go
	"AveragePool":        buildPool,       // pool2d.go
	"Pad":                buildPad,        // pool2d.go
	"GlobalAveragePool":  buildGlobalPool, // globalpool.go
	"BatchNormalization": buildBatchNorm,  // batchnorm.go
	"Relu":               buildReLU,       // activation.go
	"Tanh":               buildTanh,       // activation.go
	"Dropout":            buildDropout,    // activation.go
	"Identity":           buildIdentity,   // activation.go
	"Flatten":            buildFlatten,    // activation.go
	"Reshape":            buildFlatten,    // activation.go
	"Add":                buildAdd,        // join.go
	"Concat":             buildConcat,     // join.go
}

// onnxBuildFunc turns ONNX node n into a graph Node whose Inputs are ONNX
// value names. A Node with neither Layer nor Join makes n's output the
// same value as Inputs[0] (Identity, Dropout-free forms, a zero Pad). The
// error says what is wrong with n, without naming it.
type onnxBuildFunc func(b *onnxBuilder, n *onnx.Node) (Node, error)

// FromONNX builds a trainable Model from an ONNX graph made of the layers
// this package knows, weights included, so that a PyTorch export can be
// fine-tuned in Go and exported again. The graph has one input [N, C, H,
// W] and one output, the value of its last node; it is a DAG of Conv
// (2-D, square kernel, equal strides, dilations and symmetric pads, any
// group), Gemm (alpha = beta = 1, transA = 0), MatMul followed by Add of a
// bias, AveragePool (no padding; PyTorch's zero Pad before it is
// accepted), MaxPool (symmetric padding), GlobalAveragePool, Relu, Tanh,
// Flatten (axis 1), Reshape to [batch, features], BatchNormalization
// (inference form, constant statistics), Add of two computed values (a
// residual connection), Concat along channels, Dropout and Identity.
// Anything else is refused with one error naming every node at fault.
// Layers are named after their ".weight" initializer, else their node.
//
// The model's outputs before any training step equal infer's on the same
// file. The preprocessing recorded by Export is read back into Normalize,
// Prepare and Classes.
func FromONNX(m *onnx.Model) (*Model, error) {
	if m == nil || m.Graph == nil {
		return nil, errors.New("train: FromONNX: model has no graph")
	}
	b := &onnxBuilder{g: m.Graph, inits: map[string]*tensor.Tensor{}, consts: map[string]*tensor.Tensor{},
		state: map[string]*tensor.Tensor{}, values: map[string]string{}, shapes: map[string][]int{},
		broken: map[string]bool{}, names: map[string]bool{InputName: true}, layers: map[string]Layer{},
		sources: map[string]string{}, matmul: map[*Linear]bool{}}
	for _, in := range m.Graph.Initializers {
		b.inits[in.Name] = in.Tensor
	}
	input, err := b.input()
	if err != nil {
		return nil, err
	}
	b.values[input.Name] = InputName
	b.shapes[InputName] = b.sample
	for _, n := range m.Graph.Nodes {
		b.node(n)
	}
	last := ""
	if len(b.nodes) > 0 {
		last = nodeName(b.nodes[len(b.nodes)-1])
	}
	if len(b.bad) == 0 && (len(m.Graph.Outputs) != 1 || last == "" || b.values[m.Graph.Outputs[0].Name] != last) {
		b.bad = append(b.bad, "the graph's one output must be the value of its last node")
	}
	if len(b.bad) > 0 {
		return nil, fmt.Errorf("train: FromONNX: cannot train this graph: %s", strings.Join(b.bad, "; "))
	}
	kind, _ := m.MetadataValue(onnx.MetaModel)
	if kind == "" {
		kind = "onnx"
	}
	model, err := NewGraph(kind, b.sample, b.nodes...)
	if err != nil {
		return nil, err
	}
	if err := model.LoadState(b.state); err != nil {
		return nil, err
	}
	model.sources = b.sources
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

func nodeName(n Node) string {
	if n.Layer != nil {
		return n.Layer.Name()
	}
	return n.Join.Name()
}

// onnxBuilder walks a graph's nodes, turning each into a graph Node.
type onnxBuilder struct {
	g      *onnx.Graph
	inits  map[string]*tensor.Tensor
	consts map[string]*tensor.Tensor // outputs of Constant nodes
	sample []int                     // shape of one input sample
	// values maps an ONNX value to the graph value (InputName or a
	// layer's name) that holds it; shapes gives a graph value's sample
	// shape; broken marks the outputs of nodes that failed, so that the
	// nodes reading them are not reported again.
	values map[string]string
	shapes map[string][]int
	broken map[string]bool
	names  map[string]bool // names taken
	nodes  []Node
	layers map[string]Layer // by name
	// sources maps ONNX node names to layer names; matmul marks the
	// Linear layers made from a MatMul, whose bias is the next Add.
	sources map[string]string
	matmul  map[*Linear]bool
	state   map[string]*tensor.Tensor
	bad     []string
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
		if d.Value <= 0 || d.Value > maxFeatures {
			return nil, fmt.Errorf("train: FromONNX: input %q: C, H and W must be fixed, from 1 to %d", in.Name, maxFeatures)
		}
		b.sample = append(b.sample, int(d.Value))
	}
	return in, nil
}

func (b *onnxBuilder) fail(n *onnx.Node, format string, args ...any) {
	b.bad = append(b.bad, fmt.Sprintf("node %q (%s): %s", n.Name, n.OpType, fmt.Sprintf(format, args...)))
	for _, o := range n.Outputs {
		b.broken[o] = true
	}
}

// value returns a constant input: an initializer or a Constant's output.
func (b *onnxBuilder) value(name string) *tensor.Tensor {
	if t := b.inits[name]; t != nil {
		return t
	}
	return b.consts[name]
}

// shape returns the sample shape of a computed ONNX value (nil if it is
// not one).
func (b *onnxBuilder) shape(name string) []int {
	return b.shapes[b.values[name]]
}

// layerName is the prefix of a ".weight" initializer, else one made from
// the node's name ("/layer1/layer1.0/relu/Relu" gives "layer1.0.relu",
// "/layer2/downsample/downsample.0/Conv" "layer2.downsample.0") or
// its op and position; a name taken already gets a number.
func (b *onnxBuilder) layerName(n *onnx.Node, weight string) string {
	name, ok := strings.CutSuffix(weight, ".weight")
	if !ok || name == "" {
		var parts []string
		for _, p := range strings.Split(n.Name, "/") {
			if p != "" {
				parts = append(parts, p)
			}
		}
		if len(parts) > 0 && parts[len(parts)-1] == n.OpType {
			parts = parts[:len(parts)-1]
		}
		// PyTorch names a Sequential's children "parent.i": drop a
		// scope that the next one repeats.
		var keep []string
		for i, p := range parts {
			if i+1 < len(parts) && strings.HasPrefix(parts[i+1], p+".") {
				continue
			}
			keep = append(keep, p)
		}
		name = strings.Join(keep, ".")
		if name == "" {
			name = strings.ToLower(n.OpType) + strconv.Itoa(len(b.nodes))
		}
	}
	for base, i := name, 1; b.names[name]; i++ {
		name = base + "_" + strconv.Itoa(i)
	}
	b.names[name] = true
	return name
}

// node turns ONNX node n into a graph node, or records why it cannot.
func (b *onnxBuilder) node(n *onnx.Node) {
	if n.Domain != "" && n.Domain != "ai.onnx" {
		b.fail(n, "domain %q is not supported", n.Domain)
		return
	}
	if n.OpType == "Constant" {
		if a := n.Attr("value"); a != nil && a.T != nil && len(n.Outputs) == 1 {
			b.consts[n.Outputs[0]] = a.T
			return
		}
		b.fail(n, "only Constant with a tensor value is supported")
		return
	}
	build := onnxBuilders[n.OpType]
	if build == nil {
		b.fail(n, "no trainable layer for this op")
		return
	}
	if len(n.Outputs) < 1 || len(n.Inputs) < 1 {
		b.fail(n, "want at least one input and one output")
		return
	}
	for _, in := range n.Inputs {
		if b.broken[in] {
			for _, o := range n.Outputs {
				b.broken[o] = true
			}
			return
		}
	}
	if b.value(n.Inputs[0]) == nil && b.values[n.Inputs[0]] == "" {
		b.fail(n, "input %q is not the graph's input or an earlier node's output", n.Inputs[0])
		return
	}
	nd, err := build(b, n)
	if err != nil {
		b.fail(n, "%v", err)
		return
	}
	if nd.Layer == nil && nd.Join == nil {
		b.values[n.Outputs[0]] = b.values[nd.Inputs[0]]
		return
	}
	var ins []string
	var shapes [][]int
	for _, in := range nd.Inputs {
		v := b.values[in]
		if v == "" {
			b.fail(n, "input %q is not the graph's input or an earlier node's output", in)
			return
		}
		ins = append(ins, v)
		shapes = append(shapes, b.shapes[v])
	}
	nd.Inputs = ins
	var out []int
	if nd.Layer != nil {
		out, err = nd.Layer.OutShape(shapes[0])
		b.layers[nd.Layer.Name()] = nd.Layer
	} else {
		out, err = nd.Join.OutShape(shapes)
	}
	if err != nil {
		b.fail(n, "%v", err)
		return
	}
	name := nodeName(nd)
	b.nodes = append(b.nodes, nd)
	b.values[n.Outputs[0]], b.shapes[name] = name, out
	if n.Name != "" {
		b.sources[n.Name] = name
	}
}

// alias is the Node of a build that makes a node's output the value in.
func alias(in string) Node { return Node{Inputs: []string{in}} }

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
