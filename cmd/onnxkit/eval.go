package main

import (
	"flag"
	"fmt"
	"slices"

	"github.com/onnxkit/onnxkit/chart"
	"github.com/onnxkit/onnxkit/imagefolder"
	"github.com/onnxkit/onnxkit/mnist"
)

var evalCmd = &command{
	name:  "eval",
	args:  "FILE.onnx",
	short: "measure a model's accuracy on the test images (MNIST's 10,000, or an image folder's test split)",
	setup: func(fs *flag.FlagSet) func([]string) error {
		data := fs.String("data", "", dataHelp)
		normalize := fs.String("normalize", "", "override the model's recorded preprocessing: `MEAN,STD` after scaling pixels to [0,1]")
		jsonOut := fs.Bool("json", false, "print the result as JSON (with the confusion matrix and the misclassified images)")
		confusion := fs.String("confusion", "", "draw the confusion matrix as a heat map to this PNG `file`, and print it")
		errorsOut := fs.String("errors", "", "draw the misclassified test digits, labelled prediction (true class), to this PNG `file`")
		maxErrors := fs.Int("max-errors", 64, "at most this many digits in the -errors picture")
		return func(args []string) error {
			if len(args) != 1 {
				return usagef("want one model file, got %d arguments", len(args))
			}
			if *maxErrors <= 0 {
				return usagef("-max-errors %d: want a positive number", *maxErrors)
			}
			c, err := loadClassifier(args[0], *normalize)
			if err != nil {
				return err
			}
			_, test, err := loadData(*data, imagefolder.Options{Channels: c.c, Height: c.h, Width: c.w})
			if err != nil {
				return err
			}
			names := test.Classes()
			if c.names != nil && !slices.Equal(c.names, names) {
				return fmt.Errorf("%s: the model's classes %q are not the data's %q", args[0], c.names, names)
			}
			n := test.Len()
			bar := newProgress(n, "eval")
			y, labels, err := c.scoresOf(test, bar.add)
			bar.done()
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if y.Shape[1] != len(names) {
				return fmt.Errorf("%s: model gives %d scores, the data has %d classes", args[0], y.Shape[1], len(names))
			}
			pred, err := c.classify(y)
			if err != nil {
				return err
			}
			cm := chart.NewConfusion(len(names))
			var wrong []int // indices of the misclassified images
			for i, p := range pred {
				t := labels[i]
				cm.Add(t, p)
				if p != t {
					wrong = append(wrong, i)
				}
			}
			correct := cm.Correct()
			acc := 100 * float64(correct) / float64(n)
			title := fmt.Sprintf("%s: %.2f%% of %d test images", args[0], acc, n)
			if *confusion != "" {
				img, err := cm.Plot(title)
				if err != nil {
					return err
				}
				if err := writePNG(*confusion, img); err != nil {
					return err
				}
			}
			if *errorsOut != "" {
				img, ok := test.(interface{ Image(int) []uint8 })
				if c.c != 1 || c.h != mnist.ImageSize || c.w != mnist.ImageSize || !ok {
					return fmt.Errorf("-errors draws only 1x%dx%d images; the model takes %dx%dx%d", mnist.ImageSize, mnist.ImageSize, c.c, c.h, c.w)
				}
				k := min(len(wrong), *maxErrors)
				pixels := make([]uint8, 0, k*c.size())
				captions := make([]string, k)
				for j, i := range wrong[:k] {
					pixels = append(pixels, img.Image(i)...)
					captions[j] = fmt.Sprintf("%s (true %s)", names[pred[i]], names[labels[i]])
				}
				if err := writePNG(*errorsOut, chart.Digits(pixels, captions, fmt.Sprintf("%d of %d misclassified: prediction (true class)", k, len(wrong)))); err != nil {
					return err
				}
			}
			if *jsonOut {
				type miss struct {
					Index     int `json:"index"`
					Predicted int `json:"predicted"`
					True      int `json:"true"`
				}
				misses := make([]miss, len(wrong))
				for j, i := range wrong {
					misses[j] = miss{i, pred[i], labels[i]}
				}
				return printJSON(map[string]any{"model": args[0], "accuracy": acc / 100, "correct": correct,
					"total": n, "classes": names, "confusion": cm, "misclassified": misses})
			}
			fmt.Fprintf(stdout, "test accuracy %.2f%% (%d/%d)\n", acc, correct, n)
			if *confusion != "" {
				fmt.Fprintf(stdout, "\n%s\nwrote %s\n", cm, *confusion)
			}
			if *errorsOut != "" {
				fmt.Fprintf(stdout, "wrote %s: %d of the %d misclassified digits\n", *errorsOut, min(len(wrong), *maxErrors), len(wrong))
			}
			return nil
		}
	},
}
