package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/onnxkit/onnxkit/tensor"
)

// The tutorial's models, by the names New and the CLI use.
const (
	MLP    = "mlp"
	CNN    = "cnn"
	LeNet5 = "lenet5"
)

// Models lists the names New accepts.
var Models = []string{MLP, CNN, LeNet5}

// Normalize is torchvision's transforms.Normalize for one channel, applied
// after pixels are scaled to [0, 1]: x = (p/255 - Mean) / Std.
type Normalize struct {
	Mean, Std float32
}

// Model is a sequence of layers mapping images [N, 1, 28, 28] to logits
// [N, 10].
type Model struct {
	// Kind is the tutorial model's name (MLP, CNN, LeNet5).
	Kind string
	// Normalize, when not nil, is the input normalization the model is
	// trained with; it is applied to batches by Trainer and Evaluate and
	// recorded in the ONNX export.
	Normalize *Normalize

	layers   []Layer
	params   []*Param
	input    []int // shape of one sample
	training bool
	// firstParam is the index of the first layer with parameters
	// (len(layers) if none).
	firstParam int
}

// NewModel assembles a model from layers for samples of shape input (e.g.
// [1 28 28]). Parameter names must be unique.
func NewModel(kind string, input []int, layers ...Layer) (*Model, error) {
	m := &Model{Kind: kind, layers: layers, input: append([]int(nil), input...), training: true}
	seen := map[string]bool{}
	m.firstParam = len(layers)
	for i, l := range layers {
		if len(l.Params()) > 0 {
			m.firstParam = min(m.firstParam, i)
		}
		for _, p := range l.Params() {
			if seen[p.Name] {
				return nil, fmt.Errorf("train: model %q: parameter name %q used twice", kind, p.Name)
			}
			seen[p.Name] = true
			m.params = append(m.params, p)
		}
	}
	return m, nil
}

// New returns the tutorial model named kind (MLP, CNN or LeNet5) with
// PyTorch's default initialization drawn from seed.
func New(kind string, seed uint64) (*Model, error) {
	var layers []Layer
	switch kind {
	case MLP:
		// [N,1,28,28] -> [N,784] -> [N,784] -> [N,10]
		layers = []Layer{NewFlatten("flatten"), NewLinear("fc1", 784, 784), NewReLU("relu1"), NewLinear("fc2", 784, 10)}
	case CNN:
		// [N,1,28,28] -conv1-> [N,10,28,28] -pool-> [N,10,27,27] -> [N,7290] -fc1-> [N,128] -fc2-> [N,10]
		layers = []Layer{
			NewConv2d("conv1", 1, 10, 5, 1, 2), NewReLU("relu1"), NewMaxPool2d("pool", 2, 1),
			NewDropout("drop", 0.2, mix64(seed^0xd5)), NewFlatten("flatten"),
			NewLinear("fc1", 7290, 128), NewReLU("relu2"), NewLinear("fc2", 128, 10),
		}
	case LeNet5:
		// [N,1,28,28] -conv1-> [N,6,28,28] -pool1-> [N,6,14,14] -conv2-> [N,16,10,10] -pool2-> [N,16,5,5]
		// -conv3-> [N,120,1,1] -> [N,120] -fc1-> [N,84] -fc2-> [N,10]
		layers = []Layer{
			NewConv2d("conv1", 1, 6, 5, 1, 2), NewTanh("tanh1"), NewAvgPool2d("pool1", 2, 2),
			NewConv2d("conv2", 6, 16, 5, 1, 0), NewTanh("tanh2"), NewAvgPool2d("pool2", 2, 2),
			NewConv2d("conv3", 16, 120, 5, 1, 0), NewTanh("tanh3"), NewFlatten("flatten"),
			NewLinear("fc1", 120, 84), NewTanh("tanh4"), NewLinear("fc2", 84, 10),
		}
	default:
		return nil, fmt.Errorf("train: unknown model %q (want one of %v)", kind, Models)
	}
	m, err := NewModel(kind, []int{1, 28, 28}, layers...)
	if err != nil {
		return nil, err
	}
	m.InitDefault(seed)
	return m, nil
}

