package train

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stopAfter is a context whose Err turns to context.Canceled after n calls:
// Fit asks once before each batch, so it stops after n batches, the way a
// SIGINT between two batches stops it.
type stopAfter struct {
	context.Context
	n int
}

func (c *stopAfter) Err() error {
	if c.n <= 0 {
		return context.Canceled
	}
	c.n--
	return nil
}

// resumeRecipes are the runs the resume tests interrupt: Adam with its
// moments and step count (LeNet5), Adam plus Dropout's streams (CNN), SGD
// with momentum buffers and weight decay (MLP), and SGD under a one-cycle
// schedule with BatchNorm's running statistics, augmentation and label
// smoothing (Best).
func resumeRecipes(t *testing.T) []Recipe {
	var rs []Recipe
	for _, kind := range []string{LeNet5, CNN, MLP, Best} {
		r, err := DefaultRecipe(kind)
		if err != nil {
			t.Fatal(err)
		}
		r.BatchSize, r.Epochs = 16, 3
		if kind == MLP {
			r.Momentum = 0.9
		}
		rs = append(rs, r)
	}
	return rs
}

func newResumeTrainer(t *testing.T, r Recipe, seed uint64) *Trainer {
	t.Helper()
	tr, err := NewTrainer(r, seed)
	if err != nil {
		t.Fatal(err)
	}
	if sgd, ok := tr.Optimizer.(*SGD); ok {
		sgd.WeightDecay = 1e-4
	}
	tr.Model.Normalize = &Normalize{Mean: 0.1307, Std: 0.3081}
	return tr
}

// TestResumeExact trains 3 epochs of 50 images (3 batches of 16 and one
// of 2 per epoch) straight through, then again interrupted at several
// points (between epochs, from OnEpoch, and mid-epoch, from a context that
// stops Fit), each time through MarshalBinary, UnmarshalBinary and Restore
// into a fresh Trainer built with another seed; the final weights, the
// Adam/SGD state and every epoch's loss must match bit for bit.
func TestResumeExact(t *testing.T) {
	set := syntheticSet(7, 50)
	test := syntheticSet(8, 20)
	for _, r := range resumeRecipes(t) {
		t.Run(r.Model, func(t *testing.T) {
			straight := newResumeTrainer(t, r, 42)
			var wantLoss []float64
			straight.OnEpoch = func(s EpochStats) error { wantLoss = append(wantLoss, s.Loss); return nil }
			if err := straight.Fit(context.Background(), set, test); err != nil {
				t.Fatal(err)
			}
			stops := []struct {
				name    string
				batches int // stop before this many batches (counted over the run)
			}{{"after epoch 1", 4}, {"epoch 2 after batch 3", 7}, {"epoch 1 after batch 2", 2}, {"epoch 3 after batch 1", 9}, {"before batch 1", 0}}
			if raceEnabled || testing.Short() {
				stops = stops[:2] // one stop between epochs, one within
			}
			for _, stop := range stops {
				t.Run(stop.name, func(t *testing.T) {
					var gotLoss []float64
					onEpoch := func(s EpochStats) error { gotLoss = append(gotLoss, s.Loss); return nil }
					first := newResumeTrainer(t, r, 42)
					first.OnEpoch = onEpoch
					err := first.Fit(&stopAfter{context.Background(), stop.batches}, set, test)
					if !errors.Is(err, context.Canceled) {
						t.Fatalf("interrupted Fit = %v, want context.Canceled", err)
					}
					c, err := first.Checkpoint()
					if err != nil {
						t.Fatal(err)
					}
					if c.Recipe.LR != r.LR {
						t.Errorf("checkpoint lr %v, want the recipe's %v (a schedule's current rate is not the recipe's)", c.Recipe.LR, r.LR)
					}
					if got := c.Epoch*4 + c.Batch; got != stop.batches {
						t.Errorf("checkpoint at epoch %d batch %d, want %d batches done", c.Epoch, c.Batch, stop.batches)
					}
					data, err := c.MarshalBinary()
					if err != nil {
						t.Fatal(err)
					}
					var c2 Checkpoint
					if err := c2.UnmarshalBinary(data); err != nil {
						t.Fatal(err)
					}
					resumed := newResumeTrainer(t, r, 999) // Restore brings back seed 42
					resumed.Model.Normalize = nil
					resumed.OnEpoch = onEpoch
					if err := resumed.Restore(&c2); err != nil {
						t.Fatal(err)
					}
					if err := resumed.Fit(context.Background(), set, test); err != nil {
						t.Fatal(err)
					}
					if err := sameWeights(resumed, straight); err != nil {
						t.Error(err)
					}
					if fmt.Sprint(gotLoss) != fmt.Sprint(wantLoss) {
						t.Errorf("epoch losses %v, want %v", gotLoss, wantLoss)
					}
				})
			}
		})
	}
}

