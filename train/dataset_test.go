package train

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/tensor"
)

// colourSet is a Dataset of n C x H x W images in len(names) classes:
// noise in [0, 0.4), plus 0.6 on channel label%C of image rows label/C
// (mod H), so that colour and position tell the classes apart.
type colourSet struct {
	c, h, w int
	names   []string
	x       []float32
	labels  []int
}

func newColourSet(seed uint64, n, c, h, w int, names []string) *colourSet {
	rng := rand.New(rand.NewPCG(seed, 2))
	s := &colourSet{c: c, h: h, w: w, names: names, x: make([]float32, n*c*h*w), labels: make([]int, n)}
	sz := c * h * w
	for i := range n {
		l := rng.IntN(len(names))
		s.labels[i] = l
		for k := range sz {
			v := 0.4 * rng.Float32()
			ch, row := k/(h*w), k/w%h
			if ch == l%c && row == (l/c)%h {
				v += 0.6
			}
			s.x[i*sz+k] = v
		}
	}
	return s
}

func (s *colourSet) Len() int               { return len(s.labels) }
func (s *colourSet) Shape() (int, int, int) { return s.c, s.h, s.w }
func (s *colourSet) Classes() []string      { return s.names }
func (s *colourSet) Fill(x []float32, labels []int, idx []int) error {
	sz := s.c * s.h * s.w
	for i, j := range idx {
		copy(x[i*sz:(i+1)*sz], s.x[j*sz:(j+1)*sz])
		labels[i] = s.labels[j]
	}
	return nil
}

// The first dense layer's width follows the input as PyTorch's shape
// arithmetic gives it: conv out = (n + 2p - k)/s + 1, pool out =
// (n - k)/s + 1. For LeNet5 on 3x32x32: 32 -pool-> 16 -conv-> 12 -pool-> 6
// -conv-> 2, so fc1 takes 120*2*2 = 480; the CNN on 3x32x32 takes
// 10*31*31 = 9610.
func TestNewForShapes(t *testing.T) {
	tests := []struct {
		kind    string
		input   []int
		classes int
		fc1In   int
		wantErr string
	}{
		{MLP, []int{1, 28, 28}, 10, 784, ""},
		{MLP, []int{3, 8, 6}, 4, 144, ""},
		{CNN, []int{1, 28, 28}, 10, 7290, ""},
		{CNN, []int{3, 32, 32}, 7, 9610, ""},
		{LeNet5, []int{1, 28, 28}, 10, 120, ""},
		{LeNet5, []int{3, 32, 32}, 2, 480, ""},
		{LeNet5, []int{1, 27, 28}, 10, 0, "too small"},
		{CNN, []int{1, 1, 5}, 10, 0, "smaller than its 2x2 pool"},
		{MLP, []int{3, 64, 64}, 10, 0, "12288 features"},
		{CNN, []int{3, 32, 32}, 0, 0, "want positive"},
		{CNN, []int{3, 32}, 10, 0, "want positive"},
		{CNN, []int{3, 1 << 20, 1}, 10, 0, "more than 65536 features"},
	}
	for _, tt := range tests {
		m, err := NewFor(tt.kind, tt.input, tt.classes, 1)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewFor(%s, %v, %d) error = %v, want %q", tt.kind, tt.input, tt.classes, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("NewFor(%s, %v, %d): %v", tt.kind, tt.input, tt.classes, err)
		}
		var fc1 *Linear
		for _, l := range m.Layers() {
			if l, ok := l.(*Linear); ok && fc1 == nil {
				fc1 = l
			}
		}
		if fc1.In != tt.fc1In || m.NumClasses() != tt.classes {
			t.Errorf("NewFor(%s, %v, %d): fc1 takes %d, %d classes; want %d, %d", tt.kind, tt.input, tt.classes, fc1.In, m.NumClasses(), tt.fc1In, tt.classes)
		}
		x := tensor.New(tensor.Float32, append([]int{2}, tt.input...)...)
		y, err := m.Forward(x)
		if err != nil || !slices.Equal(y.Shape, []int{2, tt.classes}) {
			t.Errorf("NewFor(%s, %v, %d).Forward = %v, %v; want [2 %d]", tt.kind, tt.input, tt.classes, y, err, tt.classes)
		}
	}
}

// Fit and Evaluate take any Dataset: the CNN learns a 3-channel, 5-class
// set it could not guess (20% by chance), and the export records the class
// names, which FromONNX reads back.
func TestFitDataset(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	train, test := newColourSet(1, 300, 3, 6, 5, names), newColourSet(2, 100, 3, 6, 5, names)
	r, err := DefaultRecipe(CNN)
	if err != nil {
		t.Fatal(err)
	}
	r.Epochs, r.BatchSize, r.Input, r.Classes = 4, 20, [3]int{3, 6, 5}, len(names)
	tr, err := NewTrainer(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr.Model.Classes = names
	// A nil pointer as the test set means none, as a nil *mnist.Set did.
	if err := tr.Fit(context.Background(), train, (*colourSet)(nil)); err != nil {
		t.Fatal(err)
	}
	tr, err = NewTrainer(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr.Model.Classes = names
	if err := tr.Fit(context.Background(), train, test); err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(context.Background(), tr.Model, test, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accuracy < 0.9 || res.N != 100 {
		t.Errorf("Evaluate after 4 epochs = %+v, want at least 90%% of 100", res)
	}
	om, err := tr.Model.Export(ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromONNX(om)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Classes, names) || !slices.Equal(back.InputShape(), []int{3, 6, 5}) {
		t.Errorf("FromONNX(Export) = classes %v input %v, want %v [3 6 5]", back.Classes, back.InputShape(), names)
	}

	// Sets that do not fit the model are refused with what differs.
	bad := []struct {
		d    Dataset
		want string
	}{
		{newColourSet(1, 10, 1, 6, 5, names), "images of 1x6x5"},
		{newColourSet(1, 10, 3, 6, 5, names[:4]), "has 4 classes, model \"cnn\" gives 5"},
		{&badLabel{newColourSet(1, 10, 3, 6, 5, names)}, "sample 3 has label 7, want 0 to 4"},
		{nil, "no training set"},
		{(*colourSet)(nil), "no training set"},
	}
	for _, b := range bad {
		tr, _ := NewTrainer(r, 1)
		if err := tr.Fit(context.Background(), b.d, nil); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Fit(%T) = %v, want an error containing %q", b.d, err, b.want)
		}
	}
}

// badLabel gives sample 3 the label 7.
type badLabel struct{ *colourSet }

func (b *badLabel) Fill(x []float32, labels []int, idx []int) error {
	b.colourSet.Fill(x, labels, idx)
	for i, j := range idx {
		if j == 3 {
			labels[i] = 7
		}
	}
	return nil
}
