package digit

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register the JPEG decoder for Decode
	_ "image/png"  // register the PNG decoder for Decode
	"io"
	"math"
	"sort"
)

// Size is the side of a prepared image, and Box the side of the square the
// ink is scaled to fit, as in MNIST.
const (
	Size = 28
	Box  = 20
)

// MaxPixels is the largest image, in pixels, that Decode accepts: 64
// megapixels, e.g. 8000 x 8000.
const MaxPixels = 64 << 20

// ErrBlank reports an image without ink: uniform, or with too little
// contrast to tell a digit from its background.
var ErrBlank = errors.New("digit: blank image (no ink found)")

// ErrFormat reports data that is not a PNG or JPEG image.
var ErrFormat = errors.New("digit: not a PNG or JPEG image")

// Polarity says how ink and background differ in brightness. With a
// polarity forced the wrong way, no ink stands out from the background and
// Prepare returns ErrBlank.
type Polarity int

const (
	// Auto decides from the image's border: a bright border means dark ink
	// on a light background.
	Auto Polarity = iota
	// DarkOnLight is dark ink on a light background (pen on paper).
	DarkOnLight
	// LightOnDark is light ink on a dark background, as MNIST stores digits.
	LightOnDark
)

// Options tunes Prepare. The zero value is the default.
type Options struct {
	// Polarity of the input; the zero value Auto decides from the border.
	Polarity Polarity
	// Threshold is the ink level, as a fraction of the range from the
	// background to the strongest ink, above which a pixel belongs to the
	// digit's bounding box. Fainter pixels still count as ink once inside the
	// box. 0 means 0.2; it must be below 1.
	Threshold float64
	// MinContrast is the smallest difference, as a fraction of full scale,
	// between the background and the strongest ink; an image with less is
	// blank (ErrBlank). 0 means 0.1.
	MinContrast float64
}

// MaxDecodeBytes bounds the memory that decoding one image and preparing
// it may take, as estimated from its header by decodeBytes: a 12-megapixel
// progressive JPEG photo fits, a small file declaring a huge CMYK image
// does not.
const MaxDecodeBytes = 512 << 20

// decodeBytes estimates the memory Decode and Prepare need for an image:
// the decoded pixels, for JPEG the DCT coefficients a progressive file keeps
// for every component (4 bytes each), and Prepare's float32 copy.
func decodeBytes(cfg image.Config, format string) int64 {
	components := int64(3)
	perPixel := int64(4)
	switch cfg.ColorModel {
	case color.GrayModel:
		components, perPixel = 1, 1
	case color.Gray16Model:
		components, perPixel = 1, 2
	case color.YCbCrModel:
		perPixel = 3
	case color.CMYKModel:
		components = 4
	case color.RGBA64Model, color.NRGBA64Model:
		perPixel = 8
	}
	if _, ok := cfg.ColorModel.(color.Palette); ok {
		perPixel = 1
	}
	if format == "jpeg" {
		perPixel += 4 * components
	}
	return int64(cfg.Width) * int64(cfg.Height) * (perPixel + 4)
}

// Decode reads a PNG or JPEG image, rejecting images larger than MaxPixels,
// or whose decoding would need more than MaxDecodeBytes, before decoding
// their pixels. It is safe on untrusted input.
func Decode(r io.ReadSeeker) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(r)
	if errors.Is(err, image.ErrFormat) {
		return nil, ErrFormat
	}
	if err != nil {
		return nil, fmt.Errorf("digit: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("digit: image is %dx%d pixels, want 1 to %d pixels", cfg.Width, cfg.Height, MaxPixels)
	}
	if need := decodeBytes(cfg, format); need > MaxDecodeBytes {
		return nil, fmt.Errorf("digit: %s image of %dx%d pixels needs about %d MB to decode and prepare, more than the limit of %d MB",
			format, cfg.Width, cfg.Height, need>>20, MaxDecodeBytes>>20)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("digit: %w", err)
	}
	return img, nil
}

// Prepare turns a picture of one handwritten digit into a 28x28 MNIST-style
// image with the default Options. See Options.Prepare.
func Prepare(img image.Image) (*image.Gray, error) { return Options{}.Prepare(img) }

