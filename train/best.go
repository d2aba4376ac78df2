package train

import (
	"fmt"

	"github.com/onnxkit/onnxkit/tensor"
)

// Best is the built-in model tuned for accuracy within a few minutes of
// training on two cores: five 3x3 convolutions with BatchNorm and ReLU
// (16, 32, 32, 64, 64 channels, max-pooled to a half after the first and
// the third), global average pooling and one dense layer.
const Best = "best"

// bestRecipe is Best's training setup: SGD with momentum under a one-cycle
// schedule (peak lr 0.1, momentum cycled 0.95-0.85 as PyTorch's OneCycleLR
// does), L2 weight decay 5e-4, label smoothing 0.1, and random shifts of
// up to 2 pixels, batches of 128 for 6 epochs.
var bestRecipe = Recipe{Model: Best, Optimizer: "sgd", LR: 0.1, Momentum: 0.9, BatchSize: 128, Epochs: 6,
	Schedule: "onecycle", WeightDecay: 5e-4, LabelSmoothing: 0.1, Augment: Augment{Shift: 2}}

// bestLayers returns Best's layers for input c x h x w (h and w at least
// 4) and classes scores:
//
//	[N,c,h,w] -conv1,bn1,relu1-> [N,16,h,w] -pool1-> [N,16,h/2,w/2]
//	-conv2,bn2,relu2-> [N,32,..] -conv3,bn3,relu3-> [N,32,..] -pool2-> [N,32,h/4,w/4]
//	-conv4,bn4,relu4-> [N,64,..] -conv5,bn5,relu5-> [N,64,h/4,w/4]
//	-gap-> [N,64,1,1] -> [N,64] -fc-> [N,classes]
func bestLayers(c, h, w, classes int) ([]Layer, error) {
	h4, w4 := h/2/2, w/2/2
	if h4 < 1 || w4 < 1 {
		return nil, fmt.Errorf("train: model %q: input %s is smaller than its two 2x2 pools (want at least 4x4)", Best, tensor.ShapeString([]int{c, h, w}))
	}
	if h4 != w4 {
		return nil, fmt.Errorf("train: model %q: input %s is not square: its global average pool wants square feature maps", Best, tensor.ShapeString([]int{c, h, w}))
	}
	block := func(i, in, out int) []Layer {
		n := fmt.Sprint(i)
		return []Layer{NewConv2d("conv"+n, in, out, 3, 1, 1), NewBatchNorm2d("bn"+n, out), NewReLU("relu" + n)}
	}
	var l []Layer
	l = append(l, block(1, c, 16)...)
	l = append(l, NewMaxPool2d("pool1", 2, 2))
	l = append(l, block(2, 16, 32)...)
	l = append(l, block(3, 32, 32)...)
	l = append(l, NewMaxPool2d("pool2", 2, 2))
	l = append(l, block(4, 32, 64)...)
	l = append(l, block(5, 64, 64)...)
	l = append(l, NewAvgPool2d("gap", h4, h4), NewFlatten("flatten"), NewLinear("fc", 64, classes))
	return l, nil
}
