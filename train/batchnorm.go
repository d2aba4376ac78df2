package train

import (
	"fmt"
	"math"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// BatchNorm2d is torch.nn.BatchNorm2d(C) with learnable Weight (gamma)
// and Bias (beta). In training mode it normalizes each channel by the
// batch's mean and biased variance over N, H and W, and updates the running
// statistics as PyTorch does: running = (1-Momentum)*running +
// Momentum*batch, with the unbiased variance. In evaluation mode it uses the
// running statistics. It is exported as BatchNormalization, and its running
// statistics are kept in checkpoints.
type BatchNorm2d struct {
	name          string
	C             int
	Eps, Momentum float32 // 1e-5 and 0.1, as PyTorch's defaults
	Weight, Bias  *Param  // [C]
	// RunningMean and RunningVar are the running statistics [C], named
	// name+".running_mean" and name+".running_var" as in PyTorch's
	// state_dict.
	RunningMean, RunningVar *Param

	training bool
	x        *tensor.Tensor // [N, C, H, W], input of the last Forward
	batch    bool           // the last Forward used batch statistics
	xhat     []float32      // normalized input of the last Forward
	invStd   []float64      // [C]
	y, dx    tensor.Tensor
	dy       *tensor.Tensor // during Backward
	fwd, bwd chunkFunc
}

// NewBatchNorm2d returns a BatchNorm2d over c channels with weight 1, bias
// 0, running mean 0 and running variance 1 (PyTorch's initialization), in
// training mode. It panics unless c is positive.
func NewBatchNorm2d(name string, c int) *BatchNorm2d {
	if c <= 0 {
		panic(fmt.Sprintf("train: NewBatchNorm2d(%q, %d): channels must be positive", name, c))
	}
	b := &BatchNorm2d{name: name, C: c, Eps: 1e-5, Momentum: 0.1, training: true,
		Weight: newParam(name+".weight", c), Bias: newParam(name+".bias", c),
		RunningMean: newParam(name+".running_mean", c), RunningVar: newParam(name+".running_var", c)}
	b.fwd, b.bwd = b.forwardChunk, b.backwardChunk
	b.reset()
	return b
}

// reset sets PyTorch's initial values.
func (b *BatchNorm2d) reset() {
	for i := range b.C {
		b.Weight.Value.F32[i], b.Bias.Value.F32[i] = 1, 0
		b.RunningMean.Value.F32[i], b.RunningVar.Value.F32[i] = 0, 1
	}
}

// Name returns the layer's name.
func (b *BatchNorm2d) Name() string { return b.name }

// Params returns the weight and the bias (the running statistics are not
// trained; see buffers).
func (b *BatchNorm2d) Params() []*Param { return []*Param{b.Weight, b.Bias} }

// buffers returns the running statistics, the state a checkpoint keeps
// besides the parameters.
func (b *BatchNorm2d) buffers() []*Param { return []*Param{b.RunningMean, b.RunningVar} }

// SetTraining switches between batch statistics (training) and running
// statistics (evaluation).
func (b *BatchNorm2d) SetTraining(on bool) { b.training = on }

// Forward computes y [N, C, H, W] = Weight * (x - mean) / sqrt(var + Eps)
// + Bias per channel, the channels in parallel. Sums are taken in float32
// over each plane and in float64 across planes.
func (b *BatchNorm2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	checkRank(b.name, "input", x, 4)
	checkSame(b.name, "input", x, []int{x.Shape[0], b.C, x.Shape[2], x.Shape[3]})
	b.x, b.batch = x, b.training
	b.y.Resize(tensor.Float32, x.Shape...)
	b.xhat = grow(b.xhat, len(x.F32))
	if len(b.invStd) != b.C {
		b.invStd = make([]float64, b.C)
	}
	pool().run(b.C, chunkSize(b.C), b.fwd)
	return &b.y
}

// geom returns the batch size and the plane size of an [N, C, H, W]
// tensor.
func (b *BatchNorm2d) geom(t *tensor.Tensor) (n, hw int) {
	return t.Shape[0], t.Shape[2] * t.Shape[3]
}

func (b *BatchNorm2d) forwardChunk(_, _, lo, hi int) {
	x := b.x
	n, hw := b.geom(x)
	m := n * hw
	for c := lo; c < hi; c++ {
		mean, v := float64(b.RunningMean.Value.F32[c]), float64(b.RunningVar.Value.F32[c])
		if b.batch {
			var sum float64
			for i := range n {
				var s float32
				for _, p := range x.F32[(i*b.C+c)*hw : (i*b.C+c+1)*hw] {
					s += p
				}
				sum += float64(s)
			}
			mean = sum / float64(m)
			var sq float64
			mf := float32(mean)
			for i := range n {
				var s float32
				for _, p := range x.F32[(i*b.C+c)*hw : (i*b.C+c+1)*hw] {
					s += (p - mf) * (p - mf)
				}
				sq += float64(s)
			}
			v = sq / float64(m)
			unbiased := v
			if m > 1 {
				unbiased = sq / float64(m-1)
			}
			mo := float64(b.Momentum)
			b.RunningMean.Value.F32[c] = float32((1-mo)*float64(b.RunningMean.Value.F32[c]) + mo*mean)
			b.RunningVar.Value.F32[c] = float32((1-mo)*float64(b.RunningVar.Value.F32[c]) + mo*unbiased)
		}
		inv := 1 / math.Sqrt(v+float64(b.Eps))
		b.invStd[c] = inv
		w, bias := b.Weight.Value.F32[c], b.Bias.Value.F32[c]
		mf, invf := float32(mean), float32(inv)
		for i := range n {
			lo := (i*b.C + c) * hw
			xh, y := b.xhat[lo:lo+hw], b.y.F32[lo:lo+hw]
			for k, p := range x.F32[lo : lo+hw] {
				h := (p - mf) * invf
				xh[k] = h
				y[k] = w*h + bias
			}
		}
	}
}

// Backward takes dy [N, C, H, W] and returns dx; it sets dWeight =
// sum(dy * xhat) and dBias = sum(dy) per channel. With batch statistics
// dx = invStd/M * (M*g - sum(g) - xhat*sum(g*xhat)) where g = dy*Weight
// and M = N*H*W; with running statistics dx = dy*Weight*invStd.
func (b *BatchNorm2d) Backward(dy *tensor.Tensor) *tensor.Tensor {
	checkSame(b.name, "output gradient", dy, b.y.Shape)
	b.dy = dy
	b.dx.Resize(tensor.Float32, dy.Shape...)
	pool().run(b.C, chunkSize(b.C), b.bwd)
	b.dy = nil
	return &b.dx
}

func (b *BatchNorm2d) backwardChunk(_, _, lo, hi int) {
	dy := b.dy
	n, hw := b.geom(dy)
	m := float64(n * hw)
	for c := lo; c < hi; c++ {
		var sumDy, sumDyH float64
		for i := range n {
			lo := (i*b.C + c) * hw
			xh := b.xhat[lo : lo+hw]
			var s, sh float32
			for k, g := range dy.F32[lo : lo+hw] {
				s += g
				sh += g * xh[k]
			}
			sumDy += float64(s)
			sumDyH += float64(sh)
		}
		b.Weight.Grad.F32[c], b.Bias.Grad.F32[c] = float32(sumDyH), float32(sumDy)
		w, inv := float64(b.Weight.Value.F32[c]), b.invStd[c]
		// dx = a*g + d + e*xhat
		a, d, e := float32(w*inv), float32(-w*inv*sumDy/m), float32(-w*inv*sumDyH/m)
		if !b.batch {
			d, e = 0, 0
		}
		for i := range n {
			lo := (i*b.C + c) * hw
			xh, dx := b.xhat[lo:lo+hw], b.dx.F32[lo:lo+hw]
			for k, g := range dy.F32[lo : lo+hw] {
				dx[k] = a*g + d + e*xh[k]
			}
		}
	}
}

// OutShape returns in, which must be [C, H, W].
func (b *BatchNorm2d) OutShape(in []int) ([]int, error) {
	if len(in) != 3 || in[0] != b.C {
		return nil, fmt.Errorf("input [%s], want [%d, H, W]", tensor.ShapeString(in), b.C)
	}
	return in, nil
}

// exportONNX writes a BatchNormalization in inference form, reading the
// running statistics (Export adds them as initializers).
func (b *BatchNorm2d) exportONNX(e *exporter, in string) string {
	// ONNX's momentum weighs the running value: 1 - PyTorch's.
	return e.node(b.name, "BatchNormalization", []*onnx.Attribute{floatAttr("epsilon", b.Eps), floatAttr("momentum", 1-b.Momentum)},
		in, b.Weight.Name, b.Bias.Name, b.RunningMean.Name, b.RunningVar.Name)
}

// buildBatchNorm makes a BatchNorm2d from a BatchNormalization in
// inference form (spatial, not training_mode) with constant scale, bias,
// mean and variance.
func buildBatchNorm(b *onnxBuilder, n *onnx.Node) (Node, error) {
	in := b.shape(n.Inputs[0])
	if len(in) != 3 {
		return Node{}, fmt.Errorf("input must be [N, C, H, W], is [N %v]", in)
	}
	c := in[0]
	if len(n.Inputs) != 5 {
		return Node{}, fmt.Errorf("want 5 inputs (X, scale, B, mean, var), have %d", len(n.Inputs))
	}
	var ts [4]*tensor.Tensor
	for i := range ts {
		ts[i] = b.value(n.Inputs[i+1])
		if t := ts[i]; t == nil || t.DType != tensor.Float32 || t.Rank() != 1 || t.Len() != c {
			return Node{}, fmt.Errorf("input %q must be a float32 [%d] initializer", n.Inputs[i+1], c)
		}
	}
	for _, o := range n.Outputs[1:] {
		if o != "" {
			return Node{}, fmt.Errorf("output %q: only the first output (inference) is supported", o)
		}
	}
	if a := n.Attr("spatial"); a != nil && a.I != 1 {
		return Node{}, fmt.Errorf("attribute spatial %d is not supported (want 1)", a.I)
	}
	if a := n.Attr("training_mode"); a != nil && a.I != 0 {
		return Node{}, fmt.Errorf("attribute training_mode %d is not supported (want 0)", a.I)
	}
	eps, mom := float32(1e-5), float32(0.9)
	if a := n.Attr("epsilon"); a != nil {
		eps = a.F
	}
	if a := n.Attr("momentum"); a != nil {
		mom = a.F
	}
	if !(eps >= 0) || math.IsInf(float64(eps), 0) || !(mom >= 0 && mom <= 1) {
		return Node{}, fmt.Errorf("epsilon %v and momentum %v: want a finite epsilon >= 0 and a momentum in [0, 1]", eps, mom)
	}
	l := NewBatchNorm2d(b.layerName(n, n.Inputs[1]), c)
	l.Eps, l.Momentum = eps, 1-mom // ONNX's momentum weighs the running value
	b.state[l.Weight.Name], b.state[l.Bias.Name] = ts[0], ts[1]
	copy(l.RunningMean.Value.F32, ts[2].F32)
	copy(l.RunningVar.Value.F32, ts[3].F32)
	return Apply(l, n.Inputs[0]), nil
}
