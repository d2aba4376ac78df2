package main

import (
	"flag"
	"fmt"

	"github.com/onnxkit/onnxkit/chart"
	"github.com/onnxkit/onnxkit/mnist"
)

var evalCmd = &command{
	name:  "eval",
	args:  "FILE.onnx",
	short: "measure a model's accuracy on the 10,000 MNIST test images",
	setup: func(fs *flag.FlagSet) func([]string) error {
		data := fs.String("data", "", "MNIST `folder` (default: $MNIST_DIR, ./data/mnist, then the GoMNIST module)")
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
			_, test, err := mnist.Load(*data)
			if err != nil {
				return err
			}
			bar := newProgress(test.N, "eval")
			pred, err := c.classify(test.Images, test.N, bar.add)
			bar.done()
			if err != nil {
				return err
			}
			cm := chart.NewConfusion(mnist.NumClasses)
			var wrong []int // indices of the misclassified images
			for i, p := range pred {
				t := int(test.Labels[i])
				if p < 0 || p >= mnist.NumClasses {
					return fmt.Errorf("%s: model gives class %d, want 0 to 9", args[0], p)
				}
				cm.Add(t, p)
				if p != t {
					wrong = append(wrong, i)
				}
			}
			correct := cm.Correct()
			acc := 100 * float64(correct) / float64(test.N)
			title := fmt.Sprintf("%s: %.2f%% of %d test digits", args[0], acc, test.N)
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
				k := min(len(wrong), *maxErrors)
				pixels := make([]uint8, 0, k*784)
				captions := make([]string, k)
				for j, i := range wrong[:k] {
					pixels = append(pixels, test.Image(i)...)
					captions[j] = fmt.Sprintf("%d (true %d)", pred[i], test.Labels[i])
				}
				img := chart.Digits(pixels, captions, fmt.Sprintf("%d of %d misclassified: prediction (true class)", k, len(wrong)))
				if err := writePNG(*errorsOut, img); err != nil {
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
					misses[j] = miss{i, pred[i], int(test.Labels[i])}
				}
				return printJSON(map[string]any{"model": args[0], "accuracy": acc / 100, "correct": correct,
					"total": test.N, "confusion": cm, "misclassified": misses})
			}
			fmt.Fprintf(stdout, "test accuracy %.2f%% (%d/%d)\n", acc, correct, test.N)
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
