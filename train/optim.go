package train

import (
	"fmt"
	"math"

	"github.com/onnxkit/onnxkit/internal/kernel"
)

// Optimizer updates parameters from their gradients. Step must be given the
// same parameters, in the same order, every time: state is kept by
// position.
type Optimizer interface {
	Step(params []*Param)
}

// SGD is stochastic gradient descent with optional momentum and L2 weight
// decay, computed as torch.optim.SGD does (dampening 0, no Nesterov):
//
//	g = grad + WeightDecay*p
//	buf = g (first step), else Momentum*buf + g
//	p -= LR * buf        (p -= LR * g without momentum)
//
// The zero value has a learning rate of 0; set LR.
type SGD struct {
	LR, Momentum, WeightDecay float64
	buf                       [][]float32
}

// Step updates params in place.
func (o *SGD) Step(params []*Param) {
	lr, mom, wd := float32(o.LR), float32(o.Momentum), float32(o.WeightDecay)
	first := false
	if o.Momentum != 0 && o.buf == nil {
		o.buf = make([][]float32, len(params))
		for i, p := range params {
			o.buf[i] = make([]float32, len(p.Value.F32))
		}
		first = true
	}
	checkState("SGD", len(o.buf), params, o.Momentum != 0)
	for i, p := range params {
		w, g := p.Value.F32, p.Grad.F32[:len(p.Value.F32)]
		if o.Momentum == 0 {
			for j, gv := range g {
				if wd != 0 {
					gv += wd * w[j]
				}
				w[j] += -lr * gv
			}
			continue
		}
		buf := o.buf[i][:len(w)]
		for j, gv := range g {
			if wd != 0 {
				gv += wd * w[j]
			}
			if first {
				buf[j] = gv
			} else {
				buf[j] = mom*buf[j] + gv
			}
			w[j] += -lr * buf[j]
		}
	}
}

// setRates sets the learning rate and, when momentum > 0, the momentum.
func (o *SGD) setRates(lr, momentum float64) {
	o.LR = lr
	if momentum > 0 {
		o.Momentum = momentum
	}
}

// Adam is torch.optim.Adam (amsgrad off, L2 weight decay added to the
// gradient), with the bias corrections computed in float64 as PyTorch does
// in Python and the tensor arithmetic in float32:
//
//	g = grad + WeightDecay*p
//	m = Beta1*m + (1-Beta1)*g
//	v = Beta2*v + (1-Beta2)*g*g
//	p -= LR/(1-Beta1^t) * m / (sqrt(v)/sqrt(1-Beta2^t) + Eps)
//
// Use NewAdam for PyTorch's defaults.
type Adam struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	t                                  int
	m, v                               [][]float32
}

// NewAdam returns Adam with PyTorch's defaults: betas 0.9 and 0.999, eps
// 1e-8, no weight decay.
func NewAdam(lr float64) *Adam {
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// Steps returns the number of steps taken.
func (o *Adam) Steps() int { return o.t }

// Step updates params in place.
func (o *Adam) Step(params []*Param) {
	if o.m == nil {
		o.m = make([][]float32, len(params))
		o.v = make([][]float32, len(params))
		for i, p := range params {
			o.m[i] = make([]float32, len(p.Value.F32))
			o.v[i] = make([]float32, len(p.Value.F32))
		}
	}
	checkState("Adam", len(o.m), params, true)
	o.t++
	bc1 := 1 - math.Pow(o.Beta1, float64(o.t))
	bc2 := 1 - math.Pow(o.Beta2, float64(o.t))
	stepSize := float32(o.LR / bc1)
	bc2Sqrt := float32(math.Sqrt(bc2))
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	c1, c2 := float32(1-o.Beta1), float32(1-o.Beta2)
	eps, wd := float32(o.Eps), float32(o.WeightDecay)
	for i, p := range params {
		w := p.Value.F32
		g, m, v := p.Grad.F32[:len(w)], o.m[i][:len(w)], o.v[i][:len(w)]
		if wd == 0 {
			// The same operations, vectorized.
			kernel.Adam(w, g, m, v, kernel.AdamConsts{B1: b1, B2: b2, C1: c1, C2: c2, BC2Sqrt: bc2Sqrt, Eps: eps, NegStep: -stepSize})
			continue
		}
		for j, gv := range g {
			if wd != 0 {
				gv += wd * w[j]
			}
			m[j] = m[j]*b1 + c1*gv
			v[j] = v[j]*b2 + c2*(gv*gv)
			denom := sqrt32(v[j])/bc2Sqrt + eps
			w[j] += -stepSize * (m[j] / denom)
		}
	}
}

// setRates sets the learning rate and, when momentum > 0, Beta1 (as
// PyTorch's OneCycleLR cycles Adam's beta1).
func (o *Adam) setRates(lr, momentum float64) {
	o.LR = lr
	if momentum > 0 {
		o.Beta1 = momentum
	}
}

// AdamW is torch.optim.AdamW (amsgrad off): Adam without the L2 term,
// with the weight decay applied to the parameters directly, before the
// Adam step:
//
//	p *= 1 - LR*WeightDecay
//	p -= LR/(1-Beta1^t) * m / (sqrt(v)/sqrt(1-Beta2^t) + Eps)
//
// Use NewAdamW for PyTorch's defaults. Checkpoints do not record its state
// yet (Trainer.Checkpoint fails).
type AdamW struct {
	Adam
}

// NewAdamW returns AdamW with PyTorch's defaults: betas 0.9 and 0.999,
// eps 1e-8, weight decay 0.01.
func NewAdamW(lr float64) *AdamW {
	return &AdamW{Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}}
}

// Step updates params in place.
func (o *AdamW) Step(params []*Param) {
	if decay := float32(1 - o.LR*o.WeightDecay); decay != 1 {
		for _, p := range params {
			kernel.Scale(decay, p.Value.F32)
		}
	}
	a := o.Adam
	a.WeightDecay = 0
	a.Step(params)
	o.t, o.m, o.v = a.t, a.m, a.v
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// checkState panics when an optimizer is stepped with other parameters than
// the ones its state was made for: a programming error.
func checkState(opt string, n int, params []*Param, stateful bool) {
	if !stateful {
		return
	}
	if n != len(params) {
		panic(fmt.Sprintf("train: %s: Step with %d parameters, state for %d", opt, len(params), n))
	}
}
