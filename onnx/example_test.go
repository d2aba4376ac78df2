package onnx_test

import (
	"fmt"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// A model built in Go, encoded to .onnx bytes and decoded again.
func ExampleEncode() {
	m := &onnx.Model{
		IRVersion:    8,
		OpsetImports: []onnx.OpsetImport{{Domain: "", Version: 13}},
		Graph: &onnx.Graph{
			Inputs: []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, ElemType: onnx.ElemTypeOf(tensor.Float32),
				HasShape: true, Shape: []onnx.Dim{{Value: -1, Param: "batch"}, {Value: 2}}}},
			Initializers: []*onnx.Initializer{{Name: "w", Tensor: tensor.FromFloat32([]float32{1, 2, 3, 4}, 2, 2)}},
			Nodes:        []*onnx.Node{{Name: "mm", OpType: "MatMul", Inputs: []string{"x", "w"}, Outputs: []string{"y"}}},
			Outputs:      []*onnx.ValueInfo{{Name: "y"}},
		},
	}
	data, err := onnx.Encode(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	m2, err := onnx.Decode(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(onnx.Check(m2))
	n := m2.Graph.Nodes[0]
	fmt.Println(n.Name, n.OpType, n.Inputs, n.Outputs)
	fmt.Println(m2.Graph.Inputs[0].Shape[0].Param, m2.Graph.Initializers[0].Tensor.F32)
	// Output:
	// <nil>
	// mm MatMul [x w] [y]
	// batch [1 2 3 4]
}

// Check names the node at fault.
func ExampleCheck() {
	m := &onnx.Model{
		IRVersion:    8,
		OpsetImports: []onnx.OpsetImport{{Version: 13}},
		Graph: &onnx.Graph{
			Inputs: []*onnx.ValueInfo{{Name: "input"}},
			Nodes: []*onnx.Node{
				{Name: "/conv1/Conv", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"}},
			},
			Outputs: []*onnx.ValueInfo{{Name: "y"}},
		},
	}
	fmt.Println(onnx.Check(m))
	// Output:
	// onnx: invalid format: node "/conv1/Conv" (Conv): input "x" is not produced before use
}

// A test-data tensor file round trip.
func ExampleDecodeTensor() {
	data, err := onnx.EncodeTensor("input", tensor.FromInt64([]int64{3, 1, 4}, 3))
	if err != nil {
		fmt.Println(err)
		return
	}
	name, t, err := onnx.DecodeTensor(data)
	fmt.Println(name, t, t.I64, err)
	// Output:
	// input int64[3] [3 1 4] <nil>
}