// sameWeights compares parameters and optimizer state bit for bit.
func sameWeights(got, want *Trainer) error {
	for i, p := range want.Model.Params() {
		q := got.Model.Params()[i]
		for j, v := range p.Value.F32 {
			if math.Float32bits(q.Value.F32[j]) != math.Float32bits(v) {
				return fmt.Errorf("%s[%d] = %v, uninterrupted run %v", p.Name, j, q.Value.F32[j], v)
			}
		}
	}
	cg, err1 := got.Checkpoint()
	cw, err2 := want.Checkpoint()
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	bg, _ := cg.MarshalBinary()
	bw, _ := cw.MarshalBinary()
	if string(bg) != string(bw) {
		return fmt.Errorf("checkpoints after the runs differ (%d and %d bytes)", len(bg), len(bw))
	}
	return nil
}

// TestCheckpointFromOnEpoch writes a checkpoint file from OnEpoch, as the
// command line does, reads it back and checks the round trip and String.
func TestCheckpointFromOnEpoch(t *testing.T) {
	r := resumeRecipes(t)[1] // CNN: Adam and Dropout
	r.Epochs = 2
	tr := newResumeTrainer(t, r, 3)
	path := filepath.Join(t.TempDir(), "run.ckpt")
	tr.OnEpoch = func(s EpochStats) error {
		c, err := tr.Checkpoint()
		if err != nil {
			return err
		}
		c.Info = map[string]string{"out": "cnn.onnx", "limit": "50"}
		return c.WriteFile(path)
	}
	set := syntheticSet(7, 50)
	if err := tr.Fit(context.Background(), set, nil); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "cnn, adam lr 0.001, batch 16, after epoch 2 of 2"; c.String() != want {
		t.Errorf("String() = %q, want %q", c, want)
	}
	if c.Info["out"] != "cnn.onnx" || c.Info["limit"] != "50" || len(c.Info) != 2 {
		t.Errorf("Info = %v, want out and limit", c.Info)
	}
	if c.Normalize == nil || *c.Normalize != (Normalize{0.1307, 0.3081}) {
		t.Errorf("Normalize = %v, want {0.1307 0.3081}", c.Normalize)
	}
	mine, _ := tr.Checkpoint()
	mine.Info = c.Info
	a, _ := mine.MarshalBinary()
	b, _ := c.MarshalBinary()
	if string(a) != string(b) {
		t.Errorf("checkpoint read back encodes to %d bytes, the trainer's to %d", len(b), len(a))
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("folder holds %d files after atomic writes, want only run.ckpt", len(entries))
	}
	// Restoring a finished run and fitting again does nothing more.
	tr2 := newResumeTrainer(t, r, 3)
	if err := tr2.Restore(c); err != nil {
		t.Fatal(err)
	}
	if err := tr2.Fit(context.Background(), set, nil); err != nil {
		t.Fatal(err)
	}
	if err := sameWeights(tr2, tr); err != nil {
		t.Error(err)
	}
}

// TestRestoreMismatch checks Restore's refusals, each leaving the trainer
// unchanged.
func TestRestoreMismatch(t *testing.T) {
	rs := resumeRecipes(t)
	lenet := newResumeTrainer(t, rs[0], 1)
	c, err := lenet.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	cnn := newResumeTrainer(t, rs[1], 1)
	if err := cnn.Restore(c); err == nil || !strings.Contains(err.Error(), `checkpoint of a "lenet5" model, trainer has a "cnn" model`) {
		t.Errorf("Restore(lenet5 checkpoint) into a CNN = %v", err)
	}
	other, _ := New(LeNet5, 1)
	other.Kind = LeNet5
	m, _ := NewModel(LeNet5, []int{1, 28, 28}, other.Layers()[:4]...)
	tr := &Trainer{Model: m, Optimizer: NewAdam(1e-3)}
	if err := tr.Restore(c); err == nil || !strings.Contains(err.Error(), "checkpoint has 10 parameters, model \"lenet5\" has 4") {
		t.Errorf("Restore into a model with fewer parameters = %v", err)
	}
	tr.Optimizer = optimizerFunc(func([]*Param) {})
	if _, err := tr.Checkpoint(); err == nil || !strings.Contains(err.Error(), "optimizerFunc") {
		t.Errorf("Checkpoint with a custom optimizer = %v, want an error naming its type", err)
	}
	// A resumed run checks the size of its training set.
	first := newResumeTrainer(t, rs[0], 1)
	first.Fit(&stopAfter{context.Background(), 1}, syntheticSet(1, 40), nil)
	c, _ = first.Checkpoint()
	second := newResumeTrainer(t, rs[0], 1)
	if err := second.Restore(c); err != nil {
		t.Fatal(err)
	}
	if err := second.Fit(context.Background(), syntheticSet(1, 41), nil); err == nil || !strings.Contains(err.Error(), "over 40 training images with a set of 41") {
		t.Errorf("Fit resumed on another set size = %v", err)
	}
}

