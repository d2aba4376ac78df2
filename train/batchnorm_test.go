package train

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/tensor"
)

// The expected values are PyTorch 1.13.1's (Debian's python3-torch):
// nn.BatchNorm2d(2) with weight [1.5, -0.5] and bias [0.1, 0.2], one
// forward in training mode on x, backward of dy, then a forward in eval
// mode: bn = nn.BatchNorm2d(2); y = bn(x); y.backward(dy); bn.eval(); bn(x).
func TestBatchNorm2dPyTorch(t *testing.T) {
	x := tensor.FromFloat32([]float32{0.5, -1, 2, 0.25, 1.5, 0, -0.5, 3, 1, 0.75, -2, 0.5, 0, 1, 2.5, -1.5}, 2, 2, 2, 2)
	dy := tensor.FromFloat32([]float32{1, -2, 0.5, 0, 0.3, 0.7, -1, 2, 0, 1, -0.5, 2, 1, -1, 0.5, 0.25}, 2, 2, 2, 2)
	wantY := []float32{0.4253944456577301, -1.5269722938537598, 2.377761125564575, 0.09999999403953552, -0.061115846037864685, 0.46111583709716797, 0.6351930499076843, -0.5833475589752197, 1.0761833190917969, 0.7507889270782471, -2.828550100326538, 0.4253944456577301, 0.46111583709716797, 0.11296138167381287, -0.4092702865600586, 0.9833475351333618}
	wantDx := []float32{0.8000888228416443, -2.0480775833129883, -0.9072670340538025, -0.3253944516181946, 0.09059891104698181, -0.19939717650413513, 0.34222060441970825, -0.35052934288978577, -0.8536779284477234, 0.6239943504333496, 0.6086670756340027, 2.1016666889190674, -0.30384352803230286, 0.49295490980148315, 0.12145756930112839, -0.19346199929714203}
	wantEval := []float32{0.7947350740432739, -1.399165153503418, 2.988635301589966, 0.42908501625061035, -0.46857234835624695, 0.23518802225589752, 0.4697748124599457, -1.172332763671875, 1.5260350704193115, 1.1603851318359375, -2.861765146255493, 0.7947350740432739, 0.23518802225589752, -0.2339855581521988, -0.9377459287643433, 0.938948392868042}
	b := NewBatchNorm2d("bn", 2)
	copy(b.Weight.Value.F32, []float32{1.5, -0.5})
	copy(b.Bias.Value.F32, []float32{0.1, 0.2})
	near := func(what string, got, want []float32) {
		t.Helper()
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-5 {
				t.Errorf("%s[%d] = %v, want %v (PyTorch)", what, i, got[i], want[i])
			}
		}
	}
	near("y", b.Forward(x).F32, wantY)
	near("dx", b.Backward(dy).F32, wantDx)
	near("dweight", b.Weight.Grad.F32, []float32{4.989381790161133, 3.316171169281006})
	near("dbias", b.Bias.Grad.F32, []float32{2, 2.75})
	near("running_mean", b.RunningMean.Value.F32, []float32{0.02500000037252903, 0.07500000298023224})
	near("running_var", b.RunningVar.Value.F32, []float32{1.0517857074737549, 1.1357142925262451})
	b.SetTraining(false)
	near("y (eval)", b.Forward(x).F32, wantEval)
}

func TestGradBatchNorm2d(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, training := range []bool{true, false} {
		b := NewBatchNorm2d("bn", 3)
		for i := range 3 {
			b.Weight.Value.F32[i] = float32(0.5 + rng.Float64())
			b.Bias.Value.F32[i] = float32(rng.Float64() - 0.5)
			b.RunningMean.Value.F32[i] = float32(rng.Float64() - 0.5)
			b.RunningVar.Value.F32[i] = float32(0.5 + rng.Float64())
		}
		b.SetTraining(training)
		gradCheck(t, b, randTensor(rng, -2, 2, 2, 3, 3, 4))
	}
}

// bnModel is a small CNN with BatchNorm2d for 1x6x6 inputs and 3 classes.
func bnModel(t *testing.T) *Model {
	t.Helper()
	m, err := NewModel("bn", []int{1, 6, 6}, NewConv2d("conv1", 1, 4, 3, 1, 1), NewBatchNorm2d("bn1", 4), NewReLU("relu1"),
		NewFlatten("flatten"), NewLinear("fc", 4*6*6, 3))
	if err != nil {
		t.Fatal(err)
	}
	m.InitDefault(1)
	return m
}

