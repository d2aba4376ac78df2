package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"

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
			img := digitGrid(trainSet.Images[:k*784], labels)
			if err := writePNG(*out, img); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s: the first %d training digits\n", *out, k)
			return nil
		}
	},
}

// digitGrid lays out 28x28 digits (white ink on black, as MNIST stores
// them, shown the same way) in a near-square grid, each with its caption
// drawn above it.
func digitGrid(pixels []uint8, captions []string) *image.Gray {
	const scale, pad, capH = 3, 6, 16
	n := len(captions)
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	rows := (n + cols - 1) / cols
	cellW, cellH := 28*scale+pad, 28*scale+capH+pad
	img := image.NewGray(image.Rect(0, 0, cols*cellW+pad, rows*cellH+pad))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for d := range n {
		x0 := pad + (d%cols)*cellW
		y0 := pad + (d/cols)*cellH
		drawText(img, x0, y0+2, captions[d], 2)
		y0 += capH
		for y := range 28 * scale {
			for x := range 28 * scale {
				img.SetGray(x0+x, y0+y, color.Gray{pixels[d*784+(y/scale)*28+x/scale]})
			}
		}
	}
	return img
}

// glyphs is a 3x5 bitmap font for the characters captions use; each row is
// 3 bits, most significant bit leftmost.
var glyphs = map[rune][5]uint8{
	'0': {7, 5, 5, 5, 7}, '1': {2, 6, 2, 2, 7}, '2': {7, 1, 7, 4, 7}, '3': {7, 1, 7, 1, 7},
	'4': {5, 5, 7, 1, 1}, '5': {7, 4, 7, 1, 7}, '6': {7, 4, 7, 5, 7}, '7': {7, 1, 2, 2, 2},
	'8': {7, 5, 7, 5, 7}, '9': {7, 5, 7, 1, 7}, '/': {1, 1, 2, 4, 4}, '.': {0, 0, 0, 0, 2},
	'%': {5, 1, 2, 4, 5}, ' ': {}, '-': {0, 0, 7, 0, 0},
}

// drawText draws s in black with the 3x5 font at the given scale; unknown
// characters are left blank.
func drawText(img *image.Gray, x, y int, s string, scale int) {
	for _, r := range s {
		g := glyphs[r]
		for gy, bits := range g {
			for gx := range 3 {
				if bits&(4>>gx) == 0 {
					continue
				}
				for dy := range scale {
					for dx := range scale {
						img.SetGray(x+gx*scale+dx, y+gy*scale+dy, color.Gray{0})
					}
				}
			}
		}
		x += 4 * scale
	}
}

// writePNG encodes img and writes it atomically (temporary file, rename).
func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, so path is never left half-written.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
