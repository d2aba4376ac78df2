package verify

import (
	"path/filepath"
	"testing"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// pytorchDir holds the tutorial's models exported by PyTorch with their
// logits, made by scripts/make_reference.py.
const pytorchDir = "../testdata/pytorch"

// The PyTorch exports run in Go with PyTorch's logits, at a tolerance ten
// times tighter than the default.
func TestPyTorchExports(t *testing.T) {
	tol := Tolerance{Rtol: 1e-4, Atol: 1e-5}
	for _, name := range []string{"lenet5", "mlp", "cnn"} {
		t.Run(name, func(t *testing.T) {
			r := Case(filepath.Join(pytorchDir, name), tol)
			if !r.Passed() {
				t.Fatalf("Case(%s) failed: %v", name, r.Err)
			}
			if r.Sets != 2 {
				t.Errorf("Case(%s) ran %d data sets, want 2", name, r.Sets)
			}
			t.Logf("%s: %d sets, max abs %.2g, max rel %.2g", name, r.Sets, r.MaxAbs, r.MaxRel)
		})
	}
}

// Go's predicted class equals PyTorch's (predictions.pb, from
// scripts/make_reference.py) on all 10,000 MNIST test images.
func TestLeNet5PredictionsMatchPyTorch(t *testing.T) {
	_, test, err := mnist.Load("")
	if err != nil {
		t.Skipf("MNIST not found: %v", err)
	}
	_, want, err := onnx.ReadTensorFile(filepath.Join(pytorchDir, "lenet5", "predictions.pb"))
	if err != nil {
		t.Fatal(err)
	}
	if want.DType != tensor.Int64 || want.Len() != test.N {
		t.Fatalf("predictions.pb is %v, want int64[%d]", want, test.N)
	}
	got := predictAll(t, filepath.Join(pytorchDir, "lenet5", "model.onnx"), test)
	mismatches := 0
	for i, p := range got {
		if int64(p) != want.I64[i] {
			if mismatches < 5 {
				t.Errorf("image %d: Go predicts %d, PyTorch %d", i, p, want.I64[i])
			}
			mismatches++
		}
	}
	if mismatches > 0 {
		t.Errorf("%d of %d predictions differ from PyTorch's", mismatches, test.N)
	}
}

// predictAll runs a model with input "input" (N x 1 x 28 x 28, pixels/255)
// and output "logits" on every image of set and returns the argmax classes.
func predictAll(t *testing.T, path string, set *mnist.Set) []int {
	t.Helper()
	s, err := infer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	const batch = 500
	in := tensor.New(tensor.Float32, batch, 1, 28, 28)
	out := map[string]*tensor.Tensor{"logits": {}}
	pred := make([]int, 0, set.N)
	for lo := 0; lo < set.N; lo += batch {
		n := min(batch, set.N-lo)
		in.Resize(tensor.Float32, n, 1, 28, 28)
		for i, p := range set.Images[lo*784 : (lo+n)*784] {
			in.F32[i] = float32(p) / 255
		}
		if err := s.RunInto(map[string]*tensor.Tensor{"input": in}, out); err != nil {
			t.Fatal(err)
		}
		logits := out["logits"].F32
		for i := range n {
			pred = append(pred, argmax(logits[i*10:i*10+10]))
		}
	}
	return pred
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