// Prepare turns a picture of one handwritten digit, of any size and either
// polarity, into a 28x28 image prepared the way MNIST's digits were: white
// ink on black, the ink's bounding box scaled to fit 20x20 with its aspect
// ratio kept, and placed so that its centre of mass is at the centre of the
// 28x28 field. Steps:
//
//  1. gray levels in [0, 1]; transparent pixels are composited over white;
//  2. the background level is the median of the border pixels; with Auto
//     polarity a border brighter than mid-gray means dark ink, which is
//     inverted;
//  3. ink is the level above the background, stretched so the strongest ink
//     is 1; the bounding box holds the pixels above Threshold;
//  4. the box is scaled by area averaging (each output pixel is the mean of
//     the input area it covers) so that its longer side is 20 pixels, and
//     the levels stretched again so the strongest is 1 (thin strokes of a
//     large picture would otherwise fade);
//  5. the scaled digit is shifted by whole pixels to put its centre of mass
//     at (14, 14), but never so far that ink leaves the field.
//
// It returns ErrBlank when no ink stands out from the background.
func (o Options) Prepare(img image.Image) (*image.Gray, error) {
	thr := o.Threshold
	if thr == 0 {
		thr = 0.2
	}
	minContrast := o.MinContrast
	if minContrast == 0 {
		minContrast = 0.1
	}
	if !(thr > 0 && thr < 1) || !(minContrast > 0 && minContrast <= 1) {
		return nil, fmt.Errorf("digit: options: threshold %v and minimum contrast %v must be in (0, 1)", o.Threshold, o.MinContrast)
	}
	b := img.Bounds()
	if b.Empty() {
		return nil, ErrBlank
	}
	w, h := b.Dx(), b.Dy()
	g := grayLevels(img)
	bg := borderMedian(g, w, h)
	invert := false
	switch o.Polarity {
	case Auto:
		invert = bg > 0.5
	case DarkOnLight:
		invert = true
	case LightOnDark:
	default:
		return nil, fmt.Errorf("digit: options: unknown polarity %d", o.Polarity)
	}
	if invert {
		for i, v := range g {
			g[i] = 1 - v
		}
		bg = 1 - bg
	}
	peak := float32(0)
	for _, v := range g {
		peak = max(peak, v)
	}
	if float64(peak-bg) < minContrast {
		return nil, ErrBlank
	}
	for i, v := range g {
		g[i] = max(0, (v-bg)/(peak-bg))
	}
	box := inkBox(g, w, h, float32(thr))
	if box.Empty() {
		return nil, ErrBlank
	}
	scaled, sw, sh := fit(g, w, box, Box)
	peak = 0
	for _, v := range scaled {
		peak = max(peak, v)
	}
	for i := range scaled {
		scaled[i] /= peak
	}
	return center(scaled, sw, sh), nil
}

// grayLevels converts img to row-major gray levels in [0, 1] (ITU-R BT.601
// luma, as image/color's GrayModel), compositing over white.
func grayLevels(img image.Image) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	g := make([]float32, w*h)
	if gi, ok := img.(*image.Gray); ok {
		for y := range h {
			row := gi.Pix[gi.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				g[y*w+x] = float32(row[x]) / 255
			}
		}
		return g
	}
	for y := range h {
		for x := range w {
			r, gr, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA() // alpha-premultiplied, 0..0xffff
			luma := (19595*r + 38470*gr + 7471*bl + 1<<15) >> 16
			g[y*w+x] = float32(luma+(0xffff-a)) / 0xffff
		}
	}
	return g
}

// borderMedian is the median level of the pixels on the image's edge.
func borderMedian(g []float32, w, h int) float32 {
	var edge []float32
	for x := range w {
		edge = append(edge, g[x])
		if h > 1 {
			edge = append(edge, g[(h-1)*w+x])
		}
	}
	for y := 1; y < h-1; y++ {
		edge = append(edge, g[y*w])
		if w > 1 {
			edge = append(edge, g[y*w+w-1])
		}
	}
	sort.Slice(edge, func(i, j int) bool { return edge[i] < edge[j] })
	return edge[len(edge)/2]
}

