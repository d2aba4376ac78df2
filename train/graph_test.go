package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/tensor"
)

func TestGradConv2dGroupsDilation(t *testing.T) {
	for _, tt := range []struct {
		inC, outC int
		o         ConvOptions
		n, h, w   int
	}{
		{4, 4, ConvOptions{Kernel: 3, Pad: 1, Groups: 4}, 2, 6, 5},                  // depthwise
		{4, 6, ConvOptions{Kernel: 3, Pad: 2, Dilation: 2, Groups: 2}, 3, 7, 7},     // grouped, dilated
		{2, 3, ConvOptions{Kernel: 3, Stride: 2, Pad: 1, Dilation: 2}, 2, 9, 8},     // dilated, strided
		{6, 6, ConvOptions{Kernel: 3, Stride: 2, Pad: 1, Groups: 6}, 20, 5, 5},      // depthwise, several chunks
		{4, 2, ConvOptions{Kernel: 1, Stride: 2, Groups: 2, NoBias: true}, 2, 5, 5}, // 1x1 downsample without bias
	} {
		t.Run(fmt.Sprintf("%d_%d_%+v", tt.inC, tt.outC, tt.o), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, 4))
			c := NewConv2dOpts("conv", tt.inC, tt.outC, tt.o)
			initUniform(rng, c.Params())
			gradCheck(t, c, randTensor(rng, -1, 1, tt.n, tt.inC, tt.h, tt.w))
		})
	}
}

// TestConv2dGroupsDirect compares a grouped, dilated Forward with the
// definition of convolution summed directly.
func TestConv2dGroupsDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n, inC, outC, k, s, p, d, g, h, w = 2, 4, 6, 3, 2, 2, 2, 2, 9, 8
	c := NewConv2dOpts("conv", inC, outC, ConvOptions{Kernel: k, Stride: s, Pad: p, Dilation: d, Groups: g})
	initUniform(rng, c.Params())
	x := randTensor(rng, -1, 1, n, inC, h, w)
	y := c.Forward(x)
	oh, ow := (h+2*p-d*(k-1)-1)/s+1, (w+2*p-d*(k-1)-1)/s+1
	cg, og := inC/g, outC/g
	for b := range n {
		for o := range outC {
			for i := range oh {
				for j := range ow {
					sum := float64(c.Bias.Value.F32[o])
					for ci := range cg {
						for ki := range k {
							for kj := range k {
								yy, xx := i*s-p+ki*d, j*s-p+kj*d
								if yy < 0 || yy >= h || xx < 0 || xx >= w {
									continue
								}
								sum += float64(c.Weight.Value.F32[((o*cg+ci)*k+ki)*k+kj]) * float64(x.F32[((b*inC+o/og*cg+ci)*h+yy)*w+xx])
							}
						}
					}
					if got := y.F32[((b*outC+o)*oh+i)*ow+j]; math.Abs(float64(got)-sum) > 1e-5 {
						t.Fatalf("y[%d,%d,%d,%d] = %v, want %v", b, o, i, j, got, sum)
					}
				}
			}
		}
	}
}

func TestGradPools(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	x := tensor.New(tensor.Float32, 2, 3, 7, 6)
	distinct(rng, x)
	gradCheck(t, NewMaxPool2dPad("maxpool", 3, 2, 1), x)
	gradCheck(t, NewGlobalAvgPool("gap"), randTensor(rng, -1, 1, 3, 4, 5, 3))
}

