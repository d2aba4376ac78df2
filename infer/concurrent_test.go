package infer_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/tensor"
)

// Eight goroutines running one Session at once, with different inputs and
// batch sizes, get bit-for-bit the outputs of a serial run. Run under -race
// in CI.
func TestConcurrentRunMatchesSerial(t *testing.T) {
	for _, name := range []string{"lenet5", "cnn"} {
		t.Run(name, func(t *testing.T) {
			s, err := infer.Load("../testdata/pytorch/" + name + "/model.onnx")
			if err != nil {
				t.Fatal(err)
			}
			const goroutines, runs = 8, 6
			r := rand.New(rand.NewPCG(1, 2))
			inputs := make([]*tensor.Tensor, goroutines*runs)
			want := make([]*tensor.Tensor, len(inputs))
			for i := range inputs {
				x := tensor.New(tensor.Float32, 1+i%5, 1, 28, 28)
				for j := range x.F32 {
					x.F32[j] = r.Float32()
				}
				inputs[i] = x
				out, err := s.Run(map[string]*tensor.Tensor{"input": x})
				if err != nil {
					t.Fatal(err)
				}
				want[i] = out["logits"]
			}
			var wg sync.WaitGroup
			errs := make(chan error, len(inputs))
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					reuse := map[string]*tensor.Tensor{"logits": {}}
					for k := range runs {
						i := g*runs + k
						got := reuse["logits"]
						if k%2 == 0 {
							out, err := s.Run(map[string]*tensor.Tensor{"input": inputs[i]})
							if err != nil {
								errs <- err
								return
							}
							got = out["logits"]
						} else if err := s.RunInto(map[string]*tensor.Tensor{"input": inputs[i]}, reuse); err != nil {
							errs <- err
							return
						}
						if err := sameBits(got, want[i]); err != nil {
							errs <- fmt.Errorf("goroutine %d, input %d: %v", g, i, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func sameBits(got, want *tensor.Tensor) error {
	if got.DType != want.DType || tensor.ShapeString(got.Shape) != tensor.ShapeString(want.Shape) {
		return fmt.Errorf("got %v, want %v", got, want)
	}
	for i := range want.F32 {
		if got.F32[i] != want.F32[i] {
			return fmt.Errorf("element %d: got %v, serial run %v", i, got.F32[i], want.F32[i])
		}
	}
	return nil
}
