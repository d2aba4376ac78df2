package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/onnxkit/onnxkit/tensor"
)

// Recipe is a training setup: model, optimizer and schedule.
type Recipe struct {
	Model     string  // MLP, CNN, LeNet5 or Best
	Optimizer string  // "sgd", "adam" or "adamw"
	LR        float64 // learning rate (the peak of a one-cycle schedule)
	Momentum  float64 // SGD only
	BatchSize int
	Epochs    int
	// Schedule names the learning-rate schedule (NewSchedule): "" for a
	// constant rate.
	Schedule string
	// WeightDecay is SGD's and Adam's L2 term, AdamW's decoupled decay
	// (0 for AdamW means PyTorch's 0.01).
	WeightDecay float64
	// LabelSmoothing is the cross-entropy loss's (CrossEntropyLoss).
	LabelSmoothing float64
	// Augment is the augmentation of training images.
	Augment Augment
	// Input is the shape of one sample (channels, height, width) and
	// Classes the number of classes; zero values mean MNIST's (New).
	Input   [3]int
	Classes int
}

// DefaultRecipe returns the tutorial's setup for a model: the MLP with SGD
// at lr 0.01, the CNN and LeNet5 with Adam at lr 1e-3; batches of 100 for
// 10 epochs. Best has its own (bestRecipe).
func DefaultRecipe(model string) (Recipe, error) {
	r := Recipe{Model: model, BatchSize: 100, Epochs: 10}
	switch model {
	case MLP:
		r.Optimizer, r.LR = "sgd", 0.01
	case CNN, LeNet5:
		r.Optimizer, r.LR = "adam", 1e-3
	case Best:
		r = bestRecipe
	default:
		return Recipe{}, fmt.Errorf("train: unknown model %q (want one of %v)", model, Models)
	}
	return r, nil
}

// NewTrainer builds the recipe's model (initialized from seed, for
// r.Input and r.Classes) and optimizer, and a Trainer that shuffles with
// the same seed.
func NewTrainer(r Recipe, seed uint64) (*Trainer, error) {
	var m *Model
	var err error
	if r.Input == [3]int{} && r.Classes == 0 {
		m, err = New(r.Model, seed)
	} else {
		m, err = NewFor(r.Model, r.Input[:], r.Classes, seed)
	}
	if err != nil {
		return nil, err
	}
	return NewTrainerFor(m, r, seed)
}

// NewTrainerFor returns a Trainer for model m (a graph of one's own, or
// one read by FromONNX) with the recipe's optimizer, batch size and
// epochs (r.Model, r.Input and r.Classes are not used), shuffling with
// seed.
func NewTrainerFor(m *Model, r Recipe, seed uint64) (*Trainer, error) {
	if r.Model == "" {
		r.Model = m.Kind
	}
	if !(r.LR > 0) || math.IsInf(r.LR, 0) {
		return nil, fmt.Errorf("train: recipe for %q: learning rate %v must be positive", r.Model, r.LR)
	}
	if !(r.WeightDecay >= 0) || math.IsInf(r.WeightDecay, 0) {
		return nil, fmt.Errorf("train: recipe for %q: weight decay %v must not be negative", r.Model, r.WeightDecay)
	}
	var opt Optimizer
	switch r.Optimizer {
	case "sgd":
		opt = &SGD{LR: r.LR, Momentum: r.Momentum, WeightDecay: r.WeightDecay}
	case "adam":
		a := NewAdam(r.LR)
		a.WeightDecay = r.WeightDecay
		opt = a
	case "adamw":
		a := NewAdamW(r.LR)
		if r.WeightDecay > 0 {
			a.WeightDecay = r.WeightDecay
		}
		opt = a
	default:
		return nil, fmt.Errorf("train: recipe for %q: unknown optimizer %q (want sgd, adam or adamw)", r.Model, r.Optimizer)
	}
	if r.BatchSize < 0 || r.Epochs < 0 {
		return nil, fmt.Errorf("train: recipe for %q: batch size %d and epochs %d must not be negative", r.Model, r.BatchSize, r.Epochs)
	}
	sched, err := NewSchedule(r.Schedule, r.LR)
	if err != nil {
		return nil, fmt.Errorf("train: recipe for %q: %w", r.Model, err)
	}
	if !(r.LabelSmoothing >= 0 && r.LabelSmoothing <= 1) {
		return nil, fmt.Errorf("train: recipe for %q: label smoothing %v not in [0, 1]", r.Model, r.LabelSmoothing)
	}
	if err := r.Augment.check(); err != nil {
		return nil, fmt.Errorf("train: recipe for %q: %w", r.Model, err)
	}
	return &Trainer{Model: m, Optimizer: opt, BatchSize: r.BatchSize, Epochs: r.Epochs, Seed: seed,
		Schedule: sched, LabelSmoothing: r.LabelSmoothing, Augment: r.Augment}, nil
}

