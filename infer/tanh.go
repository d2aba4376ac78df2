package infer

import (
	"math"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/onnx"
)

// buildTanh is Tanh with the vectorized float32 kernel (float64 through
// math.Tanh).
func buildTanh(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 1, 1, 1); err != nil {
		return nil, err
	}
	return &unaryOp{n: n, f32: kernel.Tanh, f64: math.Tanh}, nil
}
