package main

import (
	"flag"
	"fmt"
	"path/filepath"

	"github.com/onnxkit/onnxkit/internal/atomicfile"
	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/quantize"
	"github.com/onnxkit/onnxkit/tensor"
)

var quantizeCmd = &command{
	name:  "quantize",
	args:  "IN.onnx OUT.onnx",
	short: "write an int8 version of a float32 model, calibrated on MNIST or on test-data folders",
	setup: func(fs *flag.FlagSet) func([]string) error {
		calib := fs.String("calibrate", "mnist", "calibration inputs: `mnist` (training images, with the model's preprocessing) or a folder of test_data_set_*/input_*.pb")
		data := fs.String("data", "", "MNIST `folder` (default: $MNIST_DIR, ./data/mnist, then the GoMNIST module)")
		images := fs.Int("images", 1000, "MNIST calibration images")
		perChannel := fs.Bool("per-channel", false, "a weight scale per output channel")
		format := fs.String("format", "qdq", "`qdq` (QuantizeLinear/DequantizeLinear around float ops) or qoperator (QLinearConv, QLinearMatMul)")
		method := fs.String("method", "minmax", "activation ranges: `minmax` or percentile")
		pct := fs.Float64("percentile", 99.999, "for -method percentile: the share of values kept, in percent")
		bits := fs.Int("weight-bits", 7, "weight width, 7 or 8 (7 keeps uint8 x int8 pair sums within int16)")
		return func(args []string) error {
			if len(args) != 2 {
				return usagef("want IN.onnx and OUT.onnx")
			}
			opt := quantize.Options{PerChannel: *perChannel, Percentile: *pct, WeightBits: *bits}
			switch *format {
			case "qdq":
			case "qoperator":
				opt.Format = quantize.QOperator
			default:
				return usagef("-format %q: want qdq or qoperator", *format)
			}
			switch *method {
			case "minmax":
			case "percentile":
				opt.Method = quantize.Percentile
			default:
				return usagef("-method %q: want minmax or percentile", *method)
			}
			if *images <= 0 {
				return usagef("-images %d: want a positive number", *images)
			}
			m, err := onnx.ReadFile(args[0])
			if err != nil {
				return err
			}
			var batches []map[string]*tensor.Tensor
			if *calib == "mnist" {
				batches, err = mnistBatches(args[0], *data, *images)
			} else {
				batches, err = dirBatches(m, *calib)
			}
			if err != nil {
				return err
			}
			out, err := quantize.Quantize(m, batches, opt)
			if err != nil {
				return err
			}
			b, err := onnx.Encode(out)
			if err != nil {
				return err
			}
			if err := atomicfile.WriteFile(args[1], b); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s (%d -> %d nodes, %d calibration batches)\n", args[1], len(m.Graph.Nodes), len(out.Graph.Nodes), len(batches))
			return nil
		}
	},
}

// mnistBatches returns the first n training images, preprocessed as the
// model's classifier does, in batches of 100.
func mnistBatches(path, data string, n int) ([]map[string]*tensor.Tensor, error) {
	c, err := loadClassifier(path, "")
	if err != nil {
		return nil, err
	}
	train, _, err := mnist.Load(data)
	if err != nil {
		return nil, err
	}
	n = min(n, train.N)
	var bs []map[string]*tensor.Tensor
	for lo := 0; lo < n; lo += 100 {
		b := min(100, n-lo)
		x := tensor.New(tensor.Float32, b, 1, 28, 28)
		if c.flat {
			x = tensor.New(tensor.Float32, b, 784)
		}
		for i, p := range train.Images[lo*784 : (lo+b)*784] {
			x.F32[i] = (float32(p)/255 - c.mean) / c.std
		}
		bs = append(bs, map[string]*tensor.Tensor{c.input: x})
	}
	return bs, nil
}

// dirBatches reads dir/test_data_set_*/input_*.pb, each set one batch;
// tensors are matched to graph inputs by name, else by position.
func dirBatches(m *onnx.Model, dir string) ([]map[string]*tensor.Tensor, error) {
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	var inputs []string
	inits := map[string]bool{}
	for _, in := range m.Graph.Initializers {
		inits[in.Name] = true
	}
	for _, in := range m.Graph.Inputs {
		if !inits[in.Name] {
			inputs = append(inputs, in.Name)
		}
	}
	var bs []map[string]*tensor.Tensor
	for _, s := range sets {
		feed := map[string]*tensor.Tensor{}
		for i := range inputs {
			name, t, err := onnx.ReadTensorFile(filepath.Join(s, fmt.Sprintf("input_%d.pb", i)))
			if err != nil {
				return nil, err
			}
			if name == "" || !contains(inputs, name) {
				name = inputs[i]
			}
			feed[name] = t
		}
		bs = append(bs, feed)
	}
	if len(bs) == 0 {
		return nil, fmt.Errorf("%s: no test_data_set_* folders", dir)
	}
	return bs, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
