package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/mnist"
)

// syntheticSet returns n random 28x28 images whose label is the brightest
// of 10 horizontal bands (learnable), from seed.
func syntheticSet(seed uint64, n int) *mnist.Set {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &mnist.Set{N: n, Rows: 28, Cols: 28, Images: make([]uint8, n*784), Labels: make([]uint8, n)}
	for i := range n {
		lab := rng.IntN(10)
		s.Labels[i] = uint8(lab)
		img := s.Image(i)
		for p := range img {
			v := rng.IntN(100)
			if r := p / 28; r >= 2+lab*2 && r < 4+lab*2 {
				v += 155
			}
			img[p] = uint8(v)
		}
	}
	return s
}

// trainSynthetic trains kind for 2 epochs of 60 images in batches of 20 and
// returns the model.
func trainSynthetic(t *testing.T, kind string, seed uint64) *Model {
	t.Helper()
	r, err := DefaultRecipe(kind)
	if err != nil {
		t.Fatal(err)
	}
	r.BatchSize, r.Epochs = 20, 2
	tr, err := NewTrainer(r, seed)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Fit(context.Background(), syntheticSet(3, 60), nil); err != nil {
		t.Fatal(err)
	}
	return tr.Model
}

// TestDeterminism trains twice with the same seed, with 1 and with 3
// workers, and wants bit-identical weights (dropout, shuffling, chunked
// reductions and all).
func TestDeterminism(t *testing.T) {
	defer setWorkers(0) // 0: back to GOMAXPROCS workers
	for _, kind := range []string{LeNet5, CNN} {
		t.Run(kind, func(t *testing.T) {
			setWorkers(1)
			a := trainSynthetic(t, kind, 11)
			setWorkers(3)
			b := trainSynthetic(t, kind, 11)
			c := trainSynthetic(t, kind, 12)
			for i, p := range a.Params() {
				if !equalF32(p.Value.F32, b.Params()[i].Value.F32) {
					t.Errorf("%s differs between two runs with seed 11 (1 and 3 workers)", p.Name)
				}
			}
			if equalParams(a, c) {
				t.Error("seeds 11 and 12 gave the same weights")
			}
		})
	}
}

