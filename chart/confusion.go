package chart

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Confusion is a confusion matrix: Confusion[t][p] counts the samples of
// true class t predicted as class p.
type Confusion [][]int

// NewConfusion returns an all-zero matrix for the given number of classes.
func NewConfusion(classes int) Confusion {
	c := make(Confusion, classes)
	for i := range c {
		c[i] = make([]int, classes)
	}
	return c
}

// Add counts one sample of class truth predicted as pred. It panics when
// either is not a class of the matrix.
func (c Confusion) Add(truth, pred int) { c[truth][pred]++ }

// Total is the number of samples counted.
func (c Confusion) Total() int {
	n := 0
	for _, row := range c {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// Correct is the number of samples on the diagonal.
func (c Confusion) Correct() int {
	n := 0
	for i := range c {
		n += c[i][i]
	}
	return n
}

// String renders the matrix as text: one row per true class with its count
// per predicted class and the fraction of that class predicted correctly
// (recall), e.g.
//
//	true \ predicted     0     1 ...     9   correct
//	               0   973     0 ...     1    99.29%
func (c Confusion) String() string {
	var b strings.Builder
	k := len(c)
	width := 5
	for _, row := range c {
		for _, v := range row {
			width = max(width, len(fmt.Sprint(v))+1)
		}
	}
	b.WriteString("true \\ predicted")
	for p := range k {
		fmt.Fprintf(&b, "%*d", width, p)
	}
	b.WriteString("   correct\n")
	for t, row := range c {
		fmt.Fprintf(&b, "%16d", t)
		n := 0
		for _, v := range row {
			fmt.Fprintf(&b, "%*d", width, v)
			n += v
		}
		if n > 0 {
			fmt.Fprintf(&b, "   %6.2f%%\n", 100*float64(row[t])/float64(n))
		} else {
			b.WriteString("         -\n")
		}
	}
	return b.String()
}

// Plot draws the matrix as a heat map, true class down the side (0 at the
// top) and predicted class along the bottom, with each count written in its
// cell, under title. Colour goes with the logarithm of the count, so that
// the few errors off the diagonal show next to the thousand on it.
func (c Confusion) Plot(title string) (image.Image, error) {
	k := len(c)
	if k == 0 {
		return nil, fmt.Errorf("chart: Confusion.Plot: empty matrix")
	}
	maxCount := 1
	for _, row := range c {
		if len(row) != k {
			return nil, fmt.Errorf("chart: Confusion.Plot: row of %d counts in a %d-class matrix", len(row), k)
		}
		for _, v := range row {
			maxCount = max(maxCount, v)
		}
	}
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	p.Y.Scale = plot.InvertedScale{Normalizer: plot.LinearScale{}}
	var ticks []plot.Tick
	for i := range k {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: fmt.Sprint(i)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(12)
		a.Tick.Label.Font.Size = vg.Points(11)
		a.Padding = 0
		a.Tick.Length = 0
		a.LineStyle.Width = 0
	}

	level := func(v int) float64 { return math.Log1p(float64(v)) / math.Log1p(float64(maxCount)) }
	hm := plotter.NewHeatMap(grid{c, level}, blues{})
	hm.Min, hm.Max = 0, 1
	hm.Rasterized = false
	p.Add(hm)

	var xys plotter.XYs
	var labels []string
	var styles []text.Style
	fnt := font.From(plotter.DefaultFont, vg.Points(10))
	for t, row := range c {
		for pr, v := range row {
			xys = append(xys, plotter.XY{X: float64(pr), Y: float64(t)})
			labels = append(labels, fmt.Sprint(v))
			col := color.Color(color.Black)
			switch {
			case v == 0:
				col = color.Gray{170}
			case level(v) > 0.6:
				col = color.White
			}
			styles = append(styles, text.Style{Color: col, Font: fnt, XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler})
		}
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	l.TextStyle = styles
	p.Add(l)

	side := 6.5 * vg.Inch
	cv := vgimg.NewWith(vgimg.UseWH(side, side+0.2*vg.Inch), vgimg.UseDPI(dpi))
	p.Draw(draw.Crop(draw.New(cv), 2*vg.Millimeter, -4*vg.Millimeter, 2*vg.Millimeter, -2*vg.Millimeter))
	return cv.Image(), nil
}

// grid adapts a Confusion to plotter.GridXYZ: column = predicted class,
// row = true class, value = level(count).
type grid struct {
	c     Confusion
	level func(int) float64
}

func (g grid) Dims() (c, r int)   { return len(g.c), len(g.c) }
func (g grid) Z(c, r int) float64 { return g.level(g.c[r][c]) }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }

// blues is a sequential palette from white to dark blue (ColorBrewer's
// Blues, interpolated).
type blues struct{}

// Colors implements palette.Palette.
func (blues) Colors() []color.Color {
	stops := []color.RGBA{{247, 251, 255, 255}, {198, 219, 239, 255}, {107, 174, 214, 255}, {33, 113, 181, 255}, {8, 48, 107, 255}}
	const n = 128
	cs := make([]color.Color, n)
	for i := range cs {
		f := float64(i) / (n - 1) * float64(len(stops)-1)
		j := min(int(f), len(stops)-2)
		t := f - float64(j)
		a, b := stops[j], stops[j+1]
		mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + t*(float64(y)-float64(x)))) }
		cs[i] = color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
	}
	return cs
}
