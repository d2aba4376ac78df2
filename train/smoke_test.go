package train

import (
	"context"
	"math"
	"sync"
	"testing"

	"github.com/onnxkit/onnxkit/mnist"
)

var (
	mnistOnce             sync.Once
	mnistTrain, mnistTest *mnist.Set
	mnistErr              error
)

// loadMNIST loads the real data set once per test binary, or skips.
func loadMNIST(t testing.TB) (train, test *mnist.Set) {
	t.Helper()
	mnistOnce.Do(func() { mnistTrain, mnistTest, mnistErr = mnist.Load("") })
	if mnistErr != nil {
		t.Skipf("MNIST not available: %v", mnistErr)
	}
	return mnistTrain, mnistTest
}

// TestSmokeLeNet5 trains LeNet5 for one epoch on the first 2,000 training
// images and checks that the loss falls and that at least 80% of the first
// 1,000 test images are classified correctly.
func TestSmokeLeNet5(t *testing.T) {
	train, test := loadMNIST(t)
	tr, err := NewTrainer(Recipe{Model: LeNet5, Optimizer: "adam", LR: 1e-3, BatchSize: 10, Epochs: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	before, err := Evaluate(context.Background(), tr.Model, test.Slice(0, 1000), 100)
	if err != nil {
		t.Fatal(err)
	}
	var stats []EpochStats
	tr.OnEpoch = func(s EpochStats) error { stats = append(stats, s); return nil }
	if err := tr.Fit(context.Background(), train.Slice(0, 2000), test.Slice(0, 1000)); err != nil {
		t.Fatal(err)
	}
	if len(stats) != 1 {
		t.Fatalf("OnEpoch called %d times, want 1", len(stats))
	}
	s := stats[0]
	t.Logf("before: loss %.4f, accuracy %.2f%%; after 1 epoch on 2000 images: train loss %.4f, test loss %.4f, accuracy %.2f%%, %v (+%v eval)",
		before.Loss, 100*before.Accuracy, s.Loss, s.TestLoss, 100*s.TestAccuracy, s.Duration, s.EvalDuration)
	if !(s.TestLoss < before.Loss) || math.IsNaN(s.Loss) {
		t.Errorf("test loss %.4f after training, %.4f before: want it to fall", s.TestLoss, before.Loss)
	}
	if s.TestAccuracy <= 0.80 {
		t.Errorf("test accuracy %.2f%%, want > 80%%", 100*s.TestAccuracy)
	}
}
