package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/onnxkit/onnxkit/tensor"
)

// The gradient checks compare each layer's Backward with central finite
// differences of L = sum_i y_i * r_i (r fixed random weights, sum in
// float64), so dL/dy = r. Inputs stay further than eps from the kinks of
// ReLU and MaxPool, where the derivative jumps.
const (
	fdEps  = 1e-2
	fdRtol = 2e-2
	fdAtol = 2e-3
)

func randTensor(rng *rand.Rand, lo, hi float64, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32 {
		t.F32[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return t
}

// awayFromZero moves every element of t to at least margin from 0.
func awayFromZero(t *tensor.Tensor, margin float32) {
	for i, v := range t.F32 {
		if v >= 0 && v < margin {
			t.F32[i] = v + margin
		} else if v < 0 && v > -margin {
			t.F32[i] = v - margin
		}
	}
}

// distinct fills t with a random permutation of 0.1*(i - n/2): values at
// least 0.1 apart, so a perturbation of eps never changes a maximum.
func distinct(rng *rand.Rand, t *tensor.Tensor) {
	p := rng.Perm(len(t.F32))
	for i, v := range p {
		t.F32[i] = 0.1 * float32(v-len(p)/2)
	}
}

func weightedSum(y, r *tensor.Tensor) float64 {
	var s float64
	for i, v := range y.F32 {
		s += float64(v) * float64(r.F32[i])
	}
	return s
}

// gradCheck checks dL/dx and dL/dp for every parameter of l at input x.
func gradCheck(t *testing.T, l Layer, x *tensor.Tensor) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	y := l.Forward(x)
	r := randTensor(rng, -1, 1, y.Shape...)
	// Copy the analytic gradients: the layer's buffers are reused by the
	// finite-difference Forwards.
	dx := l.Backward(r).Clone()
	if !slices.Equal(dx.Shape, x.Shape) {
		t.Fatalf("%s: Backward shape %v, want %v", l.Name(), dx.Shape, x.Shape)
	}
	grads := map[*Param]*tensor.Tensor{}
	for _, p := range l.Params() {
		grads[p] = p.Grad.Clone()
	}
	loss := func() float64 { return weightedSum(l.Forward(x), r) }
	check := func(what string, v []float32, ana []float32) {
		t.Helper()
		bad := 0
		for i := range v {
			old := v[i]
			v[i] = old + fdEps
			lp := loss()
			v[i] = old - fdEps
			lm := loss()
			v[i] = old
			num := (lp - lm) / (2 * fdEps)
			if d := math.Abs(num - float64(ana[i])); d > fdAtol+fdRtol*math.Abs(num) {
				if bad++; bad <= 5 {
					t.Errorf("%s: d L/d %s[%d] = %.6g (Backward), want %.6g (finite differences)", l.Name(), what, i, ana[i], num)
				}
			}
		}
	}
	check("x", x.F32, dx.F32)
	for _, p := range l.Params() {
		check(p.Name, p.Value.F32, grads[p].F32)
	}
}

func TestGradLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	l := NewLinear("fc", 7, 5)
	initUniform(rng, l.Params())
	gradCheck(t, l, randTensor(rng, -1, 1, 3, 7))
}

func initUniform(rng *rand.Rand, ps []*Param) {
	for _, p := range ps {
		for i := range p.Value.F32 {
			p.Value.F32[i] = float32(rng.Float64() - 0.5)
		}
	}
}