// EpochStats is what Fit reports after each epoch.
type EpochStats struct {
	Epoch, Epochs int           // 1-based epoch number and total
	Loss          float64       // mean training loss over the epoch's samples
	TestAccuracy  float64       // fraction in [0, 1]; NaN without a test set
	TestLoss      float64       // mean test loss; NaN without a test set
	Duration      time.Duration // training time of the epoch
	EvalDuration  time.Duration // time spent on the test set
}

// String formats the stats as the CLI prints them:
// "epoch 3/10: loss 0.0412, test accuracy 98.71%, 4.2s" (without a test
// set: "epoch 3/10: loss 0.0412, 4.2s"). The time is the training time.
func (s EpochStats) String() string {
	if math.IsNaN(s.TestAccuracy) {
		return fmt.Sprintf("epoch %d/%d: loss %.4f, %.1fs", s.Epoch, s.Epochs, s.Loss, s.Duration.Seconds())
	}
	return fmt.Sprintf("epoch %d/%d: loss %.4f, test accuracy %.2f%%, %.1fs", s.Epoch, s.Epochs, s.Loss, 100*s.TestAccuracy, s.Duration.Seconds())
}

// Trainer trains a Model on a Dataset with mini-batches.
type Trainer struct {
	Model     *Model
	Optimizer Optimizer
	BatchSize int    // 0 means 100
	Epochs    int    // 0 means 10
	Seed      uint64 // for the per-epoch shuffles
	// OnEpoch, when not nil, is called after each epoch; an error stops
	// training and Fit returns it.
	OnEpoch func(EpochStats) error
	// OnBatch, when not nil, is called after each training batch with the
	// number of images in it (for progress bars).
	OnBatch func(images int)
	// Schedule, when not nil, sets the optimizer's learning rate (and
	// momentum) before each batch of Fit; the optimizer must be one of
	// this package's.
	Schedule Schedule
	// LabelSmoothing is the training loss's (CrossEntropyLoss); the test
	// loss Fit reports is the plain cross-entropy.
	LabelSmoothing float64
	// Augment is applied to each training batch of Fit, drawn from a
	// source seeded by Seed, the epoch and the batch, so that a run, and
	// a resumed one, is reproducible.
	Augment Augment

	loss, testLoss CrossEntropyLoss
	b              batcher
	pos            position
	augRNG         *rand.PCG
	augTmp         []float32
}

// position is where a training run stands between two batches: what Fit
// needs, besides the model and optimizer, to continue exactly.
type position struct {
	// resume is set while a run is unfinished (Fit stopped early, or
	// Restore put a checkpoint's position here): the next Fit continues
	// from this position instead of starting over.
	resume  bool
	epoch   int       // epochs completed
	batch   int       // batches of epoch+1 completed
	lossSum float64   // sum of loss times batch size over those batches
	rng     *rand.PCG // the shuffle source, after the last shuffle
	// perm is the sample order of epoch+1 when batch > 0, and of epoch
	// (before the next shuffle) when batch == 0.
	perm []int
}

// Step trains on one batch: forward, loss, backward and an optimizer step.
// It returns the batch's mean loss. A NaN or infinite loss is an error and
// the parameters are left unchanged.
func (t *Trainer) Step(x *tensor.Tensor, labels []int) (float64, error) {
	t.Model.SetTraining(true)
	logits, err := t.Model.Forward(x)
	if err != nil {
		return 0, err
	}
	t.loss.LabelSmoothing = t.LabelSmoothing
	loss, err := t.loss.Forward(logits, labels)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, errNonFinite
	}
	t.Model.Backward(t.loss.Backward())
	t.Optimizer.Step(t.Model.Params())
	return loss, nil
}

