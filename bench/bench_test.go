package main

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/tensor"
	"github.com/onnxkit/onnxkit/train"
)

// The benchmarks run the Go side alone; the harness (go run .) compares it
// with the peers. For the same thread count as the harness:
//
//	go test -run '^$' -bench . -cpu 2
//
// No test here asserts a time.

var lenet5Export = filepath.Join("..", "testdata", "pytorch", "lenet5", "model.onnx")

// images returns n pseudo-random images [n,1,28,28] with values in [0, 1)
// (the values do not change the work done).
func images(n int) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.New(tensor.Float32, n, 1, 28, 28)
	for i := range x.F32 {
		x.F32[i] = rng.Float32()
	}
	return x
}

func loadLeNet5(b *testing.B) (*infer.Session, string, string) {
	b.Helper()
	s, err := infer.Load(lenet5Export)
	if err != nil {
		b.Fatal(err)
	}
	return s, s.Inputs()[0].Name, s.Outputs()[0].Name
}

// BenchmarkSessionRun runs PyTorch's LeNet5 export with Session.Run (fresh
// output tensors each run) at batch 1, 64 and 1,000.
func BenchmarkSessionRun(b *testing.B) {
	s, in, _ := loadLeNet5(b)
	for _, n := range []int{1, 64, 1000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			feeds := map[string]*tensor.Tensor{in: images(n)}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Run(feeds); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// BenchmarkSessionRunInto is BenchmarkSessionRun with Session.RunInto
// reusing one output tensor.
func BenchmarkSessionRunInto(b *testing.B) {
	s, in, out := loadLeNet5(b)
	for _, n := range []int{1, 64, 1000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			feeds := map[string]*tensor.Tensor{in: images(n)}
			outs := map[string]*tensor.Tensor{out: new(tensor.Tensor)}
			if err := s.RunInto(feeds, outs); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.RunInto(feeds, outs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// BenchmarkTrainStep is one training step of the tutorial's LeNet5 on a
// batch of 100 (forward, cross-entropy loss, backward, Adam at lr 1e-3),
// through train.Trainer.Step as Fit runs it. The MLP and CNN steps are
// there for comparison.
func BenchmarkTrainStep(b *testing.B) {
	for _, model := range []string{train.LeNet5, train.CNN, train.MLP} {
		b.Run(model, func(b *testing.B) {
			r, err := train.DefaultRecipe(model)
			if err != nil {
				b.Fatal(err)
			}
			t, err := train.NewTrainer(r, 1)
			if err != nil {
				b.Fatal(err)
			}
			x := images(r.BatchSize)
			labels := make([]int, r.BatchSize)
			for i := range labels {
				labels[i] = i % 10
			}
			if _, err := t.Step(x, labels); err != nil { // grow the buffers
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := t.Step(x, labels); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(r.BatchSize*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}
