package train_test

import (
	"fmt"
	"math"
	"time"

	"github.com/onnxkit/onnxkit/train"
)

func ExampleNew() {
	m, err := train.New(train.LeNet5, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range m.Params() {
		fmt.Println(p.Name, p.Value.Shape)
	}
	// Output:
	// conv1.weight [6 1 5 5]
	// conv1.bias [6]
	// conv2.weight [16 6 5 5]
	// conv2.bias [16]
	// conv3.weight [120 16 5 5]
	// conv3.bias [120]
	// fc1.weight [84 120]
	// fc1.bias [84]
	// fc2.weight [10 84]
	// fc2.bias [10]
}

func ExampleDefaultRecipe() {
	for _, kind := range train.Models {
		r, _ := train.DefaultRecipe(kind)
		fmt.Printf("%s: %s lr %g, batch %d, %d epochs\n", r.Model, r.Optimizer, r.LR, r.BatchSize, r.Epochs)
	}
	// Output:
	// mlp: sgd lr 0.01, batch 100, 10 epochs
	// cnn: adam lr 0.001, batch 100, 10 epochs
	// lenet5: adam lr 0.001, batch 100, 10 epochs
	// best: sgd lr 0.1, batch 128, 6 epochs
}

func ExampleEpochStats_String() {
	s := train.EpochStats{Epoch: 3, Epochs: 10, Loss: 0.04123, TestAccuracy: 0.98712, Duration: 4200 * time.Millisecond}
	fmt.Println(s)
	s.TestAccuracy = math.NaN()
	fmt.Println(s)
	// Output:
	// epoch 3/10: loss 0.0412, test accuracy 98.71%, 4.2s
	// epoch 3/10: loss 0.0412, 4.2s
}

func ExampleModel_Export() {
	m, _ := train.New(train.CNN, 1)
	om, err := m.Export(train.ExportOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range om.Graph.Nodes {
		fmt.Println(n.Name, n.Inputs, "->", n.Outputs)
	}
	// Output:
	// /conv1/Conv [input conv1.weight conv1.bias] -> [/conv1/Conv_output_0]
	// /relu1/Relu [/conv1/Conv_output_0] -> [/relu1/Relu_output_0]
	// /pool/MaxPool [/relu1/Relu_output_0] -> [/pool/MaxPool_output_0]
	// /flatten/Flatten [/pool/MaxPool_output_0] -> [/flatten/Flatten_output_0]
	// /fc1/Gemm [/flatten/Flatten_output_0 fc1.weight fc1.bias] -> [/fc1/Gemm_output_0]
	// /relu2/Relu [/fc1/Gemm_output_0] -> [/relu2/Relu_output_0]
	// /fc2/Gemm [/relu2/Relu_output_0 fc2.weight fc2.bias] -> [logits]
}
