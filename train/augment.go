package train

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Augment is random data augmentation of training images, drawn afresh
// for every image of every batch: a shift of up to Shift pixels in each
// direction, and optionally a rotation by up to Rotate degrees either way
// and a scaling by a factor in [1-Scale, 1+Scale] about the centre.
// Pixels moved in from outside the image are 0. The zero value changes
// nothing.
type Augment struct {
	Shift  int     // pixels, whole
	Rotate float64 // degrees
	Scale  float64 // fraction
}

// maxShift bounds Shift, so that a shift is never larger than a plane.
const maxShift = 1 << 10

// check reports a setting out of range.
func (a Augment) check() error {
	if a.Shift < 0 || a.Shift > maxShift || !(a.Rotate >= 0 && a.Rotate <= 180) || !(a.Scale >= 0 && a.Scale < 1) {
		return fmt.Errorf("train: augmentation: shift %d, rotation %v degrees, scale %v: want shift in 0..%d, rotation in [0, 180], scale in [0, 1)", a.Shift, a.Rotate, a.Scale, maxShift)
	}
	return nil
}

// on reports whether a changes images.
func (a Augment) on() bool { return a.Shift > 0 || a.Rotate > 0 || a.Scale > 0 }

// apply augments the n images of x [n, c, h, w] in place (pixels before
// normalization), drawing from rng; tmp is scratch of at least c*h*w.
func (a Augment) apply(x []float32, n, c, h, w int, rng *rand.Rand, tmp []float32) {
	size := c * h * w
	for i := range n {
		img := x[i*size : (i+1)*size]
		dx, dy := 0, 0
		if a.Shift > 0 {
			dx, dy = rng.IntN(2*a.Shift+1)-a.Shift, rng.IntN(2*a.Shift+1)-a.Shift
		}
		if a.Rotate == 0 && a.Scale == 0 {
			shift(img, c, h, w, dx, dy)
			continue
		}
		angle := (2*rng.Float64() - 1) * a.Rotate * math.Pi / 180
		scale := 1 + (2*rng.Float64()-1)*a.Scale
		copy(tmp, img)
		warp(img, tmp[:size], c, h, w, angle, scale, float64(dx), float64(dy))
	}
}

// shift moves each plane of img [c, h, w] by dx columns right and dy rows
// down, filling with 0.
func shift(img []float32, c, h, w, dx, dy int) {
	if dx == 0 && dy == 0 {
		return
	}
	for ch := range c {
		p := img[ch*h*w : (ch+1)*h*w]
		// Rows in the order that never reads an overwritten row.
		for k := range h {
			y := k
			if dy > 0 {
				y = h - 1 - k
			}
			row := p[y*w : (y+1)*w]
			sy := y - dy
			if sy < 0 || sy >= h {
				clear(row)
				continue
			}
			src := p[sy*w : (sy+1)*w]
			switch {
			case dx >= w || dx <= -w:
				clear(row)
			case dx >= 0:
				copy(row[dx:], src[:w-dx])
				clear(row[:dx])
			default:
				copy(row[:w+dx], src[-dx:])
				clear(row[w+dx:])
			}
		}
	}
}

// warp sets each plane of dst [c, h, w] to src rotated by angle (radians;
// positive turns clockwise as displayed, rows running down), scaled by scale about the centre, then shifted by
// (dx, dy), sampling src bilinearly with 0 outside.
func warp(dst, src []float32, c, h, w int, angle, scale, dx, dy float64) {
	cx, cy := float64(w-1)/2, float64(h-1)/2
	// Inverse map: source = R(-angle) (p - centre - shift) / scale + centre.
	cos, sin := math.Cos(angle)/scale, math.Sin(angle)/scale
	for y := range h {
		for x := range w {
			px, py := float64(x)-cx-dx, float64(y)-cy-dy
			sx := cos*px + sin*py + cx
			sy := -sin*px + cos*py + cy
			x0, y0 := math.Floor(sx), math.Floor(sy)
			fx, fy := float32(sx-x0), float32(sy-y0)
			ix, iy := int(x0), int(y0)
			for ch := range c {
				p := src[ch*h*w : (ch+1)*h*w]
				at := func(yy, xx int) float32 {
					if yy < 0 || yy >= h || xx < 0 || xx >= w {
						return 0
					}
					return p[yy*w+xx]
				}
				top := at(iy, ix)*(1-fx) + at(iy, ix+1)*fx
				bot := at(iy+1, ix)*(1-fx) + at(iy+1, ix+1)*fx
				dst[ch*h*w+y*w+x] = top*(1-fy) + bot*fy
			}
		}
	}
}
