package main

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/onnxkit/onnxkit/imagefolder"
	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/train"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// classifier runs an image classifier: C x H x W images in, one score per
// class out.
type classifier struct {
	s          *infer.Session
	input      string
	output     string
	flat       bool     // the model takes [N, C*H*W] rather than [N, C, H, W]
	c, h, w    int      // the image shape
	mean, std  float32  // applied after scaling pixels to [0, 1]
	prepare    string   // onnx.PrepareDigit, onnx.PrepareResize or "" (not recorded)
	names      []string // class names from the metadata, or nil
	numClasses int      // scores per image from the output's shape, 0 when it does not say
}

// loadClassifier loads a model taking [N,C,H,W] float32 images (or
// [N,F] with F = H*W gray or 3*H*W RGB pixels of a square image) and giving
// [N,classes] scores. Preprocessing comes from normalize when set, else
// from the metadata onnxkit records, else pixels in [0, 1].
func loadClassifier(path, normalize string) (*classifier, error) {
	m, err := onnx.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := sessionOptions().NewSession(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(s.Inputs()) != 1 || len(s.Outputs()) < 1 {
		return nil, fmt.Errorf("%s: want a model with one input, has %d", path, len(s.Inputs()))
	}
	in := s.Inputs()[0]
	c := &classifier{s: s, input: in.Name, output: s.Outputs()[0].Name, mean: 0, std: 1}
	if !imageShape(c, in) {
		return nil, fmt.Errorf("%s: input %q is %s, want [N x C x H x W] images (C 1 or 3) or [N x F] with F the pixels of a square image", path, in.Name, valueType(in))
	}
	if out := s.Outputs()[0]; out.HasShape && len(out.Shape) == 2 && out.Shape[1].Value > 0 {
		c.numClasses = int(out.Shape[1].Value)
	}
	p, err := m.Preprocess()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.mean, c.std, c.prepare, c.names = p.Mean, p.Std, p.Prepare, p.Classes
	if c.names != nil && c.numClasses > 0 && len(c.names) != c.numClasses {
		return nil, fmt.Errorf("%s: metadata %s has %d class names for %d scores", path, onnx.MetaClasses, len(c.names), c.numClasses)
	}
	if normalize != "" {
		n, err := parseNormalize(normalize)
		if err != nil {
			return nil, err
		}
		c.mean, c.std = n.Mean, n.Std
	}
	return c, nil
}

// imageShape sets c's image shape from the model's input, and reports
// whether it is one: [N, C, H, W] with C 1 or 3, or [N, F] with F = S*S
// (gray) or 3*S*S (RGB). An input without a shape is taken as MNIST's.
func imageShape(c *classifier, in *onnx.ValueInfo) bool {
	if !in.HasShape {
		c.c, c.h, c.w = 1, mnist.ImageSize, mnist.ImageSize
		return true
	}
	d := make([]int, len(in.Shape))
	for i, x := range in.Shape {
		d[i] = int(min(x.Value, imagefolder.MaxSide*imagefolder.MaxSide*3+1))
	}
	switch {
	case len(d) == 4 && (d[1] == 1 || d[1] == 3) && d[2] > 0 && d[3] > 0 && d[2] <= imagefolder.MaxSide && d[3] <= imagefolder.MaxSide:
		c.c, c.h, c.w = d[1], d[2], d[3]
		return true
	case len(d) == 2 && d[1] > 0:
		for _, ch := range []int{1, 3} {
			side := int(math.Sqrt(float64(d[1] / ch)))
			if ch*side*side == d[1] && side <= imagefolder.MaxSide {
				c.flat, c.c, c.h, c.w = true, ch, side, side
				return true
			}
		}
	}
	return false
}

// size returns the pixels of one image.
func (c *classifier) size() int { return c.c * c.h * c.w }

// className returns the name of class k: the recorded name, or the
// number.
func (c *classifier) className(k int) string {
	if k >= 0 && k < len(c.names) {
		return c.names[k]
	}
	return strconv.Itoa(k)
}

// scores runs n images of c.size() pixels (0..255, channel after channel)
// and returns the model's [n, classes] output. done, when not nil, is called
// after each batch with the number of images in it.
func (c *classifier) scores(pixels []uint8, n int, done func(int)) (*tensor.Tensor, error) {
	sz := c.size()
	if len(pixels) != n*sz {
		return nil, fmt.Errorf("%d pixels for %d images of %dx%dx%d", len(pixels), n, c.c, c.h, c.w)
	}
	return c.run(n, func(x []float32, lo, b int) error {
		for i, p := range pixels[lo*sz : (lo+b)*sz] {
			x[i] = float32(p) / 255
		}
		return nil
	}, done)
}

// run runs n images in batches; fill writes images lo..lo+b-1 into x as
// pixels in [0, 1], which run normalizes.
func (c *classifier) run(n int, fill func(x []float32, lo, b int) error, done func(int)) (*tensor.Tensor, error) {
	const batch = 500
	var all []float32
	shape := []int{batch, c.c, c.h, c.w}
	if c.flat {
		shape = []int{batch, c.size()}
	}
	x := &tensor.Tensor{}
	out := map[string]*tensor.Tensor{c.output: {}}
	classes := 0
	for lo := 0; lo < n; lo += batch {
		b := min(batch, n-lo)
		shape[0] = b
		x.Resize(tensor.Float32, shape...)
		if err := fill(x.F32, lo, b); err != nil {
			return nil, err
		}
		for i, p := range x.F32 {
			x.F32[i] = (p - c.mean) / c.std
		}
		if err := c.s.RunInto(map[string]*tensor.Tensor{c.input: x}, out); err != nil {
			return nil, err
		}
		y := out[c.output]
		if y.DType != tensor.Float32 || y.Rank() != 2 || y.Shape[0] != b || (lo > 0 && y.Shape[1] != classes) {
			return nil, fmt.Errorf("output %q is %v, want float32[%d x classes]", c.output, y, b)
		}
		classes = y.Shape[1]
		all = append(all, y.F32...)
		if done != nil {
			done(b)
		}
	}
	return tensor.FromFloat32(all, n, classes), nil
}

// scoresOf runs the images of d (which must have the model's image shape)
// and returns the scores and d's labels.
func (c *classifier) scoresOf(d train.Dataset, done func(int)) (*tensor.Tensor, []int, error) {
	if ch, h, w := d.Shape(); ch != c.c || h != c.h || w != c.w {
		return nil, nil, fmt.Errorf("the data has images of %dx%dx%d (channels, height, width), the model takes %dx%dx%d", ch, h, w, c.c, c.h, c.w)
	}
	n := d.Len()
	labels := make([]int, n)
	var idx []int
	y, err := c.run(n, func(x []float32, lo, b int) error {
		idx = idx[:0]
		for i := range b {
			idx = append(idx, lo+i)
		}
		return d.Fill(x, labels[lo:lo+b], idx)
	}, done)
	return y, labels, err
}

// classify returns the class with the largest of each row of scores y.
func (c *classifier) classify(y *tensor.Tensor) ([]int, error) {
	n, k := y.Shape[0], y.Shape[1]
	pred := make([]int, n)
	nan, first := 0, -1
	for i := range pred {
		row := y.F32[i*k : (i+1)*k]
		for j, v := range row {
			if v != v {
				nan++
				if first < 0 {
					first = i
				}
				break
			}
			if v > row[pred[i]] {
				pred[i] = j
			}
		}
	}
	if nan > 0 {
		// A NaN score would otherwise lose every comparison and read as
		// class 0.
		return nil, fmt.Errorf("output %q has NaN scores for %d of %d images (the first is image %d); not scored", c.output, nan, n, first)
	}
	return pred, nil
}

// softmax turns one row of scores (logits) into probabilities, in float64
// and shifted by the maximum so that large logits do not overflow.
func softmax(logits []float32) []float64 {
	p := make([]float64, len(logits))
	m := math.Inf(-1)
	for _, v := range logits {
		m = max(m, float64(v))
	}
	var sum float64
	for i, v := range logits {
		p[i] = math.Exp(float64(v) - m)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// classProb is a class and its probability.
type classProb struct {
	Class       int     `json:"class"`
	Probability float64 `json:"probability"`
	Name        string  `json:"name,omitempty"` // the recorded class name
}

// topK returns the k most probable classes, most probable first (ties: the
// smaller class first).
func topK(p []float64, k int) []classProb {
	all := make([]classProb, len(p))
	for i, v := range p {
		all[i] = classProb{Class: i, Probability: v}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Probability > all[j].Probability })
	return all[:min(k, len(all))]
}
