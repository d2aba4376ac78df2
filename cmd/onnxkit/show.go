package main

import (
	"flag"
	"fmt"
	"image"

	"github.com/onnxkit/onnxkit/chart"
	"github.com/onnxkit/onnxkit/mnist"
)

var showCmd = &command{
	name:  "show",
	args:  "",
	short: "draw the first training digits in a grid with their labels (PNG)",
	setup: func(fs *flag.FlagSet) func([]string) error {
		data := fs.String("data", "", "MNIST `folder` (default: $MNIST_DIR, ./data/mnist, then the GoMNIST module)")
		n := fs.Int("n", 16, "number of digits")
		out := fs.String("out", "", "the PNG `file` to write")
		return func(args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			if *out == "" {
				return usagef("-out is required")
			}
			if *n <= 0 || *n > 10000 {
				return usagef("-n %d: want 1 to 10000", *n)
			}
			trainSet, _, err := mnist.Load(*data)
			if err != nil {
				return err
			}
			k := min(*n, trainSet.N)
			labels := make([]string, k)
			for i := range labels {
				labels[i] = fmt.Sprint(trainSet.Labels[i])
			}
			img := chart.Digits(trainSet.Images[:k*784], labels, "")
			if err := writePNG(*out, img); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s: the first %d training digits\n", *out, k)
			return nil
		}
	},
}

// writePNG encodes img and writes it atomically (temporary file, rename).
func writePNG(path string, img image.Image) error { return chart.WritePNG(path, img) }