// After training, the export (BatchNormalization with the running
// statistics) computes in infer what the model computes in eval mode, and a
// checkpoint brings the running statistics back.
func TestBatchNorm2dExportCheckpoint(t *testing.T) {
	names := []string{"a", "b", "c"}
	data := newColourSet(1, 60, 1, 6, 6, names)
	tr := &Trainer{Model: bnModel(t), Optimizer: NewAdam(1e-2), BatchSize: 20, Epochs: 2, Seed: 1}
	if err := tr.Fit(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
	bn := tr.Model.Layers()[1].(*BatchNorm2d)
	if bn.RunningVar.Value.F32[0] == 1 || bn.Weight.Value.F32[0] == 1 {
		t.Fatalf("BatchNorm2d did not train: %v %v", bn.RunningVar.Value.F32, bn.Weight.Value.F32)
	}
	om, err := tr.Model.Export(ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := infer.NewSession(om)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.Float32, 5, 1, 6, 6)
	labels := make([]int, 5)
	data.Fill(x.F32, labels, []int{0, 1, 2, 3, 4})
	tr.Model.SetTraining(false)
	want, err := tr.Model.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Run(map[string]*tensor.Tensor{"input": x})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range want.F32 {
		if d := math.Abs(float64(v - got["logits"].F32[i])); d > 1e-5 {
			t.Errorf("logit %d: train %v, infer %v", i, v, got["logits"].F32[i])
		}
	}

	c, err := tr.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Checkpoint
	if err := back.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	fresh := &Trainer{Model: bnModel(t), Optimizer: NewAdam(1e-2)}
	if err := fresh.Restore(&back); err != nil {
		t.Fatal(err)
	}
	fb := fresh.Model.Layers()[1].(*BatchNorm2d)
	for i := range bn.C {
		if fb.RunningMean.Value.F32[i] != bn.RunningMean.Value.F32[i] || fb.RunningVar.Value.F32[i] != bn.RunningVar.Value.F32[i] {
			t.Errorf("restored running statistics %v %v, want %v %v", fb.RunningMean.Value.F32, fb.RunningVar.Value.F32, bn.RunningMean.Value.F32, bn.RunningVar.Value.F32)
			break
		}
	}
	// A model without the BatchNorm2d refuses the checkpoint.
	plain, _ := NewModel("bn", []int{1, 6, 6}, NewConv2d("conv1", 1, 4, 3, 1, 1), NewReLU("relu1"), NewFlatten("flatten"), NewLinear("fc", 4*6*6, 3))
	if err := (&Trainer{Model: plain, Optimizer: NewAdam(1e-2)}).Restore(&back); err == nil {
		t.Errorf("Restore into a model without its BatchNorm2d: no error")
	}
}

// FromONNX reads the BatchNormalization back: the rebuilt model gives the
// same logits in eval mode; a node in training mode is refused by name.
func TestBatchNorm2dFromONNX(t *testing.T) {
	m := bnModel(t)
	bn := m.Layers()[1].(*BatchNorm2d)
	copy(bn.RunningMean.Value.F32, []float32{0.1, -0.2, 0.3, 0})
	copy(bn.RunningVar.Value.F32, []float32{0.5, 2, 1, 0.25})
	copy(bn.Weight.Value.F32, []float32{1.5, 0.5, -1, 2})
	bn.Momentum = 0.2
	om, err := m.Export(ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromONNX(om)
	if err != nil {
		t.Fatal(err)
	}
	x := randTensor(rand.New(rand.NewPCG(1, 1)), -1, 1, 3, 1, 6, 6)
	m.SetTraining(false)
	want, _ := m.Forward(x)
	want = want.Clone()
	got, err := back.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range want.F32 {
		if got.F32[i] != v {
			t.Fatalf("FromONNX(Export) logit %d = %v, want %v", i, got.F32[i], v)
		}
	}
	if bb := back.Layers()[1].(*BatchNorm2d); bb.Name() != "bn1" || math.Abs(float64(bb.Momentum-0.2)) > 1e-6 {
		t.Errorf("FromONNX: layer %q momentum %v, want bn1 0.2", bb.Name(), bb.Momentum)
	}
	for _, nd := range om.Graph.Nodes {
		if nd.OpType == "BatchNormalization" {
			nd.Attrs = append(nd.Attrs, intAttr("training_mode", 1))
		}
	}
	if _, err := FromONNX(om); err == nil || !strings.Contains(err.Error(), `node "/bn1/BatchNormalization" (BatchNormalization): attribute training_mode 1`) {
		t.Errorf("FromONNX with training_mode 1 = %v, want the node named", err)
	}
}
