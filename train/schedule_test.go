package train

import (
	"context"
	"testing"
)

// TestFitSchedule checks that Fit sets the optimizer's rate and momentum
// of each step from the schedule: after a run they are the last step's.
func TestFitSchedule(t *testing.T) {
	set := syntheticSet(3, 40)
	for _, name := range []string{"step", "cosine", "onecycle"} {
		r := Recipe{Model: CNN, Optimizer: "sgd", LR: 0.05, Momentum: 0.9, BatchSize: 16, Epochs: 2, Schedule: name}
		tr, err := NewTrainer(r, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Fit(context.Background(), set, nil); err != nil {
			t.Fatal(err)
		}
		const total = 2 * 3 // 3 batches of 40 images an epoch
		lr, mom := tr.Schedule.At(total-1, total)
		sgd := tr.Optimizer.(*SGD)
		if sgd.LR != lr || (mom > 0 && sgd.Momentum != mom) {
			t.Errorf("%s: after Fit lr %v, momentum %v, want step %d's %v, %v", name, sgd.LR, sgd.Momentum, total-1, lr, mom)
		}
	}
	if _, err := NewSchedule("linear", 0.1); err == nil {
		t.Error(`NewSchedule("linear") = nil error`)
	}
	bad := Recipe{Model: CNN, Optimizer: "sgd", LR: 0.05, Schedule: "warm"}
	if _, err := NewTrainer(bad, 1); err == nil {
		t.Error(`NewTrainer with schedule "warm" = nil error`)
	}
}

// TestOneCycleShape checks the one-cycle schedule's landmarks: it starts at
// MaxLR/25 with momentum 0.95, peaks at MaxLR with 0.85 after 30% of the
// steps, and ends at MaxLR/25/1e4 with 0.95.
func TestOneCycleShape(t *testing.T) {
	s := OneCycleLR{MaxLR: 0.1}
	const total = 101
	near := func(what string, got, want float64) {
		if d := got - want; d > 1e-12 || d < -1e-12 {
			t.Errorf("%s = %.17g, want %.17g", what, got, want)
		}
	}
	lr, m := s.At(0, total)
	near("lr(0)", lr, 0.004)
	near("momentum(0)", m, 0.95)
	lr, m = s.At(29, total) // the end of phase 1: 0.3*101 - 1 = 29.3, so step 29 is just before the peak
	if lr > 0.1 || lr < 0.0999 || m < 0.85 || m > 0.8501 {
		t.Errorf("At(29) = %v, %v, want just below the peak 0.1, 0.85", lr, m)
	}
	lr, m = s.At(total-1, total)
	near("lr(last)", lr, 0.1/25/1e4)
	near("momentum(last)", m, 0.95)
}
