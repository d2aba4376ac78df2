package train

import (
	"fmt"
	"math"
)

// Schedule sets the learning rate, and optionally the momentum, of each
// optimizer step. Fit consults it before every batch with the step number
// t (0-based, counted over the whole run) and the run's number of steps
// (epochs times batches per epoch), as a PyTorch lr_scheduler stepped once
// per batch.
type Schedule interface {
	// At returns the learning rate of step t of total, and the momentum
	// (SGD's momentum, Adam's beta1), or 0 to leave the momentum as it is.
	At(t, total int) (lr, momentum float64)
}

// StepLR is torch.optim.lr_scheduler.StepLR stepped per batch: the rate
// starts at LR and is multiplied by Gamma every Every steps.
type StepLR struct {
	LR    float64
	Every int // steps between decays; 0 means a third of the run's
	Gamma float64
}

// At returns LR * Gamma^floor(t/Every).
func (s StepLR) At(t, total int) (float64, float64) {
	every := s.Every
	if every <= 0 {
		every = max(1, (total+2)/3)
	}
	return s.LR * math.Pow(s.Gamma, float64(t/every)), 0
}

// CosineLR is torch.optim.lr_scheduler.CosineAnnealingLR with T_max the
// run's total steps, stepped per batch: the rate falls from LR to Min
// along half a cosine.
type CosineLR struct {
	LR, Min float64
}

// At returns Min + (LR - Min) * (1 + cos(pi * t/total)) / 2 (the closed
// form of PyTorch's recursion).
func (s CosineLR) At(t, total int) (float64, float64) {
	if total <= 0 {
		return s.LR, 0
	}
	return s.Min + (s.LR-s.Min)*(1+math.Cos(math.Pi*float64(min(t, total))/float64(total)))/2, 0
}

// OneCycleLR is torch.optim.lr_scheduler.OneCycleLR with
// anneal_strategy "cos" and three_phase false, with total_steps the run's
// steps. The rate rises from MaxLR/DivFactor to MaxLR over the first
// PctStart of the steps, then falls to MaxLR/DivFactor/FinalDivFactor;
// the momentum moves the other way, from MaxMomentum to BaseMomentum and
// back (unless NoMomentumCycle). Zero fields take PyTorch's defaults:
// PctStart 0.3, DivFactor 25, FinalDivFactor 1e4, BaseMomentum 0.85,
// MaxMomentum 0.95.
type OneCycleLR struct {
	MaxLR                               float64
	PctStart, DivFactor, FinalDivFactor float64
	BaseMomentum, MaxMomentum           float64
	NoMomentumCycle                     bool
}

// At returns the rate and momentum of step t of total. Steps past the last
// keep its values (PyTorch raises an error there).
func (s OneCycleLR) At(t, total int) (float64, float64) {
	pct, div, final := or(s.PctStart, 0.3), or(s.DivFactor, 25), or(s.FinalDivFactor, 1e4)
	baseM, maxM := or(s.BaseMomentum, 0.85), or(s.MaxMomentum, 0.95)
	initial := s.MaxLR / div
	minLR := initial / final
	// PyTorch's phases: up to end step pct*total - 1, then to total - 1.
	upEnd := pct*float64(total) - 1
	last := float64(total - 1)
	x := float64(min(t, total-1))
	var lr, mom float64
	if x <= upEnd {
		f := x / upEnd
		lr, mom = cosAnneal(initial, s.MaxLR, f), cosAnneal(maxM, baseM, f)
	} else {
		f := (x - upEnd) / (last - upEnd)
		lr, mom = cosAnneal(s.MaxLR, minLR, f), cosAnneal(baseM, maxM, f)
	}
	if s.NoMomentumCycle {
		mom = 0
	}
	return lr, mom
}

// cosAnneal is PyTorch's _annealing_cos: from start at pct 0 to end at 1.
func cosAnneal(start, end, pct float64) float64 {
	return end + (start-end)/2*(math.Cos(math.Pi*pct)+1)
}

func or(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// Schedules lists the names NewSchedule accepts.
var Schedules = []string{"constant", "step", "cosine", "onecycle"}

// NewSchedule returns the schedule named name ("" or "constant" for none,
// "step", "cosine", "onecycle") starting at, or for "onecycle" peaking at,
// lr. "step" divides the rate by 10 after each third of the run.
func NewSchedule(name string, lr float64) (Schedule, error) {
	switch name {
	case "", "constant":
		return nil, nil
	case "step":
		return StepLR{LR: lr, Gamma: 0.1}, nil
	case "cosine":
		return CosineLR{LR: lr}, nil
	case "onecycle":
		return OneCycleLR{MaxLR: lr}, nil
	}
	return nil, fmt.Errorf("train: unknown schedule %q (want constant, step, cosine or onecycle)", name)
}

// baseLR is the rate a recipe gives each schedule (Recipe.LR), which
// checkpoints record.
func (s StepLR) baseLR() float64     { return s.LR }
func (s CosineLR) baseLR() float64   { return s.LR }
func (s OneCycleLR) baseLR() float64 { return s.MaxLR }

// rateSetter is implemented by the optimizers a Schedule can drive.
type rateSetter interface {
	setRates(lr, momentum float64)
}