// TestCheckpointCorrupt decodes damaged checkpoints: each must fail with a
// *CheckpointError saying what is wrong, without allocating in proportion
// to a declared size.
func TestCheckpointCorrupt(t *testing.T) {
	tr := newResumeTrainer(t, resumeRecipes(t)[0], 1)
	tr.Fit(&stopAfter{context.Background(), 2}, syntheticSet(1, 40), nil)
	c, err := tr.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	good, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// reseal recomputes the end record's checksum after an edit, so that
	// the checks behind it are reached.
	reseal := func(b []byte) []byte {
		end := len(b) - (1 + 1 + 3 + 1 + 4)
		return append(b[:end:end], append([]byte{'e', 3, 'e', 'n', 'd', 4}, binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(b[:end]))...)...)
	}
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x40
		return b
	}
	head := len(checkpointMagic) + 4
	payload := binary.AppendUvarint([]byte{2}, 1000000)
	payload = binary.AppendUvarint(payload, 1000000)
	payload = append(payload, 0, 0, 0, 0)
	hugeTensor := append(append([]byte(nil), good[:head]...), 'f', 7)
	hugeTensor = append(hugeTensor, "param.x"...)
	hugeTensor = append(append(hugeTensor, byte(len(payload))), payload...)
	modelRecord := good[head : head+1+1+len("model")+1+len(LeNet5)]
	if string(modelRecord[2:7]) != "model" {
		t.Fatalf("first record %q, want the model's", modelRecord)
	}
	badOrder := append([]byte(nil), good...)
	copy(badOrder[len(good)-14:], []byte{0xff, 0xff, 0xff, 0xff}) // the last entry, before the end record
	insert := func(rec []byte) []byte {
		return reseal(append(append(append([]byte(nil), good[:head]...), rec...), good[head:]...))
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "bad magic"},
		{"onnx model", []byte("\x08\x08\x12\x07pytorch"), "bad magic"},
		{"version 2", append(append([]byte(checkpointMagic), 2, 0, 0, 0), good[head:]...), "format version 2"},
		{"truncated", good[:len(good)/2], "length"},
		{"no end", good[:len(good)-10], "no end record"},
		{"flipped byte", flip(len(good) / 2), "checksum mismatch"},
		{"trailing bytes", append(append([]byte(nil), good...), 0), "1 bytes after the end record"},
		{"huge length", append(append([]byte(nil), good[:head]...), 's', 1, 'x', 0xff, 0xff, 0xff, 0xff, 0x0f), "only 0 bytes left"},
		{"10^12 elements", reseal(append(hugeTensor, good[head:]...)), "dimensions exceed"},
		{"unknown record", insert([]byte{'s', 3, 'f', 'o', 'o', 0}), `unknown record "foo"`},
		{"repeated record", insert(modelRecord), `record "model" appears twice`},
		{"not a permutation", reseal(badOrder), "not a permutation of 0..39 (entry 39 is 4294967295)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Checkpoint
			err := got.UnmarshalBinary(tt.data)
			var ce *CheckpointError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("UnmarshalBinary(%s) = %v, want a *CheckpointError containing %q", tt.name, err, tt.want)
			}
		})
	}
	// ReadCheckpoint names the file, for a missing one and a damaged one.
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.ckpt")
	os.WriteFile(bad, good[:100], 0o644)
	for _, p := range []string{bad, filepath.Join(dir, "missing.ckpt")} {
		if _, err := ReadCheckpoint(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("ReadCheckpoint(%s) = %v, want an error naming the file", p, err)
		}
	}
}

// FuzzCheckpoint decodes arbitrary bytes as a checkpoint: nothing may
// panic, and a checkpoint that decodes must encode to the same bytes.
func FuzzCheckpoint(f *testing.F) {
	r, _ := DefaultRecipe(CNN)
	r.BatchSize = 4
	tr, err := NewTrainer(r, 1)
	if err != nil {
		f.Fatal(err)
	}
	// A small model keeps the seed short enough to mutate: drop fc1's size.
	m, _ := NewModel("tiny", []int{1, 2, 2}, NewDropout("drop", 0.5, 1), NewFlatten("flat"), NewLinear("fc", 4, 2))
	tr.Model = m
	c, err := tr.Checkpoint()
	if err != nil {
		f.Fatal(err)
	}
	c.shuffle, _ = rand.NewPCG(1, 2).MarshalBinary()
	c.perm = []int{2, 0, 1}
	data, err := c.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Checkpoint
		if err := c.UnmarshalBinary(data); err != nil {
			return
		}
		out, err := c.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary(UnmarshalBinary(data)) = %v", err)
		}
		var c2 Checkpoint
		if err := c2.UnmarshalBinary(out); err != nil {
			t.Fatalf("UnmarshalBinary(MarshalBinary(UnmarshalBinary(data))) = %v", err)
		}
		out2, _ := c2.MarshalBinary()
		if string(out) != string(out2) {
			t.Fatalf("decode -> encode is not stable")
		}
	})
}
