package train

import (
	"context"
	"testing"
)

// BenchmarkStep times one training step (forward, loss, backward, optimizer)
// on a batch of 100 for each tutorial model.
func BenchmarkStep(b *testing.B) {
	for _, kind := range Models {
		b.Run(kind, func(b *testing.B) {
			r, _ := DefaultRecipe(kind)
			tr, err := NewTrainer(r, 1)
			if err != nil {
				b.Fatal(err)
			}
			x, labels := randomBatch(1, 100)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.Step(x, labels); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)*600, "s/epoch")
		})
	}
}

// BenchmarkLeNet5Epoch times one full epoch of the LeNet5 recipe on the
// 60,000 MNIST training images (without the test evaluation). Run it with
// -bench LeNet5Epoch -benchtime 1x.
func BenchmarkLeNet5Epoch(b *testing.B) {
	train, test := loadMNIST(b)
	for b.Loop() {
		b.StopTimer()
		r, _ := DefaultRecipe(LeNet5)
		r.Epochs = 1
		tr, err := NewTrainer(r, 1)
		if err != nil {
			b.Fatal(err)
		}
		tr.OnEpoch = func(s EpochStats) error {
			b.Logf("epoch 1/1: loss %.4f, test accuracy %.2f%%, %.1fs (+%.1fs eval)", s.Loss, 100*s.TestAccuracy, s.Duration.Seconds(), s.EvalDuration.Seconds())
			return nil
		}
		b.StartTimer()
		if err := tr.Fit(context.Background(), train, test); err != nil {
			b.Fatal(err)
		}
	}
}
