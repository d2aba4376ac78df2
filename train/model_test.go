package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/tensor"
)

// The tutorial models' parameters, as PyTorch's state_dict lists them
// (names, shapes and order from scripts/torchref.py's modules).
var wantParams = map[string][]struct {
	name  string
	shape []int
}{
	MLP: {{"fc1.weight", []int{784, 784}}, {"fc1.bias", []int{784}}, {"fc2.weight", []int{10, 784}}, {"fc2.bias", []int{10}}},
	CNN: {{"conv1.weight", []int{10, 1, 5, 5}}, {"conv1.bias", []int{10}},
		{"fc1.weight", []int{128, 7290}}, {"fc1.bias", []int{128}}, {"fc2.weight", []int{10, 128}}, {"fc2.bias", []int{10}}},
	LeNet5: {{"conv1.weight", []int{6, 1, 5, 5}}, {"conv1.bias", []int{6}}, {"conv2.weight", []int{16, 6, 5, 5}}, {"conv2.bias", []int{16}},
		{"conv3.weight", []int{120, 16, 5, 5}}, {"conv3.bias", []int{120}},
		{"fc1.weight", []int{84, 120}}, {"fc1.bias", []int{84}}, {"fc2.weight", []int{10, 84}}, {"fc2.bias", []int{10}}},
	Best: {{"conv1.weight", []int{16, 1, 3, 3}}, {"conv1.bias", []int{16}}, {"bn1.weight", []int{16}}, {"bn1.bias", []int{16}},
		{"conv2.weight", []int{32, 16, 3, 3}}, {"conv2.bias", []int{32}}, {"bn2.weight", []int{32}}, {"bn2.bias", []int{32}},
		{"conv3.weight", []int{32, 32, 3, 3}}, {"conv3.bias", []int{32}}, {"bn3.weight", []int{32}}, {"bn3.bias", []int{32}},
		{"conv4.weight", []int{64, 32, 3, 3}}, {"conv4.bias", []int{64}}, {"bn4.weight", []int{64}}, {"bn4.bias", []int{64}},
		{"conv5.weight", []int{64, 64, 3, 3}}, {"conv5.bias", []int{64}}, {"bn5.weight", []int{64}}, {"bn5.bias", []int{64}},
		{"fc.weight", []int{10, 64}}, {"fc.bias", []int{10}}},
}

// Parameter counts: sum(p.numel() for p in model.parameters()).
var wantCount = map[string]int{MLP: 623290, CNN: 934798, LeNet5: 61706, Best: 70538}

func TestModels(t *testing.T) {
	for _, kind := range Models {
		t.Run(kind, func(t *testing.T) {
			m, err := New(kind, 1)
			if err != nil {
				t.Fatal(err)
			}
			ps := m.Params()
			want := wantParams[kind]
			if len(ps) != len(want) {
				t.Fatalf("%d parameters, want %d", len(ps), len(want))
			}
			count := 0
			for i, p := range ps {
				if p.Name != want[i].name || !slices.Equal(p.Value.Shape, want[i].shape) || !slices.Equal(p.Grad.Shape, want[i].shape) {
					t.Errorf("parameter %d = %s %v, want %s %v", i, p.Name, p.Value.Shape, want[i].name, want[i].shape)
				}
				count += p.Value.Len()
				// PyTorch's default init: U(-b, b) with b = 1/sqrt(fan_in),
				// variance b^2/3.
				fanIn := 1
				for _, d := range ps[i&^1].Value.Shape[1:] {
					fanIn *= d
				}
				b := 1 / math.Sqrt(float64(fanIn))
				var ss float64
				for _, v := range p.Value.F32 {
					if math.Abs(float64(v)) > b {
						t.Fatalf("%s has %v outside +-%v", p.Name, v, b)
					}
					ss += float64(v) * float64(v)
				}
				if n := p.Value.Len(); n >= 1000 {
					if sd, wantSD := math.Sqrt(ss/float64(n)), b/math.Sqrt(3); math.Abs(sd-wantSD) > 0.1*wantSD {
						t.Errorf("%s: standard deviation %v, want about %v", p.Name, sd, wantSD)
					}
				}
			}
			if count != wantCount[kind] {
				t.Errorf("%d parameters in all, want %d", count, wantCount[kind])
			}
			x := tensor.New(tensor.Float32, 3, 1, 28, 28)
			y, err := m.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(y.Shape, []int{3, 10}) {
				t.Errorf("Forward shape %v, want [3 10]", y.Shape)
			}
			for _, bad := range []*tensor.Tensor{tensor.New(tensor.Float32, 3, 28, 28), tensor.New(tensor.Float32, 0, 1, 28, 28),
				tensor.New(tensor.Float64, 1, 1, 28, 28), tensor.New(tensor.Float32, 2, 1, 28, 27)} {
				if _, err := m.Forward(bad); err == nil || !strings.Contains(err.Error(), kind) {
					t.Errorf("Forward(%v) error = %v, want one naming the model", bad, err)
				}
			}
		})
	}
	if _, err := New("resnet", 1); err == nil {
		t.Error(`New("resnet") succeeded`)
	}
}

