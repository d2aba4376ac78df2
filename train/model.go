package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/tensor"
)

// The tutorial's models, by the names New and the CLI use.
const (
	MLP    = "mlp"
	CNN    = "cnn"
	LeNet5 = "lenet5"
)

// Models lists the names New accepts.
var Models = []string{MLP, CNN, LeNet5, Best}

// Normalize is torchvision's transforms.Normalize for one channel, applied
// after pixels are scaled to [0, 1]: x = (p/255 - Mean) / Std.
type Normalize struct {
	Mean, Std float32
}

// Model is a graph of layers (a sequence, or a DAG of Nodes with Joins
// such as Add and Concat; see NewGraph) mapping images [N, C, H, W] to
// logits [N, classes].
type Model struct {
	// Kind names the model: a tutorial model's name (MLP, CNN, LeNet5),
	// the kind given to NewGraph, or what FromONNX read ("onnx" when the
	// file records none).
	Kind string
	// Normalize, when not nil, is the input normalization the model is
	// trained with; it is applied to batches by Trainer and Evaluate and
	// recorded in the ONNX export.
	Normalize *Normalize
	// Classes, when not nil, names the classes in score order; it is
	// recorded in the ONNX export.
	Classes []string
	// Prepare, when not empty, says how pictures are made into the
	// model's input (onnx.PrepareDigit or onnx.PrepareResize); it is
	// recorded in the ONNX export.
	Prepare string

	nodes    []gnode
	params   []*Param // trainable: the parameters of the nodes not frozen
	input    []int    // shape of one sample
	training bool
	// sources maps the ONNX node names of a model built by FromONNX to
	// the names of their layers.
	sources map[string]string

	// Per value (0 the input, i+1 node i's output): the last Forward's
	// tensors, Backward's gradients, the buffers where gradients of a
	// value read twice are summed and whether the gradient is in it, and
	// whether a value depends on a trainable parameter.
	vals, grads []*tensor.Tensor
	xs          []*tensor.Tensor // a Join's inputs
	own         []tensor.Tensor
	owned       []bool
	needGrad    []bool
}

// New returns the tutorial model named kind (MLP, CNN or LeNet5) for
// MNIST (1x28x28 images, 10 classes) with PyTorch's default initialization
// drawn from seed.
func New(kind string, seed uint64) (*Model, error) {
	return NewFor(kind, []int{1, mnist.ImageSize, mnist.ImageSize}, mnist.NumClasses, seed)
}

// maxFeatures bounds the width of a model's layers (the MLP's hidden layer
// is as wide as its input), so that a large image size is refused before
// the weights are allocated.
const maxFeatures = 1 << 16

// maxMLPFeatures bounds the MLP's input, whose square is its hidden layer's
// weight count (8192: 64M weights).
const maxMLPFeatures = 1 << 13

