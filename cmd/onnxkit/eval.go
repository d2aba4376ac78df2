package main

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
	"github.com/onnxkit/onnxkit/train"
)

var evalCmd = &command{
	name:  "eval",
	args:  "FILE.onnx",
	short: "measure a model's accuracy on the 10,000 MNIST test images",
	setup: func(fs *flag.FlagSet) func([]string) error {
		data := fs.String("data", "", "MNIST `folder` (default: $MNIST_DIR, ./data/mnist, then the GoMNIST module)")
		normalize := fs.String("normalize", "", "override the model's recorded preprocessing: `MEAN,STD` after scaling pixels to [0,1]")
		jsonOut := fs.Bool("json", false, "print the result as JSON")
		return func(args []string) error {
			if len(args) != 1 {
				return usagef("want one model file, got %d arguments", len(args))
			}
			c, err := loadClassifier(args[0], *normalize)
			if err != nil {
				return err
			}
			_, test, err := mnist.Load(*data)
			if err != nil {
				return err
			}
			pred, err := c.classify(test.Images, test.N)
			if err != nil {
				return err
			}
			correct := 0
			for i, p := range pred {
				if p == int(test.Labels[i]) {
					correct++
				}
			}
			acc := 100 * float64(correct) / float64(test.N)
			if *jsonOut {
				return printJSON(map[string]any{"model": args[0], "accuracy": acc / 100, "correct": correct, "total": test.N})
			}
			fmt.Fprintf(stdout, "test accuracy %.2f%% (%d/%d)\n", acc, correct, test.N)
			return nil
		}
	},
}

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
	s, err := infer.NewSession(m)
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
		if v, ok := m.MetadataValue(train.MetaMean); ok {
			f, err := strconv.ParseFloat(v, 32)
			if err != nil {
				return nil, fmt.Errorf("%s: metadata %s = %q: %v", path, train.MetaMean, v, err)
			}
			c.mean = float32(f)
		}
		if v, ok := m.MetadataValue(train.MetaStd); ok {
			f, err := strconv.ParseFloat(v, 32)
			if err != nil || !(f > 0) {
				return nil, fmt.Errorf("%s: metadata %s = %q: want a positive number", path, train.MetaStd, v)
			}
			c.std = float32(f)
		}
	}
	return c, nil
}

// scores runs n images of 784 pixels (0..255) and returns the model's
// [n, classes] output.
func (c *classifier) scores(pixels []uint8, n int) (*tensor.Tensor, error) {
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
	}
	return tensor.FromFloat32(all, n, classes), nil
}

// classify returns the class with the largest score for each image.
func (c *classifier) classify(pixels []uint8, n int) ([]int, error) {
	y, err := c.scores(pixels, n)
	if err != nil {
		return nil, err
	}
	k := y.Shape[1]
	pred := make([]int, n)
	for i := range pred {
		row := y.F32[i*k : (i+1)*k]
		for j, v := range row {
			if v > row[pred[i]] {
				pred[i] = j
			}
		}
	}
	return pred, nil
}
