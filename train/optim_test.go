package train

import (
	"math"
	"testing"

	"github.com/onnxkit/onnxkit/tensor"
)

// scalarParam is a one-element parameter with value v.
func scalarParam(v float32) *Param {
	return &Param{Name: "p", Value: tensor.FromFloat32([]float32{v}, 1), Grad: tensor.New(tensor.Float32, 1)}
}

// runSteps applies opt to a parameter starting at 1 with the given
// gradients and returns the value after each step.
func runSteps(opt Optimizer, grads ...float32) []float64 {
	p := scalarParam(1)
	var out []float64
	for _, g := range grads {
		p.Grad.F32[0] = g
		opt.Step([]*Param{p})
		out = append(out, float64(p.Value.F32[0]))
	}
	return out
}

func TestOptimizers(t *testing.T) {
	for _, tt := range []struct {
		name  string
		opt   Optimizer
		grads []float32
		want  []float64 // worked out by hand (SGD) or with the update rule in float64 (Adam)
	}{
		// p - lr*g = 1 - 0.1*0.5.
		{"SGD", &SGD{LR: 0.1}, []float32{0.5, 0.5}, []float64{0.95, 0.9}},
		// buf = 0.5, p = 0.95; buf = 0.9*0.5 + 0.5 = 0.95, p = 0.95 - 0.095.
		{"SGD momentum", &SGD{LR: 0.1, Momentum: 0.9}, []float32{0.5, 0.5}, []float64{0.95, 0.855}},
		// g = 0.5 + 0.1*1 = 0.6, p = 1 - 0.06; then g = 0.5 + 0.094.
		{"SGD weight decay", &SGD{LR: 0.1, WeightDecay: 0.1}, []float32{0.5, 0.5}, []float64{0.94, 0.8806}},
		// The first bias-corrected step is lr*g/(|g|+eps) ~ lr; then
		// m, v as in torch.optim.Adam (Python float64 gave these values).
		{"Adam", NewAdam(0.1), []float32{0.5, 0.25, -1}, []float64{0.9000000019999999, 0.8067820404774622, 0.8274177428854113}},
		{"Adam weight decay", &Adam{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1}, []float32{0.5, 0.25}, []float64{0.9000000016666666, 0.8050097658613199}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runSteps(tt.opt, tt.grads...)
			for i := range got {
				if math.Abs(got[i]-tt.want[i]) > 1e-6 {
					t.Errorf("after step %d: p = %.9g, want %.9g", i+1, got[i], tt.want[i])
				}
			}
		})
	}
	if a := NewAdam(1e-3); a.Beta1 != 0.9 || a.Beta2 != 0.999 || a.Eps != 1e-8 || a.WeightDecay != 0 {
		t.Errorf("NewAdam defaults = %+v, want PyTorch's betas (0.9, 0.999), eps 1e-8, weight decay 0", a)
	}
}
