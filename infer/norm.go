package infer

import (
	"fmt"
	"math"

	"github.com/onnxkit/onnxkit/internal/kernel"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// batchNormOp is BatchNormalization in inference mode (opsets 1, 6, 7, 9,
// 14, 15; float32, float64): per channel (axis 1),
// Y = (X - mean) / sqrt(var + epsilon) * scale + B.
// With spatial=0 (opsets 1 to 7) the statistics are per activation: the
// parameters have shape C x D1 x ... like one sample of X.
// Training mode (training_mode=1, an explicit is_test=0 before opset 7, or
// nodes before opset 14 with the statistics outputs) is unsupported. An
// absent is_test is read as inference, as ONNX's version converter to
// opset 7 does; opset 1's consumed_inputs has no effect.
type batchNormOp struct {
	epsilon    float32
	perElement bool // spatial=0
}

func buildBatchNorm(n *onnx.Node, opset int64) (op, error) {
	maxOut := 5
	if opset >= 14 {
		maxOut = 3
	}
	if err := checkArity(n, 5, 5, maxOut); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &batchNormOp{epsilon: a.float("epsilon", 1e-5)}
	_ = a.float("momentum", 0.9) // used by training only
	if opset < 9 {
		switch sp := a.int("spatial", 1); sp {
		case 0, 1:
			o.perElement = sp == 0
		default:
			a.fail("attribute \"spatial\": want 0 or 1, got %d", sp)
		}
	} else if a.has("spatial") {
		a.fail("attribute \"spatial\" is not supported by this opset version")
	}
	training := false
	if opset < 7 {
		a.ints("consumed_inputs", -1, nil)
		// Nonzero is test mode.
		training = a.has("is_test") && a.int("is_test", 0) == 0
	}
	if opset >= 14 {
		switch tm := a.int("training_mode", 0); tm {
		case 0:
		case 1:
			training = true
		default:
			a.fail("attribute \"training_mode\": want 0 or 1, got %d", tm)
		}
	}
	if a.err != nil {
		return nil, a.err
	}
	if training && opset < 7 {
		return nil, unsupportedf(n, "is_test=0 (training mode)")
	}
	if training {
		return nil, unsupportedf(n, "training_mode=1")
	}
	if len(n.Outputs) > 1 {
		return nil, unsupportedf(n, "outputs beyond Y (training mode)")
	}
	return o, nil
}

func (o *batchNormOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	x := in[0]
	dt := x.DType
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return fmt.Errorf("want a float input, got X %v", x)
	}
	if x.Rank() < 2 {
		return fmt.Errorf("want X of rank 2 or more (N x C x ...), got %v", x)
	}
	n := x.Shape[0]
	groups := x.Shape[1]       // values sharing one set of parameters per sample
	inner := prod(x.Shape[2:]) // consecutive values sharing a parameter
	if o.perElement {
		groups, inner = groups*inner, 1
	}
	names := [4]string{"scale", "B", "mean", "var"}
	for i, p := range in[1:5] {
		if p.DType != dt || p.Len() != groups || (!o.perElement && p.Rank() != 1) {
			return fmt.Errorf("input %s is %v, want %v with %d elements to match X %v", names[i], p, dt, groups, x)
		}
	}
	y := out[0]
	y.Resize(dt, x.Shape...)
	if dt == tensor.Float32 {
		batchNorm(n, groups, inner, o.epsilon, x.F32, in[1].F32, in[2].F32, in[3].F32, in[4].F32, y.F32)
	} else {
		batchNorm(n, groups, inner, o.epsilon, x.F64, in[1].F64, in[2].F64, in[3].F64, in[4].F64, y.F64)
	}
	return nil
}

func batchNorm[T ~float32 | ~float64](n, groups, inner int, eps float32, x, scale, bias, mean, variance, y []T) {
	for i := 0; i < n; i++ {
		for c := 0; c < groups; c++ {
			// y = x*a + b with a and b computed in float64.
			a := float64(scale[c]) / math.Sqrt(float64(variance[c])+float64(eps))
			b := float64(bias[c]) - float64(mean[c])*a
			off := (i*groups + c) * inner
			xs, ys := x[off:off+inner], y[off:off+inner]
			fa, fb := T(a), T(b)
			if xf, ok := any(xs).([]float32); ok && len(xs) > 0 && &xs[0] != &ys[0] {
				// fb + float32(x*fa): the loop's two roundings, vectorized.
				yf := any(ys).([]float32)
				fill(yf, float32(fb))
				kernel.AxpyRows(float32(fa), xf, inner, 1, yf, inner, 1, inner)
				continue
			}
			for j, v := range xs {
				ys[j] = T(v*fa) + fb
			}
		}
	}
}