func TestGradConv2d(t *testing.T) {
	for _, tt := range []struct {
		inC, outC, k, stride, pad, n, h, w int
	}{
		{1, 2, 5, 1, 2, 2, 6, 6},   // LeNet5 conv1 / CNN conv1 geometry
		{2, 3, 3, 1, 0, 3, 5, 4},   // no padding, non-square input
		{2, 2, 3, 2, 1, 2, 7, 6},   // stride 2 with padding
		{3, 2, 2, 3, 1, 1, 5, 7},   // stride larger than the kernel
		{2, 4, 5, 1, 0, 20, 5, 5},  // 1x1 output (LeNet5 conv3), several chunks
		{8, 2, 5, 1, 2, 8, 12, 12}, // several cache-sized blocks in a chunk
	} {
		name := fmt.Sprintf("in%d_out%d_k%d_s%d_p%d_n%d_%dx%d", tt.inC, tt.outC, tt.k, tt.stride, tt.pad, tt.n, tt.h, tt.w)
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(2, 2))
			c := NewConv2d("conv", tt.inC, tt.outC, tt.k, tt.stride, tt.pad)
			initUniform(rng, c.Params())
			gradCheck(t, c, randTensor(rng, -1, 1, tt.n, tt.inC, tt.h, tt.w))
		})
	}
}

// TestConv2dDirect compares Forward with the definition of convolution,
// summed directly.
func TestConv2dDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const n, inC, outC, k, s, p, h, w = 3, 2, 3, 3, 2, 1, 7, 6
	c := NewConv2d("conv", inC, outC, k, s, p)
	initUniform(rng, c.Params())
	x := randTensor(rng, -1, 1, n, inC, h, w)
	y := c.Forward(x)
	oh, ow := (h+2*p-k)/s+1, (w+2*p-k)/s+1
	if !slices.Equal(y.Shape, []int{n, outC, oh, ow}) {
		t.Fatalf("Forward shape %v, want [%d %d %d %d]", y.Shape, n, outC, oh, ow)
	}
	W := c.Weight.Value.F32
	for b := range n {
		for o := range outC {
			for i := range oh {
				for j := range ow {
					want := float64(c.Bias.Value.F32[o])
					for ci := range inC {
						for kh := range k {
							for kw := range k {
								ih, iw := i*s-p+kh, j*s-p+kw
								if ih < 0 || ih >= h || iw < 0 || iw >= w {
									continue
								}
								want += float64(W[((o*inC+ci)*k+kh)*k+kw]) * float64(x.F32[((b*inC+ci)*h+ih)*w+iw])
							}
						}
					}
					got := y.F32[((b*outC+o)*oh+i)*ow+j]
					if math.Abs(float64(got)-want) > 1e-5 {
						t.Fatalf("y[%d,%d,%d,%d] = %v, want %v", b, o, i, j, got, want)
					}
				}
			}
		}
	}
}

func TestGradMaxPool2d(t *testing.T) {
	for _, tt := range []struct{ k, s, h, w int }{{2, 1, 5, 5}, {2, 2, 6, 6}, {3, 2, 7, 6}, {2, 2, 5, 5}} {
		t.Run(fmt.Sprintf("k%d_s%d_%dx%d", tt.k, tt.s, tt.h, tt.w), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, 4))
			x := tensor.New(tensor.Float32, 2, 3, tt.h, tt.w)
			distinct(rng, x)
			p := NewMaxPool2d("pool", tt.k, tt.s)
			gradCheck(t, p, x)
			if y := p.Forward(x); !slices.Equal(y.Shape, []int{2, 3, (tt.h-tt.k)/tt.s + 1, (tt.w-tt.k)/tt.s + 1}) {
				t.Errorf("Forward shape %v", y.Shape)
			}
		})
	}
}

