package convert_test

import (
	"fmt"
	"log"

	"github.com/onnxkit/onnxkit/convert"
	"github.com/onnxkit/onnxkit/onnx"
)

// Convert PyTorch's MLP export from opset 13 to opset 9 and for onnx-go.
func ExampleConvert() {
	m, err := onnx.ReadFile("../testdata/pytorch/mlp/model.onnx")
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range []convert.Options{{Opset: 9}, {Target: "onnx-go"}} {
		c, err := convert.Convert(m, o)
		if err != nil {
			log.Fatal(err)
		}
		v, _ := c.Opset("")
		fmt.Printf("opset %d, IR %d:", v, c.IRVersion)
		for _, n := range c.Graph.Nodes {
			fmt.Print(" ", n.OpType)
		}
		fmt.Println()
	}
	// Output:
	// opset 9, IR 4: Constant Reshape Gemm Relu Gemm
	// opset 11, IR 6: Flatten Gemm Relu Gemm
}
