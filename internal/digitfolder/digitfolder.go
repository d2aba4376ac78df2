// Package digitfolder writes an image folder of coloured MNIST digits in
// torchvision's ImageFolder layout, for testing training on image folders:
// DIR/train/<name>/<i>.png and DIR/test/<name>/<i>.png, each digit drawn in
// a random colour on a random background colour, centred in Size x Size
// RGB pixels, with the classes named zero, one, ..., nine.
package digitfolder

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/onnxkit/onnxkit/mnist"
)

// Names are the class folders' names, by digit.
var Names = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// Options say what Write makes. Size must be at least the MNIST images'
// side; they are centred on a background of that side.
type Options struct {
	Train, Test int // images taken from the start of each MNIST split
	Size        int
	Seed        uint64
}

// Write writes the folder dir from the MNIST splits train and test.
func Write(dir string, train, test *mnist.Set, o Options) error {
	if o.Train > train.N || o.Test > test.N || o.Size < train.Rows || o.Size < train.Cols {
		return fmt.Errorf("digitfolder: %d and %d images of %dx%d from sets of %d and %d", o.Train, o.Test, o.Size, o.Size, train.N, test.N)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x636f6c))
	for _, split := range []struct {
		name string
		set  *mnist.Set
		n    int
	}{{"train", train, o.Train}, {"test", test, o.Test}} {
		for _, name := range Names {
			if err := os.MkdirAll(filepath.Join(dir, split.name, name), 0o755); err != nil {
				return err
			}
		}
		for i := range split.n {
			img := colour(split.set, i, o.Size, rng)
			p := filepath.Join(dir, split.name, Names[split.set.Labels[i]], fmt.Sprintf("%05d.png", i))
			if err := writePNG(p, img); err != nil {
				return err
			}
		}
	}
	return nil
}

// colour draws digit i of s in a random colour on a random background
// whose luma differs from it by at least 80 of 255.
func colour(s *mnist.Set, i, size int, rng *rand.Rand) *image.NRGBA {
	var fg, bg [3]float64
	for {
		for k := range 3 {
			fg[k], bg[k] = rng.Float64()*255, rng.Float64()*255
		}
		luma := func(c [3]float64) float64 { return 0.299*c[0] + 0.587*c[1] + 0.114*c[2] }
		if d := luma(fg) - luma(bg); d >= 80 || d <= -80 {
			break
		}
	}
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	ox, oy := (size-s.Cols)/2, (size-s.Rows)/2
	pix := s.Image(i)
	for y := range size {
		for x := range size {
			a := 0.0
			if dx, dy := x-ox, y-oy; dx >= 0 && dx < s.Cols && dy >= 0 && dy < s.Rows {
				a = float64(pix[dy*s.Cols+dx]) / 255
			}
			var c color.NRGBA
			c.A = 255
			for k, v := range []*uint8{&c.R, &c.G, &c.B} {
				*v = uint8(bg[k]*(1-a) + fg[k]*a + 0.5)
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