// NewFor returns the tutorial model named kind for samples of shape input
// (channels, height, width) and classes scores, as torchvision's models
// take num_classes: the MLP's hidden layer is as wide as its input (the
// tutorial's 784-784-10), and the first dense layer of the CNN and LeNet5
// takes whatever their convolutions give. The parameters get PyTorch's
// default initialization drawn from seed. An input too small for the
// model's convolutions and pools (LeNet5 needs 28x28) is an error.
func NewFor(kind string, input []int, classes int, seed uint64) (*Model, error) {
	if len(input) != 3 || input[0] < 1 || input[1] < 1 || input[2] < 1 || classes < 1 {
		return nil, fmt.Errorf("train: model %q for input %v and %d classes: want positive channels, height, width and classes", kind, input, classes)
	}
	c, h, w := input[0], input[1], input[2]
	if c > maxFeatures || h > maxFeatures || w > maxFeatures || c*h*w > maxFeatures || classes > maxFeatures {
		return nil, fmt.Errorf("train: model %q for input %s and %d classes: more than %d features", kind, tensor.ShapeString(input), classes, maxFeatures)
	}
	// pool and conv give the output side of a pooling or valid convolution.
	pool := func(n, k, s int) int { return (n-k)/s + 1 }
	var layers []Layer
	switch kind {
	case MLP:
		// [N,C,H,W] -> [N,CHW] -> [N,CHW] -> [N,classes]
		f := c * h * w
		if f > maxMLPFeatures {
			return nil, fmt.Errorf("train: model %q: input %s has %d features, more than the %d its %dx%d hidden layer allows", kind, tensor.ShapeString(input), f, maxMLPFeatures, f, f)
		}
		layers = []Layer{NewFlatten("flatten"), NewLinear("fc1", f, f), NewReLU("relu1"), NewLinear("fc2", f, classes)}
	case CNN:
		// [N,C,H,W] -conv1-> [N,10,H,W] -pool-> [N,10,H-1,W-1] -> [N,10(H-1)(W-1)] -fc1-> [N,128] -fc2-> [N,classes]
		if h < 2 || w < 2 {
			return nil, fmt.Errorf("train: model %q: input %s is smaller than its 2x2 pool", kind, tensor.ShapeString(input))
		}
		layers = []Layer{
			NewConv2d("conv1", c, 10, 5, 1, 2), NewReLU("relu1"), NewMaxPool2d("pool", 2, 1),
			NewDropout("drop", 0.2, mix64(seed^0xd5)), NewFlatten("flatten"),
			NewLinear("fc1", 10*(h-1)*(w-1), 128), NewReLU("relu2"), NewLinear("fc2", 128, classes),
		}
	case LeNet5:
		// [N,C,H,W] -conv1-> [N,6,H,W] -pool1-> [N,6,H1,W1] -conv2-> [N,16,H1-4,W1-4] -pool2-> [N,16,H2,W2]
		// -conv3-> [N,120,H2-4,W2-4] -> [N,120(H2-4)(W2-4)] -fc1-> [N,84] -fc2-> [N,classes]
		// (for MNIST's 28x28: H1 = 14, H2 = 5, and conv3 gives 1x1)
		h3, w3 := pool(pool(pool(h, 2, 2), 5, 1), 2, 2)-4, pool(pool(pool(w, 2, 2), 5, 1), 2, 2)-4
		if h3 < 1 || w3 < 1 {
			return nil, fmt.Errorf("train: model %q: input %s is too small for its convolutions and pools (want at least 28x28)", kind, tensor.ShapeString(input))
		}
		layers = []Layer{
			NewConv2d("conv1", c, 6, 5, 1, 2), NewTanh("tanh1"), NewAvgPool2d("pool1", 2, 2),
			NewConv2d("conv2", 6, 16, 5, 1, 0), NewTanh("tanh2"), NewAvgPool2d("pool2", 2, 2),
			NewConv2d("conv3", 16, 120, 5, 1, 0), NewTanh("tanh3"), NewFlatten("flatten"),
			NewLinear("fc1", 120*h3*w3, 84), NewTanh("tanh4"), NewLinear("fc2", 84, classes),
		}
	case Best:
		var err error
		if layers, err = bestLayers(c, h, w, classes); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("train: unknown model %q (want one of %v)", kind, Models)
	}
	m, err := NewModel(kind, input, layers...)
	if err != nil {
		return nil, err
	}
	m.InitDefault(seed)
	return m, nil
}

// NumClasses returns the number of scores the model gives: the size of its
// output when that is a vector (0 otherwise).
func (m *Model) NumClasses() int {
	if len(m.nodes) == 0 {
		return 0
	}
	if out := m.nodes[len(m.nodes)-1].shape; len(out) == 1 {
		return out[0]
	}
	return 0
}

// Layers returns the model's layers in node order (Joins left out).
func (m *Model) Layers() []Layer {
	var ls []Layer
	for _, n := range m.nodes {
		if n.Layer != nil {
			ls = append(ls, n.Layer)
		}
	}
	return ls
}

