package train

import (
	"fmt"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/tensor"
)

// Linear is a fully connected layer, y = x W^T + b, like torch.nn.Linear.
type Linear struct {
	name    string
	In, Out int
	Weight  *Param // [Out, In]
	Bias    *Param // [Out]

	x     *tensor.Tensor // [N, In], input of the last Forward
	dy    *tensor.Tensor // [N, Out], during Backward
	y, dx tensor.Tensor  // [N, Out], [N, In]
	fwd   chunkFunc
	bwdW  chunkFunc
	bwdX  chunkFunc
}

// NewLinear returns a Linear layer with zero parameters named name+".weight"
// and name+".bias" (see InitDefault).
// It panics unless in and out are positive.
func NewLinear(name string, in, out int) *Linear {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("train: NewLinear(%q, %d, %d): sizes must be positive", name, in, out))
	}
	l := &Linear{name: name, In: in, Out: out,
		Weight: newParam(name+".weight", out, in), Bias: newParam(name+".bias", out)}
	l.fwd, l.bwdW, l.bwdX = l.forwardRows, l.weightGradRows, l.inputGradRows
	return l
}

// Name returns the layer's name.
func (l *Linear) Name() string { return l.name }

// Params returns the weight and the bias.
func (l *Linear) Params() []*Param { return []*Param{l.Weight, l.Bias} }

// Forward computes y [N, Out] = x [N, In] · W^T [In, Out] + b [Out].
func (l *Linear) Forward(x *tensor.Tensor) *tensor.Tensor {
	checkRank(l.name, "input", x, 2)
	checkSame(l.name, "input", x, []int{x.Shape[0], l.In})
	n := x.Shape[0]
	l.x = x
	l.y.Resize(tensor.Float32, n, l.Out)
	pool().run(n, chunkSize(n), l.fwd)
	return &l.y
}

// forwardRows computes rows lo..hi-1 of y.
func (l *Linear) forwardRows(_, _, lo, hi int) {
	x, y, w, b := l.x.F32, l.y.F32, l.Weight.Value.F32, l.Bias.Value.F32
	kernel.Sgemm(false, true, hi-lo, l.Out, l.In, 1, x[lo*l.In:], l.In, w, l.In, 0, y[lo*l.Out:], l.Out)
	for i := lo; i < hi; i++ {
		row := y[i*l.Out : (i+1)*l.Out]
		for j, bv := range b {
			row[j] += bv
		}
	}
}

// Backward takes dy [N, Out] and returns dx [N, In] = dy · W; it sets
// dW [Out, In] = dy^T · x and db [Out] = sum over N of dy.
func (l *Linear) Backward(dy *tensor.Tensor) *tensor.Tensor {
	l.backwardParams(dy)
	n := dy.Shape[0]
	l.dx.Resize(tensor.Float32, n, l.In)
	pool().run(n, chunkSize(n), l.bwdX)
	l.dy = nil
	return &l.dx
}

func (l *Linear) backwardParams(dy *tensor.Tensor) {
	if l.x == nil {
		panic("train: layer " + l.name + ": Backward before Forward")
	}
	checkSame(l.name, "output gradient", dy, []int{l.x.Shape[0], l.Out})
	l.dy = dy
	pool().run(l.Out, chunkSize(l.Out), l.bwdW)
}

// weightGradRows computes rows lo..hi-1 of dW and elements lo..hi-1 of db.
func (l *Linear) weightGradRows(_, _, lo, hi int) {
	n := l.x.Shape[0]
	dy, dw, db := l.dy.F32, l.Weight.Grad.F32, l.Bias.Grad.F32
	kernel.Sgemm(true, false, hi-lo, l.In, n, 1, dy[lo:], l.Out, l.x.F32, l.In, 0, dw[lo*l.In:], l.In)
	for j := lo; j < hi; j++ {
		var s float32
		for i := range n {
			s += dy[i*l.Out+j]
		}
		db[j] = s
	}
}

// inputGradRows computes rows lo..hi-1 of dx.
func (l *Linear) inputGradRows(_, _, lo, hi int) {
	kernel.Sgemm(false, false, hi-lo, l.In, l.Out, 1, l.dy.F32[lo*l.Out:], l.Out, l.Weight.Value.F32, l.In, 0, l.dx.F32[lo*l.In:], l.In)
}
