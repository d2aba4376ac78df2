package infer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestPyTorchRunIntoAllocs checks that RunInto on the PyTorch exports
// (Conv, Gemm, MaxPool, AveragePool, Pad, Tanh, Relu, Flatten) allocates
// nothing once its buffers have grown, for a single image and for a batch
// (which takes the multi-goroutine paths when GOMAXPROCS > 1).
func TestPyTorchRunIntoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, name := range []string{"mlp", "cnn", "lenet5"} {
		dir := filepath.Join("..", "testdata", "pytorch", name)
		if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err != nil {
			t.Logf("%s: reference export not present", name)
			continue
		}
		modelPath, sets, err := onnx.LoadTestCase(dir)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Load(modelPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, set := range sets {
			t.Run(name+"/"+filepath.Base(set.Dir), func(t *testing.T) {
				in := map[string]*tensor.Tensor{s.Inputs()[0].Name: set.Inputs[0].Tensor}
				out := map[string]*tensor.Tensor{s.Outputs()[0].Name: {}}
				if err := s.RunInto(in, out); err != nil {
					t.Fatal(err)
				}
				allocs := testing.AllocsPerRun(10, func() {
					if err := s.RunInto(in, out); err != nil {
						t.Fatal(err)
					}
				})
				if allocs != 0 {
					t.Errorf("RunInto(%v): %v allocations per run, want 0", set.Inputs[0].Tensor, allocs)
				}
			})
		}
	}
}
