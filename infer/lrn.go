package infer

import (
	"fmt"
	"math"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// lrnOp is LRN (versions 1 and 13 are the same): local response
// normalization across channels,
// Y[n,c,...] = X[n,c,...] / (bias + alpha/size * sum of X[n,i,...]^2)^beta
// over max(0, c-floor((size-1)/2)) <= i <= min(C-1, c+ceil((size-1)/2)).
type lrnOp struct {
	alpha, beta, bias float64
	size              int
}

func buildLRN(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &lrnOp{
		alpha: float64(a.float("alpha", 1e-4)),
		beta:  float64(a.float("beta", 0.75)),
		bias:  float64(a.float("bias", 1)),
		size:  int(a.int("size", 0)),
	}
	if a.err != nil {
		return nil, a.err
	}
	if !a.has("size") || o.size <= 0 {
		return nil, errorf(n, "attribute \"size\": want a positive value")
	}
	return o, nil
}

func (o *lrnOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	if x.DType != tensor.Float32 {
		return fmt.Errorf("want float32 input, got %v", x)
	}
	n, c, sp, err := spatialOf(x, "X")
	if err != nil {
		return err
	}
	size := prod(sp)
	resize(out[0], tensor.Float32, x.Shape...)
	y := out[0].F32
	lo, hi := (o.size-1)/2, o.size/2 // floor and ceil of (size-1)/2
	scale := o.alpha / float64(o.size)
	for b := range n {
		base := b * c * size
		for ch := range c {
			first, last := max(0, ch-lo), min(c-1, ch+hi)
			for p := range size {
				var sum float64
				for i := first; i <= last; i++ {
					v := float64(x.F32[base+i*size+p])
					sum += v * v
				}
				k := base + ch*size + p
				y[k] = float32(float64(x.F32[k]) / math.Pow(o.bias+scale*sum, o.beta))
			}
		}
	}
	return nil
}
