package chart

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Epoch is one point of the training curves: what train.EpochStats reports
// after an epoch.
type Epoch struct {
	Epoch        int     // 1-based
	Loss         float64 // mean training loss
	TestLoss     float64 // mean test loss; NaN when not measured
	TestAccuracy float64 // fraction in [0, 1]; NaN when not measured
}

// The colours of the curves: training blue, test orange (matplotlib's first
// two), so loss and accuracy on the test set share a colour.
var (
	trainColor = color.RGBA{31, 119, 180, 255}
	testColor  = color.RGBA{255, 127, 14, 255}
)

// dpi is the resolution of the rendered plots.
const dpi = 96

// Curves draws the training and test loss (top panel) and the test
// accuracy in percent (bottom panel) against the epoch, under title. Test
// values that are NaN are left out; without any, the accuracy panel is left
// out. It is an error to pass no epochs.
func Curves(epochs []Epoch, title string) (image.Image, error) {
	if len(epochs) == 0 {
		return nil, errors.New("chart: Curves: no epochs")
	}
	var trainLoss, testLoss, testAcc plotter.XYs
	for _, e := range epochs {
		x := float64(e.Epoch)
		trainLoss = append(trainLoss, plotter.XY{X: x, Y: e.Loss})
		if !math.IsNaN(e.TestLoss) {
			testLoss = append(testLoss, plotter.XY{X: x, Y: e.TestLoss})
		}
		if !math.IsNaN(e.TestAccuracy) {
			testAcc = append(testAcc, plotter.XY{X: x, Y: 100 * e.TestAccuracy})
		}
	}
	first, last := epochs[0].Epoch, epochs[len(epochs)-1].Epoch

	loss := newPlot(title, first, last)
	loss.Y.Label.Text = "cross-entropy loss"
	loss.X.Label.Text = ""
	if err := addLine(loss, trainLoss, "training loss", trainColor); err != nil {
		return nil, err
	}
	if err := addLine(loss, testLoss, "test loss", testColor); err != nil {
		return nil, err
	}
	// From 0, with room above the highest point for its marker.
	loss.Y.Min = 0
	for _, xys := range []plotter.XYs{trainLoss, testLoss} {
		for _, p := range xys {
			loss.Y.Max = max(loss.Y.Max, 1.06*p.Y)
		}
	}
	loss.Legend.Top = true

	panels := [][]*plot.Plot{{loss}}
	if len(testAcc) > 0 {
		acc := newPlot("", first, last)
		acc.Y.Label.Text = "test accuracy"
		if err := addLine(acc, testAcc, "test accuracy", testColor); err != nil {
			return nil, err
		}
		// Zoom in on the values, with a margin of a tenth of their spread
		// (at least 0.5 points) and never beyond 100%.
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range testAcc {
			lo, hi = min(lo, p.Y), max(hi, p.Y)
		}
		m := max(0.5, (hi-lo)/10)
		acc.Y.Min, acc.Y.Max = max(0, lo-m), min(100, hi+m)
		acc.Y.Tick.Marker = percentTicks{}
		acc.Legend.Top = false
		acc.Legend.Left = false
		panels = append(panels, []*plot.Plot{acc})
	} else {
		loss.X.Label.Text = "epoch"
	}

	w, h := 7*vg.Inch, 3*vg.Inch*vg.Length(len(panels))+0.4*vg.Inch
	c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: len(panels), Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter,
		PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 4 * vg.Millimeter}
	canvases := plot.Align(panels, tiles, dc)
	for i, row := range panels {
		row[0].Draw(canvases[i][0])
	}
	return c.Image(), nil
}

// newPlot makes a panel whose x axis shows whole epochs from first to last.
func newPlot(title string, first, last int) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.X.Label.Text = "epoch"
	p.X.Min, p.X.Max = float64(first), float64(last)
	if first == last {
		p.X.Min, p.X.Max = float64(first)-0.5, float64(last)+0.5
	}
	p.X.Tick.Marker = epochTicks{}
	p.Add(plotter.NewGrid())
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(12)
		a.Tick.Label.Font.Size = vg.Points(11)
	}
	p.Legend.TextStyle.Font.Size = vg.Points(11)
	return p
}

// addLine adds a line with point markers and a legend entry; no points, no
// line.
func addLine(p *plot.Plot, xys plotter.XYs, name string, c color.Color) error {
	if len(xys) == 0 {
		return nil
	}
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	l.Color, l.Width = c, vg.Points(2)
	s.Color, s.Radius = c, vg.Points(3)
	s.Shape = draw.CircleGlyph{}
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}

// epochTicks labels whole epochs: every one up to 20, else about ten.
type epochTicks struct{}

// Ticks implements plot.Ticker.
func (epochTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := int(math.Ceil(lo)), int(math.Floor(hi))
	step := max(1, int(math.Ceil(float64(last-first+1)/10)))
	if last-first < 20 {
		step = 1
	}
	var ticks []plot.Tick
	for e := first; e <= last; e++ {
		t := plot.Tick{Value: float64(e)}
		if (e-first)%step == 0 {
			t.Label = fmt.Sprint(e)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// percentTicks is the default ticker with a % after each label.
type percentTicks struct{}

// Ticks implements plot.Ticker.
func (percentTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label += "%"
		}
	}
	return ticks
}
