package train

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"

	"github.com/onnxkit/onnxkit/tensor"
)

// Param is a trainable tensor and its gradient, named like the PyTorch
// state_dict key ("conv1.weight").
type Param struct {
	Name  string
	Value *tensor.Tensor // float32
	Grad  *tensor.Tensor // float32, same shape; written by Backward
}

// nameRand returns the random source a layer is initialized from at
// construction: a PCG seeded with the FNV-1a hash of its name, so that
// layers differ and a model is the same from run to run.
func nameRand(name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(h.Sum64(), 0x6e616d65)) // "name"
}

func newParam(name string, shape ...int) *Param {
	return &Param{Name: name, Value: tensor.New(tensor.Float32, shape...), Grad: tensor.New(tensor.Float32, shape...)}
}

// Layer is one step of a model, as a forward/backward pair.
//
// Forward returns the layer's output for input x. The output tensor belongs
// to the layer and is overwritten by the next Forward; the layer keeps what
// Backward needs (often a reference to x, which must not change until
// Backward). Buffers are resized to the batch, so steady-state calls do not
// allocate.
//
// Backward takes dL/dy for the output of the last Forward and returns dL/dx
// (owned by the layer). It overwrites (does not accumulate) the gradients of
// the layer's parameters with those of this batch.
//
// OutShape gives the shape of one output sample for one input sample of
// shape in (without the batch dimension), or an error saying why in does
// not fit; NewModel and NewGraph use it to check that layers fit together.
//
// Layers panic on tensors of the wrong shape: the model checks its input and
// the layers it builds fit together, so a wrong shape is a programming error.
//
// The layers are this package's own: each also knows its ONNX form (the
// unexported exportONNX), so that every layer a model can hold can be
// exported.
type Layer interface {
	Name() string
	Forward(x *tensor.Tensor) *tensor.Tensor
	Backward(dy *tensor.Tensor) *tensor.Tensor
	Params() []*Param
	OutShape(in []int) ([]int, error)
	// exportONNX appends the layer's ONNX nodes, reading value in, and
	// returns the name of the value they write.
	exportONNX(e *exporter, in string) string
}

// Join is a graph step that combines several values of the same batch into
// one (Add, Concat). It has no parameters. Forward's output belongs to the
// join; Backward returns dL/dx for each input, in order (possibly sharing
// storage with dy).
type Join interface {
	Name() string
	Forward(xs []*tensor.Tensor) *tensor.Tensor
	Backward(dy *tensor.Tensor) []*tensor.Tensor
	OutShape(in [][]int) ([]int, error)
	exportONNX(e *exporter, in []string) string
}

// paramsOnly is implemented by layers that can skip computing dL/dx, which
// the first layer of a model does not need.
type paramsOnly interface {
	backwardParams(dy *tensor.Tensor)
}

// trainingMode is implemented by layers that behave differently in training
// and evaluation (Dropout, BatchNorm2d).
type trainingMode interface {
	SetTraining(on bool)
}

func checkRank(layer string, what string, t *tensor.Tensor, rank int) {
	if t.DType != tensor.Float32 || len(t.Shape) != rank || !t.Valid() {
		panic(fmt.Sprintf("train: layer %q: %s is %v, want float32 of rank %d", layer, what, t, rank))
	}
}

func checkSame(layer string, what string, t *tensor.Tensor, shape []int) {
	if t.DType != tensor.Float32 || !slices.Equal(t.Shape, shape) || !t.Valid() {
		panic(fmt.Sprintf("train: layer %q: %s is %v, want float32[%s]", layer, what, t, tensor.ShapeString(shape)))
	}
}
