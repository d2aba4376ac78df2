package verify

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// lenet5FP16 is the float16 copy of the PyTorch LeNet5 export made by
// scripts/make_float16.py (float16 weights, Casts at the graph's edges),
// with the float32 export's inputs and PyTorch's float32 logits.
var lenet5FP16 = "../testdata/float16/lenet5"

// float16Tolerance is for a whole float16 network against float32 logits:
// each op rounds to 11 significant bits (relative error up to 2^-11).
var float16Tolerance = Tolerance{Rtol: 1e-2, Atol: 1e-2}

// The float16 LeNet5 matches PyTorch's float32 logits at float16 tolerance,
// and its input and output stay float32.
func TestLeNet5Float16(t *testing.T) {
	if _, err := os.Stat(lenet5FP16); err != nil {
		t.Skipf("%s absent: %v", lenet5FP16, err)
	}
	m, err := onnx.ReadFile(filepath.Join(lenet5FP16, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	halfs := 0
	for _, in := range m.Graph.Initializers {
		if in.Tensor.DType == tensor.Float16 {
			halfs++
		}
	}
	if halfs != len(m.Graph.Initializers) || halfs == 0 {
		t.Errorf("%d of %d initializers are float16, want all", halfs, len(m.Graph.Initializers))
	}
	r := Case(lenet5FP16, float16Tolerance)
	if !r.Passed() {
		t.Fatalf("Case(float16/lenet5) failed: %v", r.Err)
	}
	if r.Sets != 2 {
		t.Errorf("Case(float16/lenet5) ran %d data sets, want 2", r.Sets)
	}
	// Float16 does change the logits: a match to float32 precision would
	// mean the float16 path was not taken.
	if r.MaxAbs < 1e-4 {
		t.Errorf("max abs difference %g from float32 logits, want float16-sized (> 1e-4)", r.MaxAbs)
	}
	t.Logf("float16/lenet5: %d sets, max abs %.2g, max rel %.2g", r.Sets, r.MaxAbs, r.MaxRel)
}

// The float16 LeNet5's test accuracy is the float32 export's to within 0.1
// points on the 10,000 MNIST test images.
func TestLeNet5Float16Accuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 images skipped in -short mode")
	}
	if _, err := os.Stat(lenet5FP16); err != nil {
		t.Skipf("%s absent: %v", lenet5FP16, err)
	}
	_, test, err := mnist.Load("")
	if err != nil {
		t.Skipf("MNIST not found: %v", err)
	}
	accuracy := func(pred []int) float64 {
		right := 0
		for i, p := range pred {
			if p == int(test.Labels[i]) {
				right++
			}
		}
		return 100 * float64(right) / float64(test.N)
	}
	p32 := predictAll(t, filepath.Join(pytorchDir, "lenet5", "model.onnx"), test)
	p16 := predictAll(t, filepath.Join(lenet5FP16, "model.onnx"), test)
	a32, a16 := accuracy(p32), accuracy(p16)
	differ := 0
	for i := range p32 {
		if p32[i] != p16[i] {
			differ++
		}
	}
	t.Logf("accuracy float32 %.2f%%, float16 %.2f%%; %d of %d predictions differ", a32, a16, differ, test.N)
	if math.Abs(a32-a16) > 0.1 {
		t.Errorf("float16 accuracy %.2f%%, float32 %.2f%%: more than 0.1 points apart", a16, a32)
	}
}

// Once warm, a run of the float16 LeNet5 allocates nothing: the widened
// inputs and float32 outputs of each node are reused (infer/narrow.go).
func TestLeNet5Float16Allocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	if _, err := os.Stat(lenet5FP16); err != nil {
		t.Skipf("%s absent: %v", lenet5FP16, err)
	}
	s, err := infer.Load(filepath.Join(lenet5FP16, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]*tensor.Tensor{"input": tensor.New(tensor.Float32, 2, 1, 28, 28)}
	out := map[string]*tensor.Tensor{"logits": {}}
	run := func() {
		if err := s.RunInto(in, out); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if allocs := testing.AllocsPerRun(10, run); allocs != 0 {
		t.Errorf("RunInto: %v allocations per run, want 0", allocs)
	}
}

// Concurrent runs of the float16 LeNet5 give the serial run's logits: each
// run has its own float32 buffers, the widened weights are shared read-only.
func TestLeNet5Float16Concurrent(t *testing.T) {
	if _, err := os.Stat(lenet5FP16); err != nil {
		t.Skipf("%s absent: %v", lenet5FP16, err)
	}
	s, err := infer.Load(filepath.Join(lenet5FP16, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := make([]*tensor.Tensor, 4)
	want := make([]*tensor.Tensor, len(inputs))
	for i := range inputs {
		inputs[i] = tensor.New(tensor.Float32, 1, 1, 28, 28)
		for j := range inputs[i].F32 {
			inputs[i].F32[j] = float32((j*(i+3))%255) / 255
		}
		out, err := s.Run(map[string]*tensor.Tensor{"input": inputs[i]})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out["logits"]
	}
	errs := make(chan error, len(inputs))
	for i := range inputs {
		go func() {
			for range 20 {
				out, err := s.Run(map[string]*tensor.Tensor{"input": inputs[i]})
				if err == nil {
					_, err = Compare(out["logits"], want[i], Tolerance{})
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range inputs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