// inkBox is the smallest rectangle holding every pixel of g (w wide) above
// thr; empty when there is none.
func inkBox(g []float32, w, h int, thr float32) image.Rectangle {
	r := image.Rectangle{Min: image.Point{w, h}}
	for y := range h {
		for x, v := range g[y*w : (y+1)*w] {
			if v > thr {
				r.Min.X, r.Min.Y = min(r.Min.X, x), min(r.Min.Y, y)
				r.Max.X, r.Max.Y = max(r.Max.X, x+1), max(r.Max.Y, y+1)
			}
		}
	}
	if r.Max.X == 0 {
		return image.Rectangle{}
	}
	return r
}

// fit scales the part of g (w wide) inside box so that its longer side is
// side pixels, keeping the aspect ratio, by area averaging. It returns the
// scaled levels and their width and height.
func fit(g []float32, w int, box image.Rectangle, side int) ([]float32, int, int) {
	bw, bh := box.Dx(), box.Dy()
	s := float64(side) / float64(max(bw, bh))
	sw := max(1, int(math.Round(float64(bw)*s)))
	sh := max(1, int(math.Round(float64(bh)*s)))
	// Separable box filter: output pixel i covers input [i/sx, (i+1)/sx).
	xs := coverage(bw, sw)
	ys := coverage(bh, sh)
	out := make([]float32, sw*sh)
	for oy, cy := range ys {
		for ox, cx := range xs {
			var sum float64
			for _, ty := range cy {
				row := g[(box.Min.Y+ty.i)*w+box.Min.X:]
				var rs float64
				for _, tx := range cx {
					rs += tx.w * float64(row[tx.i])
				}
				sum += ty.w * rs
			}
			out[oy*sw+ox] = float32(sum)
		}
	}
	return out, sw, sh
}

// tap is one input pixel's weight in an output pixel.
type tap struct {
	i int
	w float64
}

// coverage gives, for each of m output pixels spanning n input pixels, the
// input pixels it overlaps, weighted by the overlap as a fraction of the
// output pixel's extent (the weights of each output pixel sum to 1).
func coverage(n, m int) [][]tap {
	step := float64(n) / float64(m) // input pixels per output pixel
	taps := make([][]tap, m)
	for o := range m {
		lo, hi := float64(o)*step, float64(o+1)*step
		for i := int(lo); i < n && float64(i) < hi; i++ {
			ov := min(hi, float64(i+1)) - max(lo, float64(i))
			if ov > 0 {
				taps[o] = append(taps[o], tap{i, ov / step})
			}
		}
	}
	return taps
}

// center places the sw x sh levels in a Size x Size image with their centre
// of mass at the centre of the field, shifted by whole pixels and kept
// inside the field, and converts levels to 0..255.
func center(g []float32, sw, sh int) *image.Gray {
	var mass, mx, my float64
	for y := range sh {
		for x := range sw {
			v := float64(g[y*sw+x])
			mass += v
			mx += v * (float64(x) + 0.5)
			my += v * (float64(y) + 0.5)
		}
	}
	// Offsets put the centre of mass at Size/2 (pixel centres are at i+0.5).
	ox, oy := (Size-sw)/2, (Size-sh)/2
	if mass > 0 {
		ox = int(math.Round(Size/2 - mx/mass))
		oy = int(math.Round(Size/2 - my/mass))
	}
	ox = min(max(ox, 0), Size-sw)
	oy = min(max(oy, 0), Size-sh)
	out := image.NewGray(image.Rect(0, 0, Size, Size))
	for y := range sh {
		for x := range sw {
			v := min(max(g[y*sw+x], 0), 1)
			out.SetGray(ox+x, oy+y, color.Gray{uint8(math.Round(float64(v) * 255))})
		}
	}
	return out
}

// CenterOfMass returns the centre of mass of a gray image's levels, in
// continuous coordinates relative to its bounds (the centre of pixel (x, y)
// is (x+0.5, y+0.5)), and false when the image is all black.
func CenterOfMass(img *image.Gray) (x, y float64, ok bool) {
	b := img.Bounds()
	var mass float64
	for py := range b.Dy() {
		for px := range b.Dx() {
			v := float64(img.GrayAt(b.Min.X+px, b.Min.Y+py).Y)
			mass += v
			x += v * (float64(px) + 0.5)
			y += v * (float64(py) + 0.5)
		}
	}
	if mass == 0 {
		return 0, 0, false
	}
	return x / mass, y / mass, true
}
