package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/onnxkit/onnxkit/chart"
	"github.com/onnxkit/onnxkit/digit"
	"github.com/onnxkit/onnxkit/imagefolder"
	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/onnx"
)

var predictCmd = &command{
	name:  "predict",
	args:  "-model FILE.onnx IMAGE...",
	short: "classify pictures (PNG or JPEG, any size): handwritten digits for MNIST models, resized for image-folder models",
	setup: func(fs *flag.FlagSet) func([]string) error {
		model := fs.String("model", "", "the ONNX model `file` (an image classifier, e.g. from onnxkit train)")
		normalize := fs.String("normalize", "", "override the model's recorded preprocessing: `MEAN,STD` after scaling pixels to [0,1]")
		invert := fs.String("invert", "auto", "ink polarity of digit pictures: auto (from the border), yes (dark ink on light paper), no (light ink on dark, as MNIST)")
		top := fs.Int("top", 3, "print the `N` most probable classes")
		grid := fs.String("grid", "", "draw the images as the model sees them (after preparation; 1x28x28 models) with their predictions to this PNG `file`")
		jsonOut := fs.Bool("json", false, "print the results as JSON (with every class's probability)")
		return func(args []string) error {
			if *model == "" {
				return usagef("-model is required")
			}
			if len(args) == 0 {
				return usagef("no image given")
			}
			if *top < 1 {
				return usagef("-top %d: want at least 1", *top)
			}
			opt := digit.Options{}
			switch *invert {
			case "auto":
			case "yes":
				opt.Polarity = digit.DarkOnLight
			case "no":
				opt.Polarity = digit.LightOnDark
			default:
				return usagef("-invert %q: want auto, yes or no", *invert)
			}
			c, err := loadClassifier(*model, *normalize)
			if err != nil {
				return err
			}
			// A picture is prepared as the model was trained: digits the
			// MNIST way, others resized. Without a record, a 1-channel
			// model is taken for a digit classifier.
			asDigit := c.prepare == onnx.PrepareDigit || c.prepare == "" && c.c == 1
			if *grid != "" && (c.c != 1 || c.h != mnist.ImageSize || c.w != mnist.ImageSize) {
				return usagef("-grid draws only 1x%dx%d images; the model takes %dx%dx%d", mnist.ImageSize, mnist.ImageSize, c.c, c.h, c.w)
			}
			type result struct {
				File          string      `json:"file"`
				Class         int         `json:"class"`
				Name          string      `json:"name,omitempty"`
				Top           []classProb `json:"top,omitempty"`
				Probabilities []float64   `json:"probabilities,omitempty"`
				Error         string      `json:"error,omitempty"`
			}
			results := make([]result, len(args))
			var pixels []uint8
			var ok []int // indices into args of the prepared images
			for i, path := range args {
				results[i] = result{File: path, Class: -1}
				g, err := prepareFile(path, opt, c, asDigit)
				if err != nil {
					results[i].Error = err.Error()
					fmt.Fprintf(stderr, "onnxkit predict: %v\n", err)
					continue
				}
				pixels = append(pixels, g...)
				ok = append(ok, i)
			}
			if len(ok) > 0 {
				y, err := c.scores(pixels, len(ok), nil)
				if err != nil {
					return fmt.Errorf("%s: %w", *model, err)
				}
				k := y.Shape[1]
				for j, i := range ok {
					p := probabilities(y.F32[j*k : (j+1)*k])
					r := &results[i]
					r.Probabilities, r.Top = p, topK(p, *top)
					for t := range r.Top {
						if c.names != nil {
							r.Top[t].Name = c.className(r.Top[t].Class)
						}
					}
					r.Class, r.Name = r.Top[0].Class, r.Top[0].Name
				}
			}
			if *grid != "" && len(ok) > 0 {
				captions := make([]string, len(ok))
				for j, i := range ok {
					t := results[i].Top[0]
					captions[j] = fmt.Sprintf("%s (%s)", c.className(t.Class), percent(t.Probability))
				}
				if err := writePNG(*grid, chart.Digits(pixels, captions, "as the model sees them: prediction (probability)")); err != nil {
					return err
				}
			}
			if *jsonOut {
				if err := printJSON(map[string]any{"model": *model, "images": results}); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					if r.Error != "" {
						continue
					}
					parts := make([]string, len(r.Top))
					for j, t := range r.Top {
						parts[j] = fmt.Sprintf("%s (%s)", c.className(t.Class), percent(t.Probability))
					}
					fmt.Fprintf(stdout, "%s: %s\n", r.File, strings.Join(parts, ", "))
				}
				if *grid != "" && len(ok) > 0 {
					fmt.Fprintf(stdout, "wrote %s\n", *grid)
				}
			}
			if len(ok) < len(args) {
				return exitCode(1)
			}
			return nil
		}
	},
}

// prepareFile reads a picture and prepares it as c's input: a digit the
// MNIST way (then resized when the model is not 28x28), anything else
// resized as imagefolder reads training images. Errors name the file.
func prepareFile(path string, opt digit.Options, c *classifier, asDigit bool) ([]uint8, error) {
	if !asDigit {
		return imagefolder.ReadImage(path, c.c, c.h, c.w)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s: is a folder, want a PNG or JPEG image", path)
	}
	img, err := digit.Decode(f)
	switch {
	case errors.Is(err, digit.ErrFormat):
		return nil, fmt.Errorf("%s: not a PNG or JPEG image", path)
	case err != nil:
		return nil, fmt.Errorf("%s: %v", path, strings.TrimPrefix(err.Error(), "digit: "))
	}
	g, err := opt.Prepare(img)
	switch {
	case errors.Is(err, digit.ErrBlank):
		return nil, fmt.Errorf("%s: blank image: no ink stands out from the background", path)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if b := g.Bounds(); c.c != 1 || b.Dx() != c.w || b.Dy() != c.h {
		return imagefolder.Resize(g, c.c, c.h, c.w), nil
	}
	return g.Pix, nil
}

// probabilities turns a model's scores for one image into probabilities:
// the softmax of logits (or log-probabilities), or the scores themselves
// when they already are probabilities (a model ending in Softmax).
func probabilities(scores []float32) []float64 {
	var sum float64
	for _, v := range scores {
		if !(v >= 0 && v <= 1) {
			return softmax(scores)
		}
		sum += float64(v)
	}
	if math.Abs(sum-1) > 1e-3 {
		return softmax(scores)
	}
	p := make([]float64, len(scores))
	for i, v := range scores {
		p[i] = float64(v) / sum
	}
	return p
}

// percent formats a probability with one decimal, or as "<0.1%" when it
// would print as 0.0%.
func percent(p float64) string {
	if p < 0.0005 {
		return "<0.1%"
	}
	return fmt.Sprintf("%.1f%%", 100*p)
}
