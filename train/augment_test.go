package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestShift moves a 3x4 plane by every offset up to 4 and compares with
// the definition: out[y][x] = in[y-dy][x-dx], 0 outside.
func TestShift(t *testing.T) {
	const h, w = 3, 4
	in := make([]float32, 2*h*w)
	for i := range in {
		in[i] = float32(i + 1)
	}
	for dy := -4; dy <= 4; dy++ {
		for dx := -4; dx <= 4; dx++ {
			got := slices.Clone(in)
			shift(got, 2, h, w, dx, dy)
			for c := range 2 {
				for y := range h {
					for x := range w {
						var want float32
						if sy, sx := y-dy, x-dx; sy >= 0 && sy < h && sx >= 0 && sx < w {
							want = in[c*h*w+sy*w+sx]
						}
						if g := got[c*h*w+y*w+x]; g != want {
							t.Fatalf("shift(%d, %d): [%d][%d][%d] = %v, want %v", dx, dy, c, y, x, g, want)
						}
					}
				}
			}
		}
	}
}

// TestWarp checks that warp with no rotation and scale 1 is shift, that
// a quarter turn moves a pixel where the rotation says, and that a
// half-pixel shift averages neighbours.
func TestWarp(t *testing.T) {
	const h, w = 5, 5
	in := make([]float32, h*w)
	for i := range in {
		in[i] = float32(i%7) + 0.5
	}
	for _, d := range [][2]int{{0, 0}, {1, -2}, {-3, 2}} {
		want := slices.Clone(in)
		shift(want, 1, h, w, d[0], d[1])
		got := make([]float32, h*w)
		warp(got, in, 1, h, w, 0, 1, float64(d[0]), float64(d[1]))
		if !slices.Equal(got, want) {
			t.Errorf("warp(angle 0, scale 1, shift %v) = %v, want shift's %v", d, got, want)
		}
	}
	// A single pixel right of the centre (2,2), at (y 2, x 4), turned a
	// quarter clockwise on screen (y down) lands below it at (4, 2).
	one := make([]float32, h*w)
	one[2*w+4] = 1
	got := make([]float32, h*w)
	warp(got, one, 1, h, w, math.Pi/2, 1, 0, 0)
	if math.Abs(float64(got[4*w+2]-1)) > 1e-6 || math.Abs(float64(sum32(got)-1)) > 1e-5 {
		t.Errorf("quarter turn of a pixel at (2,4): got %v, want it at (4,2)", got)
	}
	// Half a pixel right: each pixel is the mean of itself and its left
	// neighbour (0 beyond the edge).
	warp(got, in, 1, h, w, 0, 1, 0.5, 0)
	for y := range h {
		for x := range w {
			left := float32(0)
			if x > 0 {
				left = in[y*w+x-1]
			}
			if want := (in[y*w+x] + left) / 2; math.Abs(float64(got[y*w+x]-want)) > 1e-6 {
				t.Fatalf("half-pixel shift: [%d][%d] = %v, want %v", y, x, got[y*w+x], want)
			}
		}
	}
}

func sum32(v []float32) float32 {
	var s float32
	for _, x := range v {
		s += x
	}
	return s
}

// TestAugmentApply checks that shifts stay within Shift, that every offset
// is drawn, and that the same source gives the same batch.
func TestAugmentApply(t *testing.T) {
	const n, h, w = 400, 9, 9
	x := make([]float32, n*h*w)
	for i := range n {
		x[i*h*w+4*w+4] = 1 // a dot in the centre
	}
	a := Augment{Shift: 2}
	y := slices.Clone(x)
	a.apply(y, n, 1, h, w, rand.New(rand.NewPCG(1, 2)), make([]float32, h*w))
	seen := map[[2]int]bool{}
	for i := range n {
		at := slices.Index(y[i*h*w:(i+1)*h*w], 1)
		dy, dx := at/w-4, at%w-4
		if at < 0 || dx < -2 || dx > 2 || dy < -2 || dy > 2 {
			t.Fatalf("image %d: dot moved to %d, want within 2 pixels of the centre", i, at)
		}
		seen[[2]int{dx, dy}] = true
	}
	if len(seen) != 25 {
		t.Errorf("%d distinct shifts in %d images, want all 25", len(seen), n)
	}
	z := slices.Clone(x)
	a.apply(z, n, 1, h, w, rand.New(rand.NewPCG(1, 2)), make([]float32, h*w))
	if !slices.Equal(y, z) {
		t.Error("the same source gave another batch")
	}
	for _, bad := range []Augment{{Shift: -1}, {Rotate: math.NaN()}, {Scale: 1}, {Rotate: 181}} {
		if bad.check() == nil {
			t.Errorf("%+v.check() = nil, want an error", bad)
		}
	}
}
