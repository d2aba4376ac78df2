package train

import (
	"fmt"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/onnx"
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

// NewLinear returns a Linear layer with parameters named name+".weight" and
// name+".bias" initialized as PyTorch's nn.Linear (see Model.InitDefault),
// drawn from a seed made from name; InitDefault draws them again from a
// model's seed.
// It panics unless in and out are positive.
func NewLinear(name string, in, out int) *Linear {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("train: NewLinear(%q, %d, %d): sizes must be positive", name, in, out))
	}
	l := &Linear{name: name, In: in, Out: out,
		Weight: newParam(name+".weight", out, in), Bias: newParam(name+".bias", out)}
	l.fwd, l.bwdW, l.bwdX = l.forwardRows, l.weightGradRows, l.inputGradRows
	initLayer(l, nameRand(name))
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

// OutShape returns [Out] for an input sample [In].
func (l *Linear) OutShape(in []int) ([]int, error) {
	if len(in) != 1 || in[0] != l.In {
		return nil, fmt.Errorf("input [%s], want [%d] (a Flatten before it gives C*H*W features)", tensor.ShapeString(in), l.In)
	}
	return []int{l.Out}, nil
}

// exportONNX writes a Gemm with transB = 1, as torch.onnx.export does.
func (l *Linear) exportONNX(e *exporter, in string) string {
	return e.node(l.name, "Gemm", []*onnx.Attribute{floatAttr("alpha", 1), floatAttr("beta", 1), intAttr("transB", 1)},
		in, l.Weight.Name, l.Bias.Name)
}

// linearFrom makes a Linear layer from a [out, in] weight (transposing a
// [in, out] one when transposed is false) and an optional bias, applied to
// ONNX value x.
func linearFrom(b *onnxBuilder, n *onnx.Node, weightName string, transposed bool, bias *tensor.Tensor) (*Linear, error) {
	in, w := b.shape(n.Inputs[0]), b.value(weightName)
	if len(in) != 1 || w == nil || w.DType != tensor.Float32 || w.Rank() != 2 {
		return nil, fmt.Errorf("want a float32 matrix initializer applied to [N, features] (have a sample shape %v)", in)
	}
	fin, out := w.Shape[1], w.Shape[0]
	if !transposed {
		fin, out = out, fin
		t := tensor.New(tensor.Float32, out, fin)
		for i := range fin {
			for j := range out {
				t.F32[j*fin+i] = w.F32[i*out+j]
			}
		}
		w = t
	}
	if fin != in[0] {
		return nil, fmt.Errorf("weight takes %d features, the input has %d", fin, in[0])
	}
	if bias == nil {
		bias = tensor.New(tensor.Float32, out)
	}
	if bias.DType != tensor.Float32 || bias.Len() != out {
		return nil, fmt.Errorf("bias must be float32 [%d]", out)
	}
	l := NewLinear(b.layerName(n, weightName), fin, out)
	b.state[l.Weight.Name] = w
	b.state[l.Bias.Name] = tensor.FromFloat32(bias.F32, out)
	return l, nil
}

// buildGemm makes a Linear from a Gemm with alpha = beta = 1, transA = 0
// and constant B and C.
func buildGemm(b *onnxBuilder, n *onnx.Node) (Node, error) {
	attr := func(name string, def float32) float32 {
		if a := n.Attr(name); a != nil {
			if a.Type == onnx.AttrInt {
				return float32(a.I)
			}
			return a.F
		}
		return def
	}
	if attr("alpha", 1) != 1 || attr("beta", 1) != 1 || attr("transA", 0) != 0 || len(n.Inputs) < 2 {
		return Node{}, fmt.Errorf("only alpha = beta = 1 and transA = 0 are supported")
	}
	var bias *tensor.Tensor
	if len(n.Inputs) > 2 && n.Inputs[2] != "" {
		if bias = b.value(n.Inputs[2]); bias == nil {
			return Node{}, fmt.Errorf("bias %q is not an initializer", n.Inputs[2])
		}
	}
	l, err := linearFrom(b, n, n.Inputs[1], attr("transB", 0) == 1, bias)
	if err != nil {
		return Node{}, err
	}
	return Apply(l, n.Inputs[0]), nil
}

// buildMatMul makes a Linear without bias from a MatMul by a constant
// [in, out] matrix; an Add of a constant right after it becomes its bias
// (see buildAdd).
func buildMatMul(b *onnxBuilder, n *onnx.Node) (Node, error) {
	if len(n.Inputs) != 2 {
		return Node{}, fmt.Errorf("want 2 inputs")
	}
	l, err := linearFrom(b, n, n.Inputs[1], false, nil)
	if err != nil {
		return Node{}, err
	}
	b.matmul[l] = true
	return Apply(l, n.Inputs[0]), nil
}
