package infer

import (
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/onnxkit/onnxkit/tensor"
)

// TestBatchInvariant checks that each of PyTorch's exports of the
// tutorial's models gives a sample the same outputs, bit for bit, alone as
// in batches of 2 to 70 (serve batches requests on that promise).
func TestBatchInvariant(t *testing.T) {
	for _, name := range []string{"lenet5", "mlp", "cnn"} {
		s, err := Load(filepath.Join("..", "testdata", "pytorch", name, "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		in, out := s.Inputs()[0].Name, s.Outputs()[0].Name
		dims := inputDims(s)
		per := tensor.NumElements(dims)
		rng := rand.New(rand.NewSource(3))
		const total = 70
		x := randTensor(rng, append([]int{total}, dims...)...)
		alone := make([][]float32, total)
		for i := range total {
			xi := tensor.FromFloat32(x.F32[i*per:(i+1)*per], append([]int{1}, dims...)...)
			y, err := s.Run(map[string]*tensor.Tensor{in: xi})
			if err != nil {
				t.Fatal(err)
			}
			alone[i] = y[out].F32
		}
		for _, b := range []int{2, 3, 7, 16, 64, 70} {
			xb := tensor.FromFloat32(x.F32[:b*per], append([]int{b}, dims...)...)
			y, err := s.Run(map[string]*tensor.Tensor{in: xb})
			if err != nil {
				t.Fatal(err)
			}
			k := len(alone[0])
			for i := range b {
				for j, v := range y[out].F32[i*k : (i+1)*k] {
					if math.Float32bits(v) != math.Float32bits(alone[i][j]) {
						t.Fatalf("%s: batch of %d: sample %d output %d = %v, %v alone", name, b, i, j, v, alone[i][j])
					}
				}
			}
		}
	}
}