// Layers returns the model's layers in order.
func (m *Model) Layers() []Layer { return m.layers }

// Params returns the parameters in state_dict order (layer by layer, weight
// before bias). The slice is shared; do not modify it.
func (m *Model) Params() []*Param { return m.params }

// InputShape returns the shape of one sample, e.g. [1 28 28].
func (m *Model) InputShape() []int { return append([]int(nil), m.input...) }

// InitDefault initializes the parameters as PyTorch's Linear and Conv2d
// constructors do: kaiming_uniform with a = sqrt(5), which is
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), for weights, and the same bound for
// biases, where fan_in = in_features or in_channels*KH*KW. The numbers come
// from a PCG seeded with seed (not PyTorch's generator), weight then bias,
// layer by layer.
func (m *Model) InitDefault(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x696e6974)) // "init"
	for _, l := range m.layers {
		ps := l.Params()
		if len(ps) == 0 {
			continue
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
}

// SetTraining switches the model between training and evaluation mode
// (only Dropout differs). New models are in training mode.
func (m *Model) SetTraining(on bool) {
	m.training = on
	for _, l := range m.layers {
		if t, ok := l.(trainingMode); ok {
			t.SetTraining(on)
		}
	}
}

// Training reports whether the model is in training mode.
func (m *Model) Training() bool { return m.training }

// Forward returns the logits [N, 10] for x [N, 1, 28, 28] (the layers'
// buffer: valid until the next Forward).
func (m *Model) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if x.DType != tensor.Float32 || len(x.Shape) != len(m.input)+1 || !equalShape(x.Shape[1:], m.input) || !x.Valid() || x.Shape[0] == 0 {
		return nil, fmt.Errorf("train: model %q: input is %v, want float32[N,%s] with N >= 1", m.Kind, x, tensor.ShapeString(m.input))
	}
	for _, l := range m.layers {
		x = l.Forward(x)
	}
	return x, nil
}

// Backward back-propagates dL/dlogits [N, 10] of the last Forward and sets
// every parameter's Grad. It stops at the first layer with parameters:
// gradients with respect to the input (and the layers before, which have no
// parameters) are not computed.
func (m *Model) Backward(dlogits *tensor.Tensor) {
	first := m.firstParam
	if first == len(m.layers) {
		return
	}
	d := dlogits
	for i := len(m.layers) - 1; i > first; i-- {
		d = m.layers[i].Backward(d)
	}
	if p, ok := m.layers[first].(paramsOnly); ok {
		p.backwardParams(d)
	} else {
		m.layers[first].Backward(d)
	}
}

// State returns the parameters by name (state_dict keys); the tensors are
// the model's own.
func (m *Model) State() map[string]*tensor.Tensor {
	s := make(map[string]*tensor.Tensor, len(m.params))
	for _, p := range m.params {
		s[p.Name] = p.Value
	}
	return s
}

// LoadState copies parameter values from state, which must hold every
// parameter, with its shape, as float32, and nothing else.
func (m *Model) LoadState(state map[string]*tensor.Tensor) error {
	for _, p := range m.params {
		t, ok := state[p.Name]
		if !ok {
			return fmt.Errorf("train: model %q: state has no %q", m.Kind, p.Name)
		}
		if t.DType != tensor.Float32 || !equalShape(t.Shape, p.Value.Shape) || !t.Valid() {
			return fmt.Errorf("train: model %q: state %q is %v, want float32[%s]", m.Kind, p.Name, t, tensor.ShapeString(p.Value.Shape))
		}
	}
	if len(state) != len(m.params) {
		for k := range state {
			if !m.hasParam(k) {
				return fmt.Errorf("train: model %q: state has unknown key %q", m.Kind, k)
			}
		}
	}
	for _, p := range m.params {
		copy(p.Value.F32, state[p.Name].F32)
	}
	return nil
}

func (m *Model) hasParam(name string) bool {
	for _, p := range m.params {
		if p.Name == name {
			return true
		}
	}
	return false
}
