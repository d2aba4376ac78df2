package main

import (
	"image"
	"math"
)

// A stroke font for test digits drawn outside MNIST: each digit is a list
// of polylines in a unit box (x right, y down).
var strokeDigits = map[int][][][2]float64{
	0: {ellipse(0.5, 0.5, 0.3, 0.42, 0, 2*math.Pi)},
	1: {{{0.55, 0.08}, {0.45, 0.92}}},
	2: {append(ellipse(0.5, 0.32, 0.28, 0.24, math.Pi*1.05, math.Pi*2.25), [2]float64{0.2, 0.9}, [2]float64{0.82, 0.9})},
	3: {ellipse(0.48, 0.28, 0.26, 0.2, math.Pi*1.1, math.Pi*2.5), ellipse(0.48, 0.7, 0.3, 0.22, math.Pi*1.5, math.Pi*2.9)},
	4: {{{0.62, 0.08}, {0.15, 0.62}, {0.88, 0.62}}, {{0.66, 0.3}, {0.66, 0.92}}},
	7: {{{0.18, 0.12}, {0.82, 0.12}, {0.42, 0.92}}},
	8: {ellipse(0.5, 0.28, 0.22, 0.2, 0, 2*math.Pi), ellipse(0.5, 0.7, 0.27, 0.22, 0, 2*math.Pi)},
}

// ellipse is an arc of the ellipse centred at (cx, cy) from angle a0 to a1
// (radians, clockwise on screen from the positive x axis) as a polyline.
func ellipse(cx, cy, rx, ry, a0, a1 float64) [][2]float64 {
	var pts [][2]float64
	const n = 48
	for i := 0; i <= n; i++ {
		a := a0 + (a1-a0)*float64(i)/n
		pts = append(pts, [2]float64{cx + rx*math.Cos(a), cy + ry*math.Sin(a)})
	}
	return pts
}

// drawDigit draws digit d into a w x h gray image of level bg with ink
// level ink: the unit box is mapped to the rectangle box, strokes are width
// pixels wide, anti-aliased, and the whole is slanted by shear (x += shear*(0.5-y)).
func drawDigit(d, w, h int, box image.Rectangle, width float64, bg, ink uint8, shear float64) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	var segs [][4]float64
	for _, line := range strokeDigits[d] {
		pts := make([][2]float64, len(line))
		for i, p := range line {
			x := p[0] + shear*(0.5-p[1])
			pts[i] = [2]float64{float64(box.Min.X) + x*float64(box.Dx()), float64(box.Min.Y) + p[1]*float64(box.Dy())}
		}
		for i := 1; i < len(pts); i++ {
			segs = append(segs, [4]float64{pts[i-1][0], pts[i-1][1], pts[i][0], pts[i][1]})
		}
	}
	// Coverage of each pixel: that of the nearest stroke, computed segment
	// by segment over the pixels near it.
	cov := make([]float64, w*h)
	r := width/2 + 1
	for _, sg := range segs {
		x0, x1 := max(0, int(min(sg[0], sg[2])-r)), min(w, int(max(sg[0], sg[2])+r)+1)
		y0, y1 := max(0, int(min(sg[1], sg[3])-r)), min(h, int(max(sg[1], sg[3])+r)+1)
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				d := segDist(float64(x)+0.5, float64(y)+0.5, sg)
				cov[y*w+x] = max(cov[y*w+x], min(max(width/2-d+0.5, 0), 1))
			}
		}
	}
	for i, c := range cov {
		img.Pix[i] = uint8(math.Round(float64(bg) + c*(float64(ink)-float64(bg))))
	}
	return img
}

// segDist is the distance from (px, py) to the segment s.
func segDist(px, py float64, s [4]float64) float64 {
	dx, dy := s[2]-s[0], s[3]-s[1]
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = min(max(((px-s[0])*dx+(py-s[1])*dy)/l, 0), 1)
	}
	return math.Hypot(px-(s[0]+t*dx), py-(s[1]+t*dy))
}
