package digit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"strings"
	"testing"
)

// rect returns a w x h gray image of level bg with the rectangle r filled
// with level ink.
func rect(w, h int, bg, ink uint8, r image.Rectangle) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := bg
			if image.Pt(x, y).In(r) {
				v = ink
			}
			img.SetGray(x, y, color.Gray{v})
		}
	}
	return img
}

// inkBounds is the bounding box of the non-zero pixels of a prepared image.
func inkBounds(g *image.Gray) image.Rectangle {
	return inkBox(levels(g), g.Bounds().Dx(), g.Bounds().Dy(), 0)
}

func levels(g *image.Gray) []float32 {
	v := make([]float32, len(g.Pix))
	for i, p := range g.Pix {
		v[i] = float32(p) / 255
	}
	return v
}

func TestInkBox(t *testing.T) {
	g := levels(rect(10, 8, 0, 255, image.Rect(2, 3, 5, 7)))
	g[0] = 0.1 // faint noise below the threshold stays out of the box
	if got, want := inkBox(g, 10, 8, 0.2), image.Rect(2, 3, 5, 7); got != want {
		t.Errorf("inkBox(square at (2,3)-(5,7)) = %v, want %v", got, want)
	}
	if got := inkBox(make([]float32, 80), 10, 8, 0.2); !got.Empty() {
		t.Errorf("inkBox(black) = %v, want empty", got)
	}
}

func TestCoverage(t *testing.T) {
	// 3 input pixels onto 2: output 0 covers [0, 1.5), output 1 [1.5, 3).
	got := coverage(3, 2)
	want := [][]tap{{{0, 2.0 / 3}, {1, 1.0 / 3}}, {{1, 1.0 / 3}, {2, 2.0 / 3}}}
	for o := range want {
		for k := range want[o] {
			if got[o][k].i != want[o][k].i || math.Abs(got[o][k].w-want[o][k].w) > 1e-12 {
				t.Errorf("coverage(3, 2) = %v, want %v", got, want)
			}
		}
	}
	// Area averaging keeps the mean level: 40 pixels of 1,0,1,0... onto 20.
	g := make([]float32, 40)
	for i := 0; i < 40; i += 2 {
		g[i] = 1
	}
	out, sw, sh := fit(g, 40, image.Rect(0, 0, 40, 1), 20)
	if sw != 20 || sh != 1 {
		t.Fatalf("fit(40x1) is %dx%d, want 20x1", sw, sh)
	}
	for i, v := range out {
		if math.Abs(float64(v)-0.5) > 1e-6 {
			t.Errorf("fit(stripes)[%d] = %v, want 0.5 (the mean of the two pixels it covers)", i, v)
		}
	}
}

