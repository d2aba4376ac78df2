package infer_test

import (
	"fmt"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// A one-node model, built in Go: y = x * w + b (Gemm).
func Example() {
	m := &onnx.Model{
		OpsetImports: []onnx.OpsetImport{{Version: 13}},
		Graph: &onnx.Graph{
			Inputs: []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, HasShape: true,
				Shape: []onnx.Dim{{Value: -1, Param: "N"}, {Value: 2}}}},
			Outputs: []*onnx.ValueInfo{{Name: "y", DType: tensor.Float32}},
			Initializers: []*onnx.Initializer{
				{Name: "w", Tensor: tensor.FromFloat32([]float32{1, 2, 3, 4}, 2, 2)},
				{Name: "b", Tensor: tensor.FromFloat32([]float32{10, 20}, 2)},
			},
			Nodes: []*onnx.Node{{Name: "fc", OpType: "Gemm", Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"}}},
		},
	}
	s, err := infer.NewSession(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := s.Run(map[string]*tensor.Tensor{"x": tensor.FromFloat32([]float32{1, 1}, 1, 2)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out["y"], out["y"].F32)

	_, err = s.Run(map[string]*tensor.Tensor{"x": tensor.FromFloat32([]float32{1, 1, 1}, 1, 3)})
	fmt.Println(err)
	// Output:
	// float32[1x2] [14 26]
	// infer: input "x": want float32[N x 2], got float32[1x3]
}