// TestMaxPool2dTies checks that among equal maxima the first in row-major
// order receives the gradient, as in PyTorch.
func TestMaxPool2dTies(t *testing.T) {
	x := tensor.FromFloat32([]float32{1, 3, 3, 2}, 1, 1, 2, 2)
	p := NewMaxPool2d("pool", 2, 2)
	if y := p.Forward(x); y.F32[0] != 3 {
		t.Fatalf("max = %v, want 3", y.F32[0])
	}
	dx := p.Backward(tensor.FromFloat32([]float32{1}, 1, 1, 1, 1))
	if want := []float32{0, 1, 0, 0}; !equalF32(dx.F32, want) {
		t.Fatalf("dx = %v, want %v", dx.F32, want)
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestGradAvgPool2d(t *testing.T) {
	for _, tt := range []struct{ k, s, h, w int }{{2, 2, 6, 6}, {2, 2, 5, 7}, {3, 1, 5, 5}, {2, 3, 8, 8}} {
		t.Run(fmt.Sprintf("k%d_s%d_%dx%d", tt.k, tt.s, tt.h, tt.w), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 5))
			gradCheck(t, NewAvgPool2d("pool", tt.k, tt.s), randTensor(rng, -1, 1, 2, 2, tt.h, tt.w))
		})
	}
	// [1 2; 3 4] averages to 2.5.
	y := NewAvgPool2d("pool", 2, 2).Forward(tensor.FromFloat32([]float32{1, 2, 3, 4}, 1, 1, 2, 2))
	if y.F32[0] != 2.5 {
		t.Errorf("AvgPool2d of [1 2; 3 4] = %v, want 2.5", y.F32[0])
	}
}

func TestGradActivations(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	x := randTensor(rng, -2, 2, 4, 3, 5)
	awayFromZero(x, 0.05)
	t.Run("ReLU", func(t *testing.T) { gradCheck(t, NewReLU("relu"), x) })
	t.Run("Tanh", func(t *testing.T) { gradCheck(t, NewTanh("tanh"), x) })
	t.Run("Flatten", func(t *testing.T) {
		f := NewFlatten("flatten")
		if y := f.Forward(x); !slices.Equal(y.Shape, []int{4, 15}) {
			t.Fatalf("Flatten shape %v, want [4 15]", y.Shape)
		}
		gradCheck(t, f, x)
	})
	t.Run("DropoutEval", func(t *testing.T) {
		d := NewDropout("drop", 0.5, 1)
		d.SetTraining(false)
		gradCheck(t, d, x)
	})
}

func TestDropoutTraining(t *testing.T) {
	const p = 0.2
	x := tensor.New(tensor.Float32, 50, 200)
	for i := range x.F32 {
		x.F32[i] = 1
	}
	d := NewDropout("drop", p, 42)
	y := d.Forward(x)
	zeros := 0
	for _, v := range y.F32 {
		switch v {
		case 0:
			zeros++
		case 1 / (1 - p):
		default:
			t.Fatalf("Dropout output %v, want 0 or %v", v, 1/(1-p))
		}
	}
	// 10,000 Bernoulli(0.2) draws: mean 2,000, sd 40; allow 5 sd.
	if zeros < 1800 || zeros > 2200 {
		t.Errorf("Dropout(0.2) zeroed %d of 10000, want about 2000", zeros)
	}
	dy := tensor.New(tensor.Float32, 50, 200)
	for i := range dy.F32 {
		dy.F32[i] = 2
	}
	dx := d.Backward(dy)
	for i := range dx.F32 {
		if dx.F32[i] != 2*y.F32[i] {
			t.Fatalf("Dropout dx[%d] = %v, want dy*mask = %v", i, dx.F32[i], 2*y.F32[i])
		}
	}
	first := append([]float32(nil), y.F32...)
	if y2 := d.Forward(x); equalF32(first, y2.F32) {
		t.Error("two Forward calls drew the same mask")
	}
	// The same seed replays the same masks.
	d2 := NewDropout("drop", p, 42)
	if y3 := d2.Forward(x); !equalF32(first, y3.F32) {
		t.Error("Dropout with the same seed drew a different first mask")
	}
}

