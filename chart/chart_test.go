package chart

import (
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var outDir = flag.String("out", "", "also write the pictures the tests draw to this `folder`, to look at them")

// save writes img under -out when given.
func save(t *testing.T, name string, img image.Image) {
	t.Helper()
	if *outDir == "" {
		return
	}
	if err := WritePNG(filepath.Join(*outDir, name), img); err != nil {
		t.Fatal(err)
	}
}

// lenet5Run is the shape of a LeNet5 run: loss falling, accuracy rising.
var lenet5Run = []Epoch{
	{1, 0.2912, 0.0901, 0.9712}, {2, 0.0793, 0.0612, 0.9803}, {3, 0.0551, 0.0489, 0.9844},
	{4, 0.0420, 0.0441, 0.9859}, {5, 0.0339, 0.0402, 0.9871}, {6, 0.0281, 0.0395, 0.9877},
	{7, 0.0233, 0.0401, 0.9880}, {8, 0.0201, 0.0388, 0.9885}, {9, 0.0170, 0.0412, 0.9879},
	{10, 0.0149, 0.0398, 0.9889},
}

func TestCurves(t *testing.T) {
	noTest := []Epoch{{1, 0.9, math.NaN(), math.NaN()}, {2, 0.5, math.NaN(), math.NaN()}}
	tests := []struct {
		name   string
		epochs []Epoch
	}{
		{"curves.png", lenet5Run},
		{"curves-one-epoch.png", lenet5Run[:1]},
		{"curves-no-test.png", noTest},
	}
	for _, tt := range tests {
		img, err := Curves(tt.epochs, "LeNet5 on MNIST")
		if err != nil {
			t.Fatalf("Curves(%s) = %v", tt.name, err)
		}
		// 7 inches wide at 96 dpi; 3 inches per panel and 0.4 more.
		h := 3*96*2 + 38
		if tt.name == "curves-no-test.png" {
			h = 3*96 + 38
		}
		if b := img.Bounds(); b.Dx() != 672 || b.Dy() < h-1 || b.Dy() > h+1 {
			t.Errorf("Curves(%s) is %v, want 672 x %d", tt.name, b, h)
		}
		if n := countColor(img, trainColor); n < 100 {
			t.Errorf("Curves(%s): %d pixels of the training curve's colour, want a line", tt.name, n)
		}
		save(t, tt.name, img)
	}
	if _, err := Curves(nil, ""); err == nil {
		t.Error("Curves(no epochs) = nil error, want one")
	}
}

// countColor counts the pixels of img exactly of colour c.
func countColor(img image.Image, c interface{ RGBA() (r, g, b, a uint32) }) int {
	r0, g0, b0, _ := c.RGBA()
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r == r0 && g == g0 && bl == b0 {
				n++
			}
		}
	}
	return n
}

// mnistConfusion is a plausible LeNet5 confusion matrix (rows: the
// 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009 test digits per
// class).
var mnistConfusion = Confusion{
	{973, 0, 1, 0, 0, 1, 3, 1, 1, 0},
	{0, 1126, 3, 1, 0, 1, 2, 0, 2, 0},
	{4, 2, 1008, 4, 2, 0, 1, 7, 4, 0},
	{0, 0, 3, 990, 0, 7, 0, 5, 4, 1},
	{1, 0, 2, 0, 962, 0, 4, 1, 2, 10},
	{2, 0, 0, 8, 0, 873, 4, 1, 3, 1},
	{6, 3, 1, 0, 3, 4, 939, 0, 2, 0},
	{1, 4, 10, 2, 1, 0, 0, 1001, 2, 7},
	{5, 0, 4, 6, 3, 5, 3, 4, 940, 4},
	{4, 5, 0, 7, 9, 4, 1, 6, 4, 969},
}

func TestConfusion(t *testing.T) {
	c := NewConfusion(3)
	for _, tp := range [][2]int{{0, 0}, {0, 0}, {1, 1}, {1, 2}, {2, 2}} {
		c.Add(tp[0], tp[1])
	}
	if c.Total() != 5 || c.Correct() != 4 {
		t.Errorf("Total, Correct = %d, %d; want 5, 4", c.Total(), c.Correct())
	}
	// Row 1 has one of two right: 50.00%.
	want := "" +
		"true \\ predicted    0    1    2   correct\n" +
		"               0    2    0    0   100.00%\n" +
		"               1    0    1    1    50.00%\n" +
		"               2    0    0    1   100.00%\n"
	if got := c.String(); got != want {
		t.Errorf("Confusion.String() =\n%s\nwant\n%s", got, want)
	}
	if s := mnistConfusion.String(); !strings.Contains(s, "               1    0 1126    3") {
		t.Errorf("Confusion.String() of the MNIST matrix lacks the row for 1:\n%s", s)
	}
	if mnistConfusion.Total() != 10000 {
		t.Errorf("mnistConfusion.Total() = %d, want 10000", mnistConfusion.Total())
	}
}

func TestConfusionPlot(t *testing.T) {
	img, err := mnistConfusion.Plot("LeNet5: 97.81% of 10,000 test digits")
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 624 {
		t.Errorf("Confusion.Plot is %v, want 624 wide (6.5 inches at 96 dpi)", b)
	}
	// The darkest blue fills the cells with the most counts.
	if n := countColor(img, blues{}.Colors()[127]); n < 1000 {
		t.Errorf("Confusion.Plot: %d pixels of the darkest blue, want the diagonal's cells", n)
	}
	save(t, "confusion.png", img)
	if _, err := (Confusion{{1, 2}, {3}}).Plot(""); err == nil {
		t.Error("Plot of a ragged matrix = nil error")
	}
}

func TestDigits(t *testing.T) {
	// A "1" and a square, white on black.
	px := make([]uint8, 3*784)
	for y := 4; y < 24; y++ {
		px[y*28+14] = 255
		px[y*28+13] = 200
	}
	for y := 8; y < 20; y++ {
		for x := 8; x < 20; x++ {
			px[784+y*28+x] = 255
		}
	}
	img := Digits(px, []string{"7 (true 1)", "0 (true 8)", "9 (true 4)"}, "Misclassified: prediction (true class)")
	// 2 columns of 84+8 plus 8, but the title is wider: 38 chars of 7 px + 16.
	if b := img.Bounds(); b.Dx() != 38*7+16 || b.Dy() != 8+22+2*(84+16+8) {
		t.Errorf("Digits(3) bounds %v", b)
	}
	// Top-left cell: digit at (8, 8+22+16), its column 14 enlarged 3x.
	if v := img.GrayAt(8+14*3+1, 46+10*3).Y; v != 255 {
		t.Errorf("Digits: ink of the first digit = %d, want 255", v)
	}
	save(t, "digits.png", img)
	f, err := os.CreateTemp(t.TempDir(), "x.png")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := WritePNG(f.Name(), img); err != nil {
		t.Fatal(err)
	}
	r, _ := os.Open(f.Name())
	defer r.Close()
	if back, err := png.Decode(r); err != nil || back.Bounds() != img.Bounds() {
		t.Errorf("WritePNG then png.Decode = %v, %v", back.Bounds(), err)
	}
}