// residualModel is a graph with a BatchNorm'd ResNet basic block (conv-bn-
// relu-conv-bn plus a strided 1x1 downsample, Add, ReLU), a Concat of two
// branches and a value read by three nodes.
func residualModel(t *testing.T) *Model {
	t.Helper()
	m, err := NewGraph("res", []int{2, 6, 6},
		Apply(NewConv2d("stem", 2, 4, 3, 1, 1)), // [4,6,6]
		Apply(NewTanh("stem_relu")),
		Apply(NewConv2dOpts("c1", 4, 6, ConvOptions{Kernel: 3, Stride: 2, Pad: 1, NoBias: true})), // [6,3,3]
		Apply(NewBatchNorm2d("bn1", 6)),
		Apply(NewTanh("act1")),
		Apply(NewConv2d("c2", 6, 6, 3, 1, 1)),
		Apply(NewBatchNorm2d("bn2", 6)),
		Apply(NewConv2d("down", 4, 6, 1, 2, 0), "stem_relu"), // [6,3,3]
		Combine(NewAdd("add"), "bn2", "down"),
		Apply(NewTanh("act2")),
		Apply(NewConv2dOpts("dw", 6, 6, ConvOptions{Kernel: 3, Pad: 1, Groups: 6}), "act2"),
		Combine(NewConcat("cat"), "act2", "dw", "act2"), // [18,3,3]; act2 read three times
		Apply(NewGlobalAvgPool("gap")),
		Apply(NewFlatten("flat")),
		Apply(NewLinear("fc", 18, 3)),
	)
	if err != nil {
		t.Fatal(err)
	}
	m.InitDefault(3)
	return m
}

// TestGradGraph checks every parameter gradient of a graph model (in
// training mode, BatchNorm on batch statistics) against finite
// differences of L = sum(logits * r).
func TestGradGraph(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	m := residualModel(t)
	x := randTensor(rng, -1, 1, 4, 2, 6, 6)
	y, err := m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	r := randTensor(rng, -1, 1, y.Shape...)
	m.Backward(r)
	loss := func() float64 {
		y, _ := m.Forward(x)
		return weightedSum(y, r)
	}
	for _, p := range m.Params() {
		ana := p.Grad.Clone()
		bad := 0
		for i := range p.Value.F32 {
			old := p.Value.F32[i]
			p.Value.F32[i] = old + fdEps
			lp := loss()
			p.Value.F32[i] = old - fdEps
			lm := loss()
			p.Value.F32[i] = old
			num := (lp - lm) / (2 * fdEps)
			if d := math.Abs(num - float64(ana.F32[i])); d > fdAtol+fdRtol*math.Abs(num) {
				if bad++; bad <= 3 {
					t.Errorf("d L/d %s[%d] = %.6g (Backward), want %.6g (finite differences)", p.Name, i, ana.F32[i], num)
				}
			}
		}
	}
}

func TestNewGraphErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nodes []Node
		want  string
	}{
		{"linear too narrow", []Node{Apply(NewFlatten("flat")), Apply(NewLinear("fc", 100, 10))},
			`layer "fc": input [784], want [100]`},
		{"conv channels", []Node{Apply(NewConv2d("c", 3, 4, 3, 1, 1))}, `layer "c": input [1x28x28], want [3, H, W]`},
		{"add shapes", []Node{Apply(NewConv2d("c", 1, 2, 3, 1, 0)), Combine(NewAdd("add"), "c", "input")},
			`layer "add": inputs [2x26x26] and [1x28x28] differ in shape`},
		{"unknown input", []Node{Apply(NewReLU("r"), "nope")}, `layer "r": input "nope" is not the model's input or an earlier node`},
		{"unused", []Node{Apply(NewReLU("r1")), Apply(NewReLU("r2"), "input")}, `layer "r1": its output is not used`},
		{"name twice", []Node{Apply(NewReLU("r")), Apply(NewReLU("r"))}, `name "r" is empty or used twice`},
		{"kernel too big", []Node{Apply(NewMaxPool2d("p", 30, 1))}, `layer "p": input [1x28x28] is smaller than the 30x30 window`},
	} {
		_, err := NewGraph("g", []int{1, 28, 28}, tc.nodes...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: NewGraph error = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestFreeze checks that a frozen part leaves Params, keeps its weights
// and BatchNorm statistics through training steps, and that the rest
// trains.
func TestFreeze(t *testing.T) {
	m := residualModel(t)
	if err := m.Freeze("nope"); err == nil {
		t.Error("Freeze(nope) = nil, want an error")
	}
	if err := m.Freeze("add"); err != nil {
		t.Fatal(err)
	}
	if got := m.Frozen(); got != "add" {
		t.Errorf("Frozen() = %q, want add", got)
	}
	for _, p := range m.Params() {
		if strings.HasPrefix(p.Name, "bn") || strings.HasPrefix(p.Name, "c1") || strings.HasPrefix(p.Name, "stem") {
			t.Errorf("Params() holds frozen %s", p.Name)
		}
	}
	if n := len(m.Params()); n != 4 { // dw and fc
		t.Errorf("len(Params()) = %d, want 4", n)
	}
	before := map[string][]float32{}
	for k, v := range m.State() {
		before[k] = append([]float32(nil), v.F32...)
	}
	bn := modelBuffers(m)[0]
	stat := append([]float32(nil), bn.Value.F32...)
	rng := rand.New(rand.NewPCG(9, 9))
	tr := &Trainer{Model: m, Optimizer: NewAdam(1e-2)}
	for range 3 {
		if _, err := tr.Step(randTensor(rng, -1, 1, 4, 2, 6, 6), []int{0, 1, 2, 0}); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range m.State() {
		changed := false
		for i := range v.F32 {
			changed = changed || v.F32[i] != before[k][i]
		}
		if trains := strings.HasPrefix(k, "dw") || strings.HasPrefix(k, "fc"); changed != trains {
			t.Errorf("%s changed = %v, want %v", k, changed, trains)
		}
	}
	for i, v := range bn.Value.F32 {
		if v != stat[i] {
			t.Fatalf("frozen %s changed in training", bn.Name)
		}
	}
}

// Layers are initialized at construction as PyTorch's are (within the
// default bound 1/sqrt(fan_in), not zero), the same for the same name and
// different for another, so a model whose InitDefault is forgotten still
// trains.
func TestLayersInitializedAtConstruction(t *testing.T) {
	a, b, c := NewLinear("fc", 16, 4), NewLinear("fc", 16, 4), NewLinear("fc2", 16, 4)
	conv := NewConv2dOpts("conv", 4, 8, ConvOptions{Kernel: 3, Groups: 2, NoBias: true})
	nonzero := 0
	for i, v := range a.Weight.Value.F32 {
		if v != 0 {
			nonzero++
		}
		if math.Abs(float64(v)) > 0.25 { // 1/sqrt(16)
			t.Fatalf("fc.weight[%d] = %v, outside PyTorch's bound 0.25", i, v)
		}
		if v != b.Weight.Value.F32[i] {
			t.Fatalf("two layers named fc differ at weight %d", i)
		}
	}
	if nonzero < len(a.Weight.Value.F32)-1 || a.Weight.Value.F32[0] == c.Weight.Value.F32[0] {
		t.Errorf("fc.weight has %d of %d nonzero values, fc2's first equals fc's: want random, name-dependent values", nonzero, len(a.Weight.Value.F32))
	}
	for _, v := range conv.Bias.Value.F32 {
		if v != 0 {
			t.Fatalf("a Conv2d without bias has bias %v, want 0", conv.Bias.Value.F32)
		}
	}
}

// A training step of a graph with joins allocates nothing once warm.
func TestGraphStepNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop values: allocation counts mean nothing")
	}
	m := residualModel(t)
	rng := rand.New(rand.NewPCG(10, 10))
	x := randTensor(rng, -1, 1, 4, 2, 6, 6)
	tr := &Trainer{Model: m, Optimizer: NewAdam(1e-3)}
	labels := []int{0, 1, 2, 0}
	if _, err := tr.Step(x, labels); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(5, func() { tr.Step(x, labels) }); n != 0 {
		t.Errorf("Step allocates %v times per call, want 0", n)
	}
}