func TestCrossEntropyLoss(t *testing.T) {
	var l CrossEntropyLoss
	// Equal logits over 2 classes: loss ln 2; gradient (1/2 - 1, 1/2)/N.
	loss, err := l.Forward(tensor.FromFloat32([]float32{0, 0, 3, 3}, 2, 2), []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(loss-math.Ln2) > 1e-12 {
		t.Errorf("loss = %v, want ln 2 = %v", loss, math.Ln2)
	}
	if g, want := l.Backward().F32, []float32{-0.25, 0.25, 0.25, -0.25}; !equalF32(g, want) {
		t.Errorf("dlogits = %v, want %v", g, want)
	}
	// Stable for huge logits: log-softmax of [1000, 0] at label 1 is -1000.
	if loss, _ := l.Forward(tensor.FromFloat32([]float32{1000, 0}, 1, 2), []int{1}); loss != 1000 {
		t.Errorf("loss of logits [1000 0] for label 1 = %v, want 1000", loss)
	}
	if _, err := l.Forward(tensor.FromFloat32([]float32{0, 0}, 1, 2), []int{2}); err == nil {
		t.Error("label 2 of 2 classes: no error")
	}
	if _, err := l.Forward(tensor.FromFloat32([]float32{0, 0}, 1, 2), []int{0, 1}); err == nil {
		t.Error("2 labels for 1 row: no error")
	}

	// Finite differences in float64 on random logits.
	rng := rand.New(rand.NewPCG(8, 8))
	logits := randTensor(rng, -3, 3, 4, 5)
	labels := []int{0, 4, 2, 2}
	if _, err := l.Forward(logits, labels); err != nil {
		t.Fatal(err)
	}
	g := l.Backward().Clone()
	for i := range logits.F32 {
		old := logits.F32[i]
		logits.F32[i] = old + fdEps
		lp, _ := l.Forward(logits, labels)
		logits.F32[i] = old - fdEps
		lm, _ := l.Forward(logits, labels)
		logits.F32[i] = old
		num := (lp - lm) / (2 * fdEps)
		if math.Abs(num-float64(g.F32[i])) > 1e-4 {
			t.Errorf("d loss/d logits[%d] = %v, want %v (finite differences)", i, g.F32[i], num)
		}
	}
}

// TestGradModels checks whole models (batch of 2) on a sample of parameter
// elements, with dropout off. The CNN is left out: its thousands of ReLU and
// overlapping max-pool kinks lie within any usable float32 step (eps 1e-3
// still crosses them for conv1.bias), so finite differences are noise there;
// its layers are checked one by one above and the whole model against
// PyTorch's gradients in TestPyTorchReference.
func TestGradModels(t *testing.T) {
	for _, tt := range []struct {
		kind      string
		eps, rtol float64
	}{{LeNet5, fdEps, fdRtol}, {MLP, fdEps, fdRtol}} {
		kind := tt.kind
		t.Run(kind, func(t *testing.T) {
			m, err := New(kind, 3)
			if err != nil {
				t.Fatal(err)
			}
			m.SetTraining(false)
			rng := rand.New(rand.NewPCG(9, 9))
			x := randTensor(rng, 0, 1, 2, 1, 28, 28)
			labels := []int{3, 7}
			var loss CrossEntropyLoss
			lossAt := func() float64 {
				y, err := m.Forward(x)
				if err != nil {
					t.Fatal(err)
				}
				l, err := loss.Forward(y, labels)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			lossAt()
			m.Backward(loss.Backward())
			for _, p := range m.Params() {
				g := p.Grad.Clone()
				// 6 elements per parameter, spread over the tensor.
				for k := range 6 {
					i := rng.IntN(len(p.Value.F32))
					if k == 0 {
						i = 0
					}
					old := p.Value.F32[i]
					p.Value.F32[i] = old + float32(tt.eps)
					lp := lossAt()
					p.Value.F32[i] = old - float32(tt.eps)
					lm := lossAt()
					p.Value.F32[i] = old
					num := (lp - lm) / (2 * tt.eps)
					if d := math.Abs(num - float64(g.F32[i])); d > 2e-4+tt.rtol*math.Abs(num) {
						t.Errorf("d loss/d %s[%d] = %.6g (Backward), want %.6g (finite differences)", p.Name, i, g.F32[i], num)
					}
				}
			}
		})
	}
}
