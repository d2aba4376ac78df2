package infer_test

import (
	"fmt"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Load a PyTorch export from a file and run it on the first MNIST test
// image (a 7), stored beside it as an ONNX tensor file.
func ExampleLoad() {
	s, err := infer.Load("../testdata/pytorch/lenet5/model.onnx")
	if err != nil {
		fmt.Println(err)
		return
	}
	in, out := s.Inputs()[0], s.Outputs()[0]
	fmt.Println("input", in.Name, "output", out.Name)

	_, x, err := onnx.ReadTensorFile("../testdata/pytorch/lenet5/test_data_set_0/input_0.pb")
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := s.Run(map[string]*tensor.Tensor{in.Name: x})
	if err != nil {
		fmt.Println(err)
		return
	}
	logits := res[out.Name]
	best := 0
	for i, v := range logits.F32 {
		if v > logits.F32[best] {
			best = i
		}
	}
	fmt.Println(x, "->", logits, "class", best)
	// Output:
	// input input output logits
	// float32[1x1x28x28] -> float32[1x10] class 7
}
