package chart

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Digits lays out 28x28 digits (pixels holds len(captions) images of 784
// bytes, white ink on black as MNIST stores them, and they are shown that
// way, 3x enlarged) in a near-square grid, each with its caption above it,
// under an optional title. Captions longer than 12 characters are cut.
func Digits(pixels []uint8, captions []string, title string) *image.Gray {
	const scale, pad, capH, titleH = 3, 8, 16, 22
	const side = 28 * scale
	n := len(captions)
	if len(pixels) < n*784 {
		panic("chart: Digits: fewer pixels than captions")
	}
	cols := max(1, int(math.Ceil(math.Sqrt(float64(n)))))
	rows := (n + cols - 1) / cols
	cellW, cellH := side+pad, side+capH+pad
	top := pad
	if title != "" {
		top += titleH
	}
	w := max(cols*cellW+pad, textWidth(title)+2*pad)
	img := image.NewGray(image.Rect(0, 0, w, top+rows*cellH))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	if title != "" {
		drawString(img, pad, pad+13, title)
	}
	for d := range n {
		x0 := pad + (d%cols)*cellW
		y0 := top + (d/cols)*cellH
		c := captions[d]
		if len(c) > 12 {
			c = c[:12]
		}
		drawString(img, x0, y0+12, c)
		y0 += capH
		for y := range side {
			for x := range side {
				img.SetGray(x0+x, y0+y, color.Gray{pixels[d*784+(y/scale)*28+x/scale]})
			}
		}
	}
	return img
}

// textWidth is the width of s in pixels in the 7x13 font.
func textWidth(s string) int { return 7 * len([]rune(s)) }

// drawString draws s in black with its baseline at y.
func drawString(img draw.Image, x, y int, s string) {
	d := font.Drawer{Dst: img, Src: image.Black, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
