package main

import (
	"fmt"
	"math"
	"sort"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// classifier runs an MNIST model: 28x28 images in, one of 10 classes out.
type classifier struct {
	s         *infer.Session
	input     string
	output    string
	flat      bool    // the model takes [N, 784] rather than [N, 1, 28, 28]
	mean, std float32 // applied after scaling pixels to [0, 1]
}

// loadClassifier loads a model taking [N,1,28,28] (or [N,784]) float32
// images and giving [N,10] scores. Preprocessing comes from normalize when
// set, else from the metadata onnxkit records, else pixels in [0, 1].
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
	if in.HasShape {
		switch {
		case len(in.Shape) == 2 && in.Shape[1].Value == 784:
			c.flat = true
		case len(in.Shape) == 4 && in.Shape[1].Value == 1 && in.Shape[2].Value == 28 && in.Shape[3].Value == 28:
		default:
			return nil, fmt.Errorf("%s: input %q is %s, want [N x 1 x 28 x 28] or [N x 784] images", path, in.Name, valueType(in))
		}
	}
	if normalize != "" {
		n, err := parseNormalize(normalize)
		if err != nil {
			return nil, err
		}
		c.mean, c.std = n.Mean, n.Std
	} else {
		p, err := m.Preprocess()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		c.mean, c.std = p.Mean, p.Std
	}
	return c, nil
}

// scores runs n images of 784 pixels (0..255) and returns the model's
// [n, classes] output. done, when not nil, is called after each batch with
// the number of images in it.
func (c *classifier) scores(pixels []uint8, n int, done func(int)) (*tensor.Tensor, error) {
	const batch = 500
	var all []float32
	shape := []int{batch, 1, 28, 28}
	if c.flat {
		shape = []int{batch, 784}
	}
	x := &tensor.Tensor{}
	out := map[string]*tensor.Tensor{c.output: {}}
	classes := 0
	for lo := 0; lo < n; lo += batch {
		b := min(batch, n-lo)
		shape[0] = b
		x.Resize(tensor.Float32, shape...)
		for i, p := range pixels[lo*784 : (lo+b)*784] {
			x.F32[i] = (float32(p)/255 - c.mean) / c.std
		}
		if err := c.s.RunInto(map[string]*tensor.Tensor{c.input: x}, out); err != nil {
			return nil, err
		}
		y := out[c.output]
		if y.DType != tensor.Float32 || y.Rank() != 2 || y.Shape[0] != b {
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

// classify returns the class with the largest score for each image; done
// is as for scores.
func (c *classifier) classify(pixels []uint8, n int, done func(int)) ([]int, error) {
	y, err := c.scores(pixels, n, done)
	if err != nil {
		return nil, err
	}
	k := y.Shape[1]
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
}

// topK returns the k most probable classes, most probable first (ties: the
// smaller class first).
func topK(p []float64, k int) []classProb {
	all := make([]classProb, len(p))
	for i, v := range p {
		all[i] = classProb{i, v}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Probability > all[j].Probability })
	return all[:min(k, len(all))]
}