var errNonFinite = errors.New("loss is not finite")

// Fit trains for Epochs epochs over train, shuffled each epoch from Seed,
// and evaluates on test (which may be nil) after each epoch. It stops early
// with ctx's error when ctx is done (checked between batches, so the batch
// in progress finishes, as does an epoch's evaluation and OnEpoch), and with an error naming the epoch and batch when
// the loss becomes NaN or infinite.
//
// A Fit that stops early leaves the Trainer where it stopped: Checkpoint
// records that position, and the next Fit continues from it, as it does
// after Restore, up to epoch Epochs. Continuing gives bit for bit the
// weights of an uninterrupted run. After a Fit that completes, the next Fit
// starts a new run at epoch 1.
func (t *Trainer) Fit(ctx context.Context, train, test Dataset) error {
	if t.Model == nil || t.Optimizer == nil {
		return errors.New("train: Fit: Trainer needs a Model and an Optimizer")
	}
	bs, epochs := cmp0(t.BatchSize, 100), cmp0(t.Epochs, 10)
	if bs < 0 || epochs < 0 {
		return fmt.Errorf("train: Fit: batch size %d and epochs %d must not be negative", t.BatchSize, t.Epochs)
	}
	if err := checkSet(t.Model, train, "training"); err != nil {
		return err
	}
	n := train.Len()
	if n == 0 {
		return errors.New("train: Fit: the training set is empty")
	}
	if isNil(test) {
		test = nil
	}
	setter, _ := t.Optimizer.(rateSetter)
	if t.Schedule != nil && setter == nil {
		return fmt.Errorf("train: Fit: a schedule cannot set the rates of optimizer %T", t.Optimizer)
	}
	if err := t.Augment.check(); err != nil {
		return fmt.Errorf("train: Fit: %w", err)
	}
	perEpoch := (n + bs - 1) / bs
	total := perEpoch * epochs
	if test != nil {
		if err := checkSet(t.Model, test, "test"); err != nil {
			return err
		}
	}
	p := &t.pos
	if !p.resume {
		*p = position{rng: rand.NewPCG(t.Seed, shuffleStream), perm: p.perm[:0]}
		for i := range n {
			p.perm = append(p.perm, i)
		}
	}
	if len(p.perm) != n {
		return fmt.Errorf("train: Fit: resuming a run over %d training images with a set of %d", len(p.perm), n)
	}
	if p.batch > 0 && p.batch*bs >= n {
		return fmt.Errorf("train: Fit: resuming after batch %d of epoch %d, which has only %d batches of %d", p.batch, p.epoch+1, (n+bs-1)/bs, bs)
	}
	p.resume = true // until the last epoch completes
	rng := rand.New(p.rng)
	perm := p.perm
	// No batch holds more than the whole set: buffers are sized by the
	// smaller of the two, so a huge batch size allocates no more than N.
	t.b.setup(t.Model, min(bs, n))
	defer t.Model.SetTraining(true)
	for epoch := p.epoch + 1; epoch <= epochs; epoch++ {
		start := time.Now()
		// ctx is checked before each batch, and for the first batch of an
		// epoch before the shuffle: a stop with batch == 0 leaves perm in
		// the previous epoch's order, which a resumed Fit shuffles again.
		if err := ctx.Err(); err != nil {
			return err
		}
		first := p.batch * bs
		if p.batch == 0 {
			rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			p.lossSum = 0
		}
		for lo := first; lo < n; lo += bs {
			if lo > first {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			batch := p.batch + 1
			idx := perm[lo:min(lo+bs, n)]
			x, labels, err := t.b.read(train, idx)
			if err != nil {
				return fmt.Errorf("train: epoch %d, batch %d: %w", epoch, batch, err)
			}
			t.augment(x, epoch, batch)
			t.b.normalize()
			if t.Schedule != nil {
				setter.setRates(t.Schedule.At((epoch-1)*perEpoch+batch-1, total))
			}
			loss, err := t.Step(x, labels)
			if errors.Is(err, errNonFinite) {
				return fmt.Errorf("train: epoch %d, batch %d: loss is %v", epoch, batch, loss)
			}
			if err != nil {
				return fmt.Errorf("train: epoch %d, batch %d: %w", epoch, batch, err)
			}
			p.batch = batch
			p.lossSum += loss * float64(len(idx))
			if t.OnBatch != nil {
				t.OnBatch(len(idx))
			}
		}
		p.epoch, p.batch = epoch, 0
		st := EpochStats{Epoch: epoch, Epochs: epochs, Loss: p.lossSum / float64(n),
			Duration: time.Since(start), TestAccuracy: math.NaN(), TestLoss: math.NaN()}
		if test != nil {
			es := time.Now()
			// The epoch is done: finish its report even if ctx is, so that
			// a stop during the evaluation loses no epoch line.
			r, err := evaluate(context.WithoutCancel(ctx), t.Model, test, &t.b, &t.testLoss)
			if err != nil {
				return err
			}
			st.TestAccuracy, st.TestLoss, st.EvalDuration = r.Accuracy, r.Loss, time.Since(es)
		}
		if t.OnEpoch != nil {
			if err := t.OnEpoch(st); err != nil {
				return err
			}
		}
	}
	p.resume = false
	return nil
}

// shuffleStream is the PCG stream of Fit's shuffles ("shuf").
const shuffleStream = 0x73687566

// augment applies t.Augment to batch number batch of epoch, x [B, C, H, W],
// from a source that depends on Seed, epoch and batch only.
func (t *Trainer) augment(x *tensor.Tensor, epoch, batch int) {
	a := t.Augment
	if !a.on() {
		return
	}
	if t.augRNG == nil {
		t.augRNG = new(rand.PCG)
	}
	t.augRNG.Seed(t.Seed^augmentSeed, uint64(epoch)<<32|uint64(batch))
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	t.augTmp = grow(t.augTmp, c*h*w)
	a.apply(x.F32, n, c, h, w, rand.New(t.augRNG), t.augTmp)
}

// augmentSeed is mixed into the seed of the augmentation's source ("augm").
const augmentSeed = 0x6175676d

func cmp0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Result is the outcome of an evaluation.
type Result struct {
	N        int     // images evaluated
	Correct  int     // images whose largest logit is the label
	Accuracy float64 // Correct / N
	Loss     float64 // mean cross-entropy loss
}

// Evaluate runs the model in evaluation mode over s in batches of
// batchSize (0 means 100) and returns accuracy and mean loss. The model is
// left in the mode it was in.
func Evaluate(ctx context.Context, m *Model, s Dataset, batchSize int) (Result, error) {
	if err := checkSet(m, s, "evaluation"); err != nil {
		return Result{}, err
	}
	var b batcher
	b.setup(m, cmp0(batchSize, 100))
	if b.size < 0 {
		return Result{}, fmt.Errorf("train: Evaluate: batch size %d is negative", batchSize)
	}
	return evaluate(ctx, m, s, &b, new(CrossEntropyLoss))
}

func evaluate(ctx context.Context, m *Model, s Dataset, b *batcher, loss *CrossEntropyLoss) (Result, error) {
	was := m.Training()
	m.SetTraining(false)
	defer m.SetTraining(was)
	r := Result{N: s.Len()}
	idx := make([]int, min(b.size, r.N))
	var sum float64
	for lo := 0; lo < r.N; lo += b.size {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		n := min(b.size, r.N-lo)
		for i := range n {
			idx[i] = lo + i
		}
		x, labels, err := b.fill(s, idx[:n])
		if err != nil {
			return Result{}, err
		}
		logits, err := m.Forward(x)
		if err != nil {
			return Result{}, err
		}
		l, err := loss.Forward(logits, labels)
		if err != nil {
			return Result{}, err
		}
		sum += l * float64(n)
		k := logits.Shape[1]
		for i := range n {
			if argmax(logits.F32[i*k:(i+1)*k]) == labels[i] {
				r.Correct++
			}
		}
	}
	if r.N > 0 {
		r.Accuracy = float64(r.Correct) / float64(r.N)
		r.Loss = sum / float64(r.N)
	}
	return r, nil
}

// argmax returns the index of the largest value (the first on ties; NaN
// never wins).
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