func TestPrepareScalesAndCentres(t *testing.T) {
	tests := []struct {
		name     string
		img      image.Image
		wantW    int // width and height of the ink in the 28x28 result
		wantH    int
		polarity string
	}{
		// A 40x80 bar, dark on white, off-centre in a 200x150 picture:
		// scaled by 20/80 to 10x20.
		{"dark bar", rect(200, 150, 255, 0, image.Rect(10, 60, 50, 140)), 10, 20, "dark on light"},
		// The same bar light on black: no inversion needed.
		{"light bar", rect(200, 150, 0, 255, image.Rect(10, 60, 50, 140)), 10, 20, "light on dark"},
		// A tiny 3x6 bar in a 12x12 picture is scaled up by 20/6 to 10x20.
		{"tiny bar", rect(12, 12, 230, 20, image.Rect(8, 0, 11, 6)), 10, 20, "dark on light"},
		// A wide 60x15 bar: the longer side becomes 20, the other 5.
		{"wide bar", rect(100, 100, 0, 200, image.Rect(30, 50, 90, 65)), 20, 5, "light on dark"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := Prepare(tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if g.Bounds() != image.Rect(0, 0, 28, 28) {
				t.Fatalf("Prepare bounds = %v, want 28x28", g.Bounds())
			}
			b := inkBounds(g)
			if b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Errorf("Prepare ink box = %v (%dx%d), want %dx%d", b, b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
			// Ink is white (255) on black whatever the input's polarity.
			if g.Pix[0] != 0 || g.GrayAt(b.Min.X+b.Dx()/2, b.Min.Y+b.Dy()/2).Y != 255 {
				t.Errorf("Prepare(%s): corner %d, centre of ink %d; want 0 and 255", tt.polarity, g.Pix[0], g.GrayAt(b.Min.X+b.Dx()/2, b.Min.Y+b.Dy()/2).Y)
			}
			// A uniform bar's centre of mass is its middle; even sizes put it
			// exactly at (14, 14).
			x, y, _ := CenterOfMass(g)
			if math.Abs(x-14) > 0.5 || math.Abs(y-14) > 0.5 {
				t.Errorf("Prepare: centre of mass (%.2f, %.2f), want within half a pixel of (14, 14)", x, y)
			}
		})
	}
}

func TestPrepareCentresByMassNotBox(t *testing.T) {
	// An L: a 20-tall, 4-wide stem with a 20x4 foot, so most of the mass is
	// left and low of the bounding box's centre. Centring by mass moves the
	// box right and up of the middle of the field: the box (20x20 already)
	// would start at 4 if centred as a box.
	img := rect(30, 30, 0, 255, image.Rect(5, 5, 9, 25)) // a margin of 5 around the 20x20 L
	for y := 21; y < 25; y++ {
		for x := 5; x < 25; x++ {
			img.SetGray(x, y, color.Gray{255})
		}
	}
	g, err := Prepare(img)
	if err != nil {
		t.Fatal(err)
	}
	// Mass: stem 4x16 at x 2, y 8; foot 20x4 at x 10, y 18: 64 and 80 pixels,
	// centre (6.44, 13.56) in the box; offset round(14-6.44)=8, round(14-13.56)=0.
	if b := inkBounds(g); b.Min != image.Pt(8, 0) {
		t.Errorf("Prepare(L) ink box %v, want it to start at (8, 0)", b)
	}
	x, y, _ := CenterOfMass(g)
	if math.Abs(x-14) > 0.5 || math.Abs(y-14) > 0.5 {
		t.Errorf("Prepare(L): centre of mass (%.2f, %.2f), want near (14, 14)", x, y)
	}
}

func TestPrepareKeepsInkInside(t *testing.T) {
	// A 20x20 box whose mass is all in its top-left corner: centring by
	// mass would push the box off the field; it is clamped at 0.
	img := rect(20, 20, 0, 0, image.Rectangle{})
	for y := range 20 {
		img.SetGray(y, y, color.Gray{40})
	}
	for y := range 3 {
		for x := range 3 {
			img.SetGray(x, y, color.Gray{255})
		}
	}
	g, err := Prepare(img)
	if err != nil {
		t.Fatal(err)
	}
	if b := inkBounds(g); !b.In(image.Rect(0, 0, 28, 28)) || b.Dx() != 20 || b.Dy() != 20 {
		t.Errorf("Prepare(corner mass) ink box %v, want 20x20 inside the field", b)
	}
}

func TestPreparePolarity(t *testing.T) {
	dark := rect(60, 60, 250, 5, image.Rect(20, 10, 40, 50))
	light := rect(60, 60, 5, 250, image.Rect(20, 10, 40, 50))
	gray := rect(60, 60, 180, 20, image.Rect(20, 10, 40, 50)) // pencil on gray paper
	a, _ := Prepare(dark)
	b, _ := Prepare(light)
	c, _ := Prepare(gray)
	if !bytes.Equal(a.Pix, b.Pix) || !bytes.Equal(a.Pix, c.Pix) {
		t.Errorf("Prepare gives different images for the same bar dark on light, light on dark and dark on gray")
	}
	// Forcing the wrong polarity finds nothing brighter than the background.
	if _, err := (Options{Polarity: LightOnDark}).Prepare(dark); !errors.Is(err, ErrBlank) {
		t.Errorf("Options{Polarity: LightOnDark}.Prepare(dark on light) = %v, want ErrBlank", err)
	}
	if d, err := (Options{Polarity: DarkOnLight}).Prepare(dark); err != nil || !bytes.Equal(a.Pix, d.Pix) {
		t.Errorf("Options{Polarity: DarkOnLight}.Prepare(dark on light) = %v, want the auto result", err)
	}
}

func TestPrepareTransparent(t *testing.T) {
	// Black strokes on a transparent background (a drawing program's
	// default) are composited over white: dark on light.
	img := image.NewNRGBA(image.Rect(0, 0, 40, 40))
	for y := 5; y < 35; y++ {
		for x := 15; x < 25; x++ {
			img.Set(x, y, color.NRGBA{0, 0, 0, 255})
		}
	}
	g, err := Prepare(img)
	if err != nil {
		t.Fatal(err)
	}
	if b := inkBounds(g); b.Dx() != 7 || b.Dy() != 20 {
		t.Errorf("Prepare(black on transparent) ink box %v, want 7x20 (10x30 scaled by 2/3)", b)
	}
}

func TestPrepareBlank(t *testing.T) {
	for _, img := range []image.Image{
		rect(30, 30, 255, 255, image.Rectangle{}),
		rect(30, 30, 0, 0, image.Rectangle{}),
		rect(30, 30, 128, 140, image.Rect(10, 10, 20, 20)), // contrast 12/255 < 0.1
		image.NewGray(image.Rectangle{}),
		image.NewNRGBA(image.Rect(0, 0, 10, 10)), // all transparent
	} {
		if _, err := Prepare(img); !errors.Is(err, ErrBlank) {
			t.Errorf("Prepare(%v blank image) = %v, want ErrBlank", img.Bounds(), err)
		}
	}
}

func TestPrepareSubImage(t *testing.T) {
	// Bounds not at the origin: a sub-image holding a bar.
	big := rect(100, 100, 255, 0, image.Rect(60, 50, 70, 90))
	sub := big.SubImage(image.Rect(40, 40, 100, 100))
	g, err := Prepare(sub)
	if err != nil {
		t.Fatal(err)
	}
	if b := inkBounds(g); b.Dx() != 5 || b.Dy() != 20 {
		t.Errorf("Prepare(sub-image) ink box %v, want 5x20", b)
	}
}

func TestDecode(t *testing.T) {
	var buf bytes.Buffer
	png.Encode(&buf, rect(5, 5, 0, 255, image.Rect(1, 1, 3, 3)))
	img, err := Decode(bytes.NewReader(buf.Bytes()))
	if err != nil || img.Bounds() != image.Rect(0, 0, 5, 5) {
		t.Errorf("Decode(5x5 PNG) = %v, %v", img, err)
	}
	if _, err := Decode(strings.NewReader("hello, not an image")); !errors.Is(err, ErrFormat) {
		t.Errorf("Decode(text) = %v, want ErrFormat", err)
	}
	if _, err := Decode(bytes.NewReader(buf.Bytes()[:40])); err == nil || errors.Is(err, ErrFormat) {
		t.Errorf("Decode(truncated PNG) = %v, want a decoding error", err)
	}
	// A PNG header declaring 100000 x 100000 pixels is refused before any
	// pixel is decoded.
	hdr := buf.Bytes()[:33]
	big := append([]byte(nil), hdr...)
	copy(big[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	binary.BigEndian.PutUint32(big[29:33], crc32.ChecksumIEEE(big[12:29]))
	if _, err := Decode(bytes.NewReader(big)); err == nil || !strings.Contains(err.Error(), "100000x100000") {
		t.Errorf("Decode(huge PNG header) = %v, want a size error", err)
	}
}

// TestDecodeBoundsMemory checks that a JPEG within MaxPixels but whose
// decoding would need more than MaxDecodeBytes is refused from its header
// (before: a 1.5 MB progressive CMYK JPEG of 8000x8000 took 2 GB), while a
// phone-sized photo passes the check.
func TestDecodeBoundsMemory(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	withSize := func(w, h int) []byte {
		b := append([]byte(nil), buf.Bytes()...)
		i := bytes.Index(b, []byte{0xff, 0xc0}) // SOF0: length(2) precision(1) height(2) width(2)
		if i < 0 {
			t.Fatal("no SOF0 marker in the encoded JPEG")
		}
		binary.BigEndian.PutUint16(b[i+5:], uint16(h))
		binary.BigEndian.PutUint16(b[i+7:], uint16(w))
		return b
	}
	_, err := Decode(bytes.NewReader(withSize(8000, 8000)))
	if err == nil || !strings.Contains(err.Error(), "more than the limit of 512 MB") {
		t.Errorf("Decode(8000x8000 JPEG header) = %v, want a memory-limit error", err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(withSize(4000, 3000)))
	if err != nil || decodeBytes(cfg, format) > MaxDecodeBytes {
		t.Errorf("a 4000x3000 JPEG needs %d bytes (%v), want at most MaxDecodeBytes", decodeBytes(cfg, format), err)
	}
}
