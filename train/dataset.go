package train

import (
	"fmt"
	"math"
	"reflect"
	"slices"

	"github.com/onnxkit/onnxkit/tensor"
)

// Dataset is a labelled set of images that Fit and Evaluate read by index.
// *mnist.Set is one; the image folders of package imagefolder are another.
type Dataset interface {
	// Len returns the number of samples.
	Len() int
	// Shape returns the shape of one image.
	Shape() (channels, height, width int)
	// Classes returns the class names; labels are indices into it.
	Classes() []string
	// Fill writes images idx into x, image after image, each channel
	// after channel, row-major, with pixels in [0, 1] (torchvision's
	// ToTensor), and their labels into labels. x holds
	// len(idx)*channels*height*width values and labels len(idx).
	Fill(x []float32, labels []int, idx []int) error
}

// checkSet checks that d fits m: d is not nil, its images have m's input
// shape, it has as many classes as m has outputs, and m's normalization is
// usable. A Dataset with a Check method (mnist.Set) is checked with it too.
func checkSet(m *Model, d Dataset, what string) error {
	if isNil(d) {
		return fmt.Errorf("train: no %s set", what)
	}
	if c, ok := d.(interface{ Check() error }); ok {
		if err := c.Check(); err != nil {
			return fmt.Errorf("train: %s set: %w", what, err)
		}
	}
	if n := m.Normalize; n != nil && (n.Std == 0 || math.IsNaN(float64(n.Std)) || math.IsInf(float64(n.Std), 0) || math.IsNaN(float64(n.Mean)) || math.IsInf(float64(n.Mean), 0)) {
		return fmt.Errorf("train: model %q: normalization mean %v, std %v: want finite values and std != 0", m.Kind, n.Mean, n.Std)
	}
	if d.Len() < 0 {
		return fmt.Errorf("train: %s set has %d samples", what, d.Len())
	}
	c, h, w := d.Shape()
	if !slices.Equal(m.input, []int{c, h, w}) {
		return fmt.Errorf("train: %s set has images of %dx%dx%d (channels, height, width), model %q takes %s", what, c, h, w, m.Kind, tensor.ShapeString(m.input))
	}
	if k, n := len(d.Classes()), m.NumClasses(); k != n {
		return fmt.Errorf("train: %s set has %d classes, model %q gives %d scores", what, k, m.Kind, n)
	}
	return nil
}

// isNil reports whether d is nil or a nil pointer (a nil *mnist.Set, as
// Fit took before it took a Dataset).
func isNil(d Dataset) bool {
	if d == nil {
		return true
	}
	v := reflect.ValueOf(d)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// batcher turns samples of a Dataset into float32 input batches
// [B, C, H, W] and labels, normalized as the model says.
type batcher struct {
	size   int
	norm   *Normalize
	x      tensor.Tensor
	labels []int
}

func (b *batcher) setup(m *Model, size int) {
	b.size = size
	b.norm = m.Normalize
}

// fill returns the batch of samples idx of d and their labels (valid until
// the next fill), normalized. A label outside d's classes is an error
// naming the sample.
func (b *batcher) fill(d Dataset, idx []int) (*tensor.Tensor, []int, error) {
	x, labels, err := b.read(d, idx)
	if err != nil {
		return nil, nil, err
	}
	b.normalize()
	return x, labels, nil
}

// read is fill without the normalization (see normalize).
func (b *batcher) read(d Dataset, idx []int) (*tensor.Tensor, []int, error) {
	c, h, w := d.Shape()
	b.x.Resize(tensor.Float32, len(idx), c, h, w)
	if cap(b.labels) < len(idx) {
		b.labels = make([]int, len(idx))
	}
	labels := b.labels[:len(idx)]
	if err := d.Fill(b.x.F32, labels, idx); err != nil {
		return nil, nil, err
	}
	k := len(d.Classes())
	for i, l := range labels {
		if l < 0 || l >= k {
			return nil, nil, fmt.Errorf("train: sample %d has label %d, want 0 to %d", idx[i], l, k-1)
		}
	}
	return &b.x, labels, nil
}

// normalize applies the model's normalization to the batch read last.
func (b *batcher) normalize() {
	if n := b.norm; n != nil {
		for i, p := range b.x.F32 {
			b.x.F32[i] = (p - n.Mean) / n.Std
		}
	}
}

// MeanStd returns the mean and standard deviation of all pixels of d (in
// [0, 1], as Fill gives them), the statistics from which torchvision users
// compute Normalize (MNIST's 0.1307, 0.3081). Std is 1 when the pixels are
// all the same.
func MeanStd(d Dataset) (Normalize, error) {
	c, h, w := d.Shape()
	n, sz := d.Len(), c*h*w
	if n <= 0 || sz <= 0 {
		return Normalize{}, fmt.Errorf("train: MeanStd: %d samples of %dx%dx%d", n, c, h, w)
	}
	const batch = 100
	x, labels, idx := make([]float32, min(batch, n)*sz), make([]int, min(batch, n)), make([]int, 0, batch)
	var sum, sq float64
	for lo := 0; lo < n; lo += batch {
		b := min(batch, n-lo)
		idx = idx[:0]
		for i := range b {
			idx = append(idx, lo+i)
		}
		if err := d.Fill(x[:b*sz], labels[:b], idx); err != nil {
			return Normalize{}, err
		}
		for _, v := range x[:b*sz] {
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
	}
	total := float64(n) * float64(sz)
	mean := sum / total
	std := math.Sqrt(max(sq/total-mean*mean, 0))
	if float32(std) == 0 {
		std = 1
	}
	return Normalize{Mean: float32(mean), Std: float32(std)}, nil
}