// Params returns the trainable parameters (those of nodes not frozen) in
// state_dict order (node by node, weight before bias). The slice is
// shared; do not modify it.
func (m *Model) Params() []*Param { return m.params }

// allParams returns every parameter, frozen or not, in state_dict order.
func (m *Model) allParams() []*Param {
	var ps []*Param
	for _, n := range m.nodes {
		ps = append(ps, n.params()...)
	}
	return ps
}

// InputShape returns the shape of one sample, e.g. [1 28 28].
func (m *Model) InputShape() []int { return append([]int(nil), m.input...) }

// OutputShape returns the shape of the model's output for one sample, e.g.
// [10].
func (m *Model) OutputShape() []int {
	if len(m.nodes) == 0 {
		return m.InputShape()
	}
	return slices.Clone(m.nodes[len(m.nodes)-1].shape)
}

// InitDefault initializes the parameters as PyTorch's Linear and Conv2d
// constructors do: kaiming_uniform with a = sqrt(5), which is
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), for weights, and the same bound for
// biases, where fan_in = in_features or in_channels/groups*KH*KW; a
// BatchNorm2d gets weight 1, bias 0, running mean 0 and variance 1. The
// numbers come from a PCG seeded with seed (not PyTorch's generator),
// weight then bias, layer by layer.
func (m *Model) InitDefault(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x696e6974)) // "init"
	for _, l := range m.Layers() {
		initLayer(l, rng)
	}
}

// initLayer gives l PyTorch's default initialization, drawing from rng.
func initLayer(l Layer, rng *rand.Rand) {
	if b, ok := l.(*BatchNorm2d); ok {
		b.reset()
		return
	}
	ps := l.Params()
	if len(ps) == 0 {
		return
	}
	w := ps[0].Value
	fanIn := 1
	for _, d := range w.Shape[1:] {
		fanIn *= d
	}
	bound := 1 / math.Sqrt(float64(fanIn))
	for _, p := range ps {
		for i := range p.Value.F32 {
			p.Value.F32[i] = float32(bound * (2*rng.Float64() - 1))
		}
	}
}

// SetTraining switches the model between training and evaluation mode
// (Dropout and BatchNorm2d differ; a frozen BatchNorm2d stays in
// evaluation mode). New models are in training mode.
func (m *Model) SetTraining(on bool) {
	m.training = on
	for _, n := range m.nodes {
		if t, ok := n.Layer.(trainingMode); ok {
			_, bn := n.Layer.(*BatchNorm2d)
			t.SetTraining(on && !(bn && n.frozen))
		}
	}
}

// Training reports whether the model is in training mode.
func (m *Model) Training() bool { return m.training }

// State returns every parameter by name (state_dict keys), frozen ones
// included; the tensors are the model's own.
func (m *Model) State() map[string]*tensor.Tensor {
	ps := m.allParams()
	s := make(map[string]*tensor.Tensor, len(ps))
	for _, p := range ps {
		s[p.Name] = p.Value
	}
	return s
}

// LoadState copies parameter values from state, which must hold every
// parameter (frozen ones too), with its shape, as float32, and nothing
// else.
func (m *Model) LoadState(state map[string]*tensor.Tensor) error {
	ps := m.allParams()
	for _, p := range ps {
		t, ok := state[p.Name]
		if !ok {
			return fmt.Errorf("train: model %q: state has no %q", m.Kind, p.Name)
		}
		if t.DType != tensor.Float32 || !slices.Equal(t.Shape, p.Value.Shape) || !t.Valid() {
			return fmt.Errorf("train: model %q: state %q is %v, want float32[%s]", m.Kind, p.Name, t, tensor.ShapeString(p.Value.Shape))
		}
	}
	if len(state) != len(ps) {
		for k := range state {
			if !slices.ContainsFunc(ps, func(p *Param) bool { return p.Name == k }) {
				return fmt.Errorf("train: model %q: state has unknown key %q", m.Kind, k)
			}
		}
	}
	for _, p := range ps {
		copy(p.Value.F32, state[p.Name].F32)
	}
	return nil
}
