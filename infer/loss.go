package infer

import (
	"math"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// lossOp is NegativeLogLikelihoodLoss (opsets 12, 13, 22) or, with
// softmax set, SoftmaxCrossEntropyLoss (opsets 12, 13), which first takes
// the log-softmax of its scores over axis 1 (its optional second output).
// The input is (N, C, d1, ..., dk), the target (N, d1, ..., dk) of int32
// or int64 class indices, the optional weight (C). A target equal to
// ignore_index contributes nothing, to the loss or to mean's denominator.
type lossOp struct {
	n         *onnx.Node
	softmax   bool
	reduction string
	ignore    int64
	hasIgnore bool
}

func buildLoss(softmax bool) builder {
	return func(n *onnx.Node, opset int64) (op, error) {
		maxOut := 1
		if softmax {
			maxOut = 2
		}
		if err := checkArity(n, 2, 3, maxOut); err != nil {
			return nil, err
		}
		a := attrs{n: n}
		o := &lossOp{n: n, softmax: softmax, reduction: a.string("reduction", "mean"),
			ignore: a.int("ignore_index", 0), hasIgnore: a.has("ignore_index")}
		if a.err != nil {
			return nil, a.err
		}
		switch o.reduction {
		case "none", "sum", "mean":
		default:
			return nil, errorf(n, "attribute \"reduction\": %q (want \"none\", \"sum\" or \"mean\")", o.reduction)
		}
		return o, nil
	}
}

func (o *lossOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x, target, weight := in[0], in[1], input(in, 2)
	if x.DType != tensor.Float32 && x.DType != tensor.Float64 {
		return errorf(o.n, "input 0: want float32 or float64, got %v", x)
	}
	if x.Rank() < 2 {
		return errorf(o.n, "input 0: want rank 2 or more (N, C, ...), got %v", x)
	}
	if target.DType != tensor.Int64 && target.DType != tensor.Int32 {
		return errorf(o.n, "input 1 (target): want int32 or int64, got %v", target)
	}
	nb, c := x.Shape[0], x.Shape[1]
	ok := target.Rank() == x.Rank()-1 && target.Shape[0] == nb
	for i := 1; ok && i < target.Rank(); i++ {
		ok = target.Shape[i] == x.Shape[i+1]
	}
	if !ok {
		return errorf(o.n, "input 1 (target) %v does not match input %v (want N, d1, ..., dk)", target, x)
	}
	if weight != nil && (weight.DType != x.DType || weight.Rank() != 1 || weight.Shape[0] != c) {
		return errorf(o.n, "input 2 (weight): want %v[%d], got %v", x.DType, c, weight)
	}
	var logp *tensor.Tensor
	if o.softmax {
		if lp := output(out, 1); lp != nil {
			lp.Resize(x.DType, x.Shape...)
			logp = lp
		}
	}
	y := out[0]
	if o.reduction == "none" {
		y.Resize(x.DType, target.Shape...)
	} else {
		y.Resize(x.DType)
	}
	if x.DType == tensor.Float32 {
		return lossRun[float32](o, x, target, weight, y, logp)
	}
	return lossRun[float64](o, x, target, weight, y, logp)
}

func lossRun[T float32 | float64](o *lossOp, x, target, weight, y, logp *tensor.Tensor) error {
	xv := data[T](x)
	var wv []T
	if weight != nil {
		wv = data[T](weight)
	}
	var lp []T
	if logp != nil {
		lp = data[T](logp)
	}
	yv := data[T](y)
	nb, c := x.Shape[0], x.Shape[1]
	inner := prod(x.Shape[2:])
	var sum, wsum float64
	for b := 0; b < nb; b++ {
		for d := 0; d < inner; d++ {
			base := b*c*inner + d
			var shift, lse float64
			if o.softmax { // log_softmax over the C values at stride inner
				shift = math.Inf(-1)
				for k := 0; k < c; k++ {
					shift = max(shift, float64(xv[base+k*inner]))
				}
				for k := 0; k < c; k++ {
					lse += math.Exp(float64(xv[base+k*inner]) - shift)
				}
				lse = math.Log(lse)
				for k := 0; lp != nil && k < c; k++ {
					lp[base+k*inner] = T(float64(xv[base+k*inner]) - shift - lse)
				}
			}
			i := b*inner + d
			var t int64
			if target.DType == tensor.Int64 {
				t = target.I64[i]
			} else {
				t = int64(target.I32[i])
			}
			var l, w float64
			if !o.hasIgnore || t != o.ignore {
				if t < 0 || t >= int64(c) {
					return errorf(o.n, "input 1 (target): class %d out of range [0, %d) at index %d", t, c, i)
				}
				v := float64(xv[base+int(t)*inner])
				if o.softmax {
					v = float64(T(v - shift - lse))
				}
				w = 1
				if wv != nil {
					w = float64(wv[t])
				}
				l = -v * w
			}
			if o.reduction == "none" {
				yv[i] = T(l)
			}
			sum += l
			wsum += w
		}
	}
	switch o.reduction {
	case "sum":
		yv[0] = T(sum)
	case "mean":
		yv[0] = T(sum / wsum)
	}
	return nil
}