func TestInitSeed(t *testing.T) {
	a, _ := New(LeNet5, 5)
	b, _ := New(LeNet5, 5)
	c, _ := New(LeNet5, 6)
	if !equalParams(a, b) {
		t.Error("same seed gave different initial weights")
	}
	if equalParams(a, c) {
		t.Error("different seeds gave the same initial weights")
	}
}

func equalParams(a, b *Model) bool {
	for i, p := range a.Params() {
		if !equalF32(p.Value.F32, b.Params()[i].Value.F32) {
			return false
		}
	}
	return true
}

func TestLoadState(t *testing.T) {
	a, _ := New(LeNet5, 1)
	b, _ := New(LeNet5, 2)
	if err := b.LoadState(a.State()); err != nil {
		t.Fatal(err)
	}
	if !equalParams(a, b) {
		t.Error("LoadState did not copy the weights")
	}
	s := a.State()
	s["conv1.weight"] = tensor.New(tensor.Float32, 6, 1, 5, 4)
	if err := b.LoadState(s); err == nil || !strings.Contains(err.Error(), "conv1.weight") {
		t.Errorf("LoadState with a wrong shape: error %v, want one naming conv1.weight", err)
	}
	s = a.State()
	delete(s, "fc2.bias")
	if err := b.LoadState(s); err == nil || !strings.Contains(err.Error(), "fc2.bias") {
		t.Errorf("LoadState without fc2.bias: error %v", err)
	}
	s = a.State()
	s["extra"] = tensor.New(tensor.Float32, 1)
	if err := b.LoadState(s); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("LoadState with an unknown key: error %v", err)
	}
}

// randomBatch returns n random images with labels.
func randomBatch(seed uint64, n int) (*tensor.Tensor, []int) {
	rng := rand.New(rand.NewPCG(seed, 0))
	x := randTensor(rng, 0, 1, n, 1, 28, 28)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.IntN(10)
	}
	return x, labels
}

// TestBestFor builds Best for other image sizes: its global pool covers
// whatever the two pools leave, and inputs it cannot pool are errors
// naming the model.
func TestBestFor(t *testing.T) {
	for _, in := range [][]int{{3, 32, 32}, {1, 30, 30}, {2, 4, 4}} {
		m, err := NewFor(Best, in, 5, 1)
		if err != nil {
			t.Fatalf("NewFor(best, %v) = %v", in, err)
		}
		y, err := m.Forward(tensor.New(tensor.Float32, append([]int{2}, in...)...))
		if err != nil || !slices.Equal(y.Shape, []int{2, 5}) {
			t.Errorf("NewFor(best, %v).Forward = %v, %v; want [2 5]", in, y, err)
		}
	}
	for _, in := range [][]int{{1, 3, 3}, {1, 28, 20}} {
		if _, err := NewFor(Best, in, 10, 1); err == nil || !strings.Contains(err.Error(), `"best"`) {
			t.Errorf("NewFor(best, %v) error = %v, want one naming the model", in, err)
		}
	}
}