// TestStepNoAllocs checks that a training step allocates nothing once the
// buffers exist.
func TestStepNoAllocs(t *testing.T) {
	setWorkers(2)
	defer setWorkers(0)
	for _, kind := range Models {
		t.Run(kind, func(t *testing.T) {
			r, _ := DefaultRecipe(kind)
			tr, err := NewTrainer(r, 1)
			if err != nil {
				t.Fatal(err)
			}
			x, labels := randomBatch(1, 16)
			if _, err := tr.Step(x, labels); err != nil {
				t.Fatal(err)
			}
			if raceEnabled {
				t.Skip("the race detector makes sync.Pool drop values: allocation counts mean nothing")
			}
			if n := testing.AllocsPerRun(3, func() {
				if _, err := tr.Step(x, labels); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("Step allocates %v times per call, want 0", n)
			}
		})
	}
}

func TestFitLearns(t *testing.T) {
	r, _ := DefaultRecipe(LeNet5)
	r.BatchSize, r.Epochs = 10, 3
	tr, err := NewTrainer(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr.Model.Normalize = &Normalize{Mean: 0.1307, Std: 0.3081}
	var stats []EpochStats
	tr.OnEpoch = func(s EpochStats) error { stats = append(stats, s); return nil }
	if err := tr.Fit(context.Background(), syntheticSet(1, 200), syntheticSet(2, 100)); err != nil {
		t.Fatal(err)
	}
	if len(stats) != 3 || stats[2].Epoch != 3 || stats[2].Epochs != 3 {
		t.Fatalf("stats = %+v, want 3 epochs", stats)
	}
	for _, s := range stats {
		t.Logf("epoch %d/%d: loss %.4f, test accuracy %.2f%%", s.Epoch, s.Epochs, s.Loss, 100*s.TestAccuracy)
	}
	if !(stats[2].Loss < stats[0].Loss) {
		t.Errorf("training loss went from %v to %v, want it to fall", stats[0].Loss, stats[2].Loss)
	}
	// The bands are easy: chance is 10%.
	if stats[2].TestAccuracy < 0.5 {
		t.Errorf("test accuracy %.2f%% on synthetic bands, want >= 50%%", 100*stats[2].TestAccuracy)
	}
}

func TestFitErrors(t *testing.T) {
	ctx := context.Background()
	newTr := func() *Trainer {
		r, _ := DefaultRecipe(LeNet5)
		r.BatchSize, r.Epochs = 10, 1
		tr, err := NewTrainer(r, 1)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	train := syntheticSet(1, 30)

	t.Run("NaN", func(t *testing.T) {
		tr := newTr()
		tr.Model.Params()[8].Value.F32[0] = float32(math.NaN()) // fc2.weight
		err := tr.Fit(ctx, train, nil)
		if err == nil || !strings.Contains(err.Error(), "epoch 1, batch 1: loss is NaN") {
			t.Fatalf("Fit with a NaN weight: error %v, want one naming epoch 1, batch 1", err)
		}
	})
	t.Run("Inf at batch 2", func(t *testing.T) {
		tr := newTr()
		calls := 0
		tr.Optimizer = optimizerFunc(func(ps []*Param) {
			if calls++; calls == 1 {
				ps[8].Value.F32[0] = float32(math.Inf(1))
			}
		})
		err := tr.Fit(ctx, train, nil)
		if err == nil || !strings.Contains(err.Error(), "epoch 1, batch 2: loss is") {
			t.Fatalf("Fit: error %v, want one naming epoch 1, batch 2", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx)
		cancel()
		if err := newTr().Fit(c, train, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("Fit with a canceled context: %v", err)
		}
	})
	t.Run("callback error", func(t *testing.T) {
		tr := newTr()
		stop := errors.New("stop")
		tr.OnEpoch = func(EpochStats) error { return stop }
		if err := tr.Fit(ctx, train, nil); !errors.Is(err, stop) {
			t.Fatalf("Fit: %v, want the callback's error", err)
		}
	})
	t.Run("bad sets", func(t *testing.T) {
		small := &mnist.Set{N: 1, Rows: 14, Cols: 14, Images: make([]uint8, 196), Labels: []uint8{1}}
		if err := newTr().Fit(ctx, small, nil); err == nil || !strings.Contains(err.Error(), "14x14") {
			t.Errorf("Fit on 14x14 images: %v", err)
		}
		badLabel := syntheticSet(1, 2)
		badLabel.Labels[1] = 12
		if err := newTr().Fit(ctx, badLabel, nil); err == nil || !strings.Contains(err.Error(), "label 12") {
			t.Errorf("Fit with label 12: %v", err)
		}
		tr := newTr()
		tr.Model.Normalize = &Normalize{Mean: 0.5, Std: 0}
		if err := tr.Fit(ctx, train, nil); err == nil || !strings.Contains(err.Error(), "std") {
			t.Errorf("Fit with std 0: %v", err)
		}
	})
	t.Run("recipes", func(t *testing.T) {
		if _, err := NewTrainer(Recipe{Model: LeNet5, Optimizer: "rmsprop", LR: 1}, 1); err == nil {
			t.Error("NewTrainer with rmsprop succeeded")
		}
		if _, err := NewTrainer(Recipe{Model: LeNet5, Optimizer: "sgd", LR: math.NaN()}, 1); err == nil {
			t.Error("NewTrainer with lr NaN succeeded")
		}
		if _, err := DefaultRecipe("vgg"); err == nil {
			t.Error(`DefaultRecipe("vgg") succeeded`)
		}
		for kind, want := range map[string]Recipe{
			MLP:    {Model: MLP, Optimizer: "sgd", LR: 0.01, BatchSize: 100, Epochs: 10},
			CNN:    {Model: CNN, Optimizer: "adam", LR: 1e-3, BatchSize: 100, Epochs: 10},
			LeNet5: {Model: LeNet5, Optimizer: "adam", LR: 1e-3, BatchSize: 100, Epochs: 10},
		} {
			if r, _ := DefaultRecipe(kind); r != want {
				t.Errorf("DefaultRecipe(%s) = %+v, want %+v", kind, r, want)
			}
		}
	})
}

type optimizerFunc func([]*Param)

func (f optimizerFunc) Step(ps []*Param) { f(ps) }

func TestEvaluate(t *testing.T) {
	m, _ := New(MLP, 1)
	// Make the model predict class 3 for everything: fc2.bias[3] large.
	m.Params()[3].Value.F32[3] = 100
	s := syntheticSet(4, 57)
	want := 0
	for _, l := range s.Labels {
		if l == 3 {
			want++
		}
	}
	r, err := Evaluate(context.Background(), m, s, 10)
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 57 || r.Correct != want || math.Abs(r.Accuracy-float64(want)/57) > 1e-12 {
		t.Errorf("Evaluate = %+v, want %d of 57 correct", r, want)
	}
	if !m.Training() {
		t.Error("Evaluate left the model in evaluation mode")
	}
}
