package train

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/onnxkit/onnxkit/tensor"
)

// recipeRef is testdata/pytorch/recipe.json, written by
// scripts/recipe_reference.py with PyTorch 1.13.
type recipeRef struct {
	Schedules []struct {
		Name            string
		MaxLR           float64 `json:"max_lr"`
		LR0, Min, Gamma float64
		Every, Total    int
		PctStart        float64 `json:"pct_start"`
		DivFactor       float64 `json:"div_factor"`
		FinalDivFactor  float64 `json:"final_div_factor"`
		BaseMomentum    float64 `json:"base_momentum"`
		MaxMomentum     float64 `json:"max_momentum"`
		LR, Momentum    []float64
	}
	AdamW struct {
		LR          float64
		WeightDecay float64 `json:"weight_decay"`
		Init        []float32
		Grads       [][]float32
		After       [][]float32
	}
	Smoothing struct {
		Logits []float32
		Shape  []int
		Labels []int
		Cases  []struct {
			LabelSmoothing float64 `json:"label_smoothing"`
			Loss           float64
			Grad           []float32
		}
	}
}

func readRecipeRef(t *testing.T) *recipeRef {
	t.Helper()
	b, err := os.ReadFile("../testdata/pytorch/recipe.json")
	if err != nil {
		t.Fatal(err)
	}
	var r recipeRef
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Schedules) == 0 || len(r.AdamW.After) == 0 || len(r.Smoothing.Cases) == 0 {
		t.Fatal("recipe.json: missing cases")
	}
	return &r
}

// TestSchedulesPyTorch checks every step's learning rate and momentum of
// the schedules against torch.optim.lr_scheduler's.
func TestSchedulesPyTorch(t *testing.T) {
	for _, c := range readRecipeRef(t).Schedules {
		var s Schedule
		switch c.Name {
		case "onecycle":
			s = OneCycleLR{MaxLR: c.MaxLR, PctStart: c.PctStart, DivFactor: c.DivFactor, FinalDivFactor: c.FinalDivFactor,
				BaseMomentum: c.BaseMomentum, MaxMomentum: c.MaxMomentum}
		case "cosine":
			s = CosineLR{LR: c.LR0, Min: c.Min}
		case "step":
			s = StepLR{LR: c.LR0, Every: c.Every, Gamma: c.Gamma}
		default:
			t.Fatalf("unknown schedule %q", c.Name)
		}
		for i, want := range c.LR {
			lr, mom := s.At(i, c.Total)
			if math.Abs(lr-want) > 1e-12*max(1, want) {
				t.Errorf("%#v.At(%d, %d) lr = %.17g, want %.17g (PyTorch)", s, i, c.Total, lr, want)
			}
			if i < len(c.Momentum) && math.Abs(mom-c.Momentum[i]) > 1e-12 {
				t.Errorf("%#v.At(%d, %d) momentum = %.17g, want %.17g (PyTorch)", s, i, c.Total, mom, c.Momentum[i])
			}
		}
	}
}

// TestAdamWPyTorch checks AdamW's weights after each of 3 steps against
// torch.optim.AdamW's.
func TestAdamWPyTorch(t *testing.T) {
	r := readRecipeRef(t).AdamW
	p := newParam("w", len(r.Init))
	copy(p.Value.F32, r.Init)
	o := NewAdamW(r.LR)
	o.WeightDecay = r.WeightDecay
	for step, g := range r.Grads {
		copy(p.Grad.F32, g)
		o.Step([]*Param{p})
		for i, want := range r.After[step] {
			if got := p.Value.F32[i]; math.Abs(float64(got-want)) > 1e-6 {
				t.Errorf("after step %d: w[%d] = %.8g, want %.8g (PyTorch)", step+1, i, got, want)
			}
		}
	}
	if o.Steps() != len(r.Grads) {
		t.Errorf("Steps() = %d, want %d", o.Steps(), len(r.Grads))
	}
}

// TestLabelSmoothingPyTorch checks the loss and its gradient against
// nn.CrossEntropyLoss(label_smoothing=e) for e in 0, 0.1, 0.3 and 1.
func TestLabelSmoothingPyTorch(t *testing.T) {
	r := readRecipeRef(t).Smoothing
	logits := tensor.New(tensor.Float32, r.Shape...)
	copy(logits.F32, r.Logits)
	for _, c := range r.Cases {
		l := CrossEntropyLoss{LabelSmoothing: c.LabelSmoothing}
		loss, err := l.Forward(logits, r.Labels)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(loss-c.Loss) > 1e-6*max(1, math.Abs(c.Loss)) {
			t.Errorf("label smoothing %v: loss = %.8g, want %.8g (PyTorch)", c.LabelSmoothing, loss, c.Loss)
		}
		for i, want := range c.Grad {
			if got := l.Backward().F32[i]; math.Abs(float64(got-want)) > 1e-6 {
				t.Errorf("label smoothing %v: grad[%d] = %.8g, want %.8g (PyTorch)", c.LabelSmoothing, i, got, want)
			}
		}
	}
	if _, err := (&CrossEntropyLoss{LabelSmoothing: 1.5}).Forward(logits, r.Labels); err == nil {
		t.Error("label smoothing 1.5: no error")
	}
}
