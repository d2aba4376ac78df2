package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// refIm2col is Im2col written from its definition, one element at a time.
func refIm2col(g *ConvGeom, x, col []float32, ld int) {
	sh, sw, dh, dw := g.steps()
	oh, ow := g.OutH(), g.OutW()
	for c := range g.C {
		for i := range g.KH {
			for j := range g.KW {
				r := (c*g.KH+i)*g.KW + j
				for oy := range oh {
					for ox := range ow {
						iy, ix := oy*sh-g.PadTop+i*dh, ox*sw-g.PadLeft+j*dw
						var v float32
						if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
							v = x[(c*g.H+iy)*g.W+ix]
						}
						col[r*ld+oy*ow+ox] = v
					}
				}
			}
		}
	}
}

// refCol2im is Col2im from its definition: the same loops as refIm2col,
// adding instead of reading.
func refCol2im(g *ConvGeom, col []float32, ld int, x []float32) {
	sh, sw, dh, dw := g.steps()
	oh, ow := g.OutH(), g.OutW()
	for c := range g.C {
		for i := range g.KH {
			for j := range g.KW {
				r := (c*g.KH+i)*g.KW + j
				for oy := range oh {
					for ox := range ow {
						iy, ix := oy*sh-g.PadTop+i*dh, ox*sw-g.PadLeft+j*dw
						if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
							x[(c*g.H+iy)*g.W+ix] += col[r*ld+oy*ow+ox]
						}
					}
				}
			}
		}
	}
}

var convGeoms = []ConvGeom{
	{C: 1, H: 28, W: 28, KH: 5, KW: 5, PadTop: 2, PadLeft: 2, PadBottom: 2, PadRight: 2}, // LeNet5 conv1
	{C: 6, H: 14, W: 14, KH: 5, KW: 5},                                                   // LeNet5 conv2
	{C: 3, H: 9, W: 11, KH: 3, KW: 2, StrideH: 2, StrideW: 3},
	{C: 2, H: 10, W: 7, KH: 3, KW: 3, DilationH: 2, DilationW: 3, PadTop: 1, PadRight: 4},
	{C: 2, H: 5, W: 6, KH: 2, KW: 3, PadTop: 3, PadLeft: 4, PadBottom: 1, PadRight: 5, StrideH: 2, StrideW: 2}, // pads wider than the kernel
	{C: 4, H: 6, W: 5, KH: 1, KW: 1},
	{C: 1, H: 3, W: 3, KH: 5, KW: 5, PadTop: 2, PadLeft: 2, PadBottom: 2, PadRight: 2}, // kernel larger than the image
	{C: 2, H: 7, W: 8, KH: 3, KW: 3, StrideH: 1, StrideW: 2, DilationH: 1, DilationW: 1, PadLeft: 1},
	{C: 1, H: 2, W: 2, KH: 3, KW: 3}, // no output
}

func TestIm2col(t *testing.T) {
	for gi, g := range convGeoms {
		for _, extra := range []int{0, 5} {
			t.Run(fmt.Sprintf("%d/ld+%d", gi, extra), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(gi), 7))
				x := randSlice(r, g.C*g.H*g.W)
				rows, cols := g.ColRows(), g.ColCols()
				ld := cols + extra
				got, want := randSlice(r, rows*ld), make([]float32, rows*ld)
				copy(want, got) // the gaps between rows must stay as they were
				Im2col(&g, x, got, ld)
				refIm2col(&g, x, want, ld)
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("Im2col(%+v): col[%d] = %v, want %v", g, i, got[i], want[i])
					}
				}

				// Col2im adds in the same order as the reference: exact.
				col := randSlice(r, rows*ld)
				gotX := randSlice(r, len(x))
				wantX := append([]float32(nil), gotX...)
				Col2im(&g, col, ld, gotX)
				refCol2im(&g, col, ld, wantX)
				for i := range wantX {
					if gotX[i] != wantX[i] {
						t.Fatalf("Col2im(%+v): x[%d] = %v, want %v", g, i, gotX[i], wantX[i])
					}
				}
			})
		}
	}
}

// Go and AVX2 paths of Col2im agree (Im2col has no SIMD path).
func TestCol2imPaths(t *testing.T) {
	for _, g := range convGeoms {
		r := rand.New(rand.NewPCG(9, 9))
		col := randSlice(r, g.ColRows()*g.ColCols())
		x1 := randSlice(r, g.C*g.H*g.W)
		x2 := append([]float32(nil), x1...)
		Col2im(&g, col, g.ColCols(), x1)
		withoutAVX2(func() { Col2im(&g, col, g.ColCols(), x2) })
		for i := range x1 {
			if x1[i] != x2[i] {
				t.Fatalf("Col2im(%+v): x[%d] = %v with AVX2, %v without", g, i, x1[i], x2[i])
			}
		}
	}
}

func TestConvGeomOut(t *testing.T) {
	tests := []struct {
		g          ConvGeom
		outH, outW int
	}{
		// floor((H + pads - dil*(k-1) - 1) / stride) + 1, as in ONNX Conv.
		{ConvGeom{H: 28, W: 28, KH: 5, KW: 5, PadTop: 2, PadBottom: 2, PadLeft: 2, PadRight: 2}, 28, 28},
		{ConvGeom{H: 14, W: 14, KH: 5, KW: 5}, 10, 10},
		{ConvGeom{H: 9, W: 11, KH: 3, KW: 2, StrideH: 2, StrideW: 3}, 4, 4},
		{ConvGeom{H: 10, W: 7, KH: 3, KW: 3, DilationH: 2, DilationW: 3}, 6, 1},
		{ConvGeom{H: 2, W: 2, KH: 3, KW: 3, StrideH: 2}, 0, 0},
		{ConvGeom{H: 1, W: 1, KH: 3, KW: 3, StrideH: 2, StrideW: 2}, 0, 0}, // a negative span must not round up to 1
	}
	for _, tt := range tests {
		if h, w := tt.g.OutH(), tt.g.OutW(); h != tt.outH || w != tt.outW {
			t.Errorf("%+v: OutH, OutW = %d, %d, want %d, %d", tt.g, h, w, tt.outH, tt.outW)
		}
	}
}

func TestIm2colPanics(t *testing.T) {
	g := ConvGeom{C: 2, H: 4, W: 4, KH: 3, KW: 3}
	for name, f := range map[string]func(){
		"short x":   func() { Im2col(&g, make([]float32, 31), make([]float32, 18*4), 4) },
		"short col": func() { Im2col(&g, make([]float32, 32), make([]float32, 18*4-1), 4) },
		"small ld":  func() { Col2im(&g, make([]float32, 100), 3, make([]float32, 32)) },
		"negative": func() {
			Im2col(&ConvGeom{C: 1, H: 4, W: 4, KH: 1, KW: 1, PadTop: -1}, make([]float32, 16), make([]float32, 16), 16)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func BenchmarkIm2col(b *testing.B) {
	for _, g := range convGeoms[:2] {
		b.Run(fmt.Sprintf("C%dH%dK%d", g.C, g.H, g.KH), func(b *testing.B) {
			x, col := make([]float32, g.C*g.H*g.W), make([]float32, g.ColRows()*g.ColCols())
			b.ReportAllocs()
			for b.Loop() {
				Im2col(&g, x, col, g.ColCols())
			}
		})
		b.Run(fmt.Sprintf("col2im/C%dH%dK%d", g.C, g.H, g.KH), func(b *testing.B) {
			x, col := make([]float32, g.C*g.H*g.W), make([]float32, g.ColRows()*g.ColCols())
			b.ReportAllocs()
			for b.Loop() {
				Col2im(&g, col, g.ColCols(), x)
			}
		})
	}
}

// TestIm2colWide checks the wide layout against refIm2col: column
// oy*PaddedW+ox of the wide matrix is column oy*OutW+ox of the plain one,
// with and without padding, and Wide's choice.
func TestIm2colWide(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, g := range []ConvGeom{
		{C: 1, H: 28, W: 28, KH: 5, KW: 5, PadTop: 2, PadLeft: 2, PadBottom: 2, PadRight: 2}, // LeNet5 conv1
		{C: 6, H: 14, W: 14, KH: 5, KW: 5},                                                   // conv2
		{C: 16, H: 5, W: 5, KH: 5, KW: 5},                                                    // conv3: one column
		{C: 2, H: 1, W: 9, KH: 1, KW: 3, PadLeft: 1},                                         // 1-D, one-sided padding
		{C: 3, H: 6, W: 7, KH: 3, KW: 2, PadTop: 1, PadBottom: 0, PadLeft: 0, PadRight: 1},
	} {
		cols, ok := g.Wide()
		if !ok {
			t.Fatalf("%+v: Wide() = %d, false", g, cols)
		}
		x := randSlice(r, g.C*g.H*g.W)
		plain := make([]float32, g.ColRows()*g.ColCols())
		refIm2col(&g, x, plain, g.ColCols())
		wide := make([]float32, g.ColRows()*cols)
		Im2colWide(&g, x, wide, cols, make([]float32, g.PaddedSize()))
		oh, ow := g.OutH(), g.OutW()
		for row := range g.ColRows() {
			for oy := range oh {
				for ox := range ow {
					if got, want := wide[row*cols+oy*g.PaddedW()+ox], plain[row*oh*ow+oy*ow+ox]; got != want {
						t.Fatalf("%+v: row %d output (%d,%d): wide %v, plain %v", g, row, oy, ox, got, want)
					}
				}
			}
		}
	}
	if _, ok := (&ConvGeom{C: 1, H: 8, W: 8, KH: 3, KW: 3, StrideH: 2, StrideW: 2}).Wide(); ok {
		t.Error("Wide() true for stride 2")
	}
	if _, ok := (&ConvGeom{C: 1, H: 9, W: 9, KH: 7, KW: 7}).Wide(); ok {
		t.Error("Wide() true for 3x3 outputs 3 times as wide")
	}
}

// TestIm2colInt16 checks the int16 forms of Im2col and WideInput against
// the float32 ones on the same values.
func TestIm2colInt16(t *testing.T) {
	for gi, g := range convGeoms {
		r := rand.New(rand.NewPCG(uint64(gi), 8))
		x := make([]int16, g.C*g.H*g.W)
		fx := make([]float32, len(x))
		for i := range x {
			x[i] = int16(r.IntN(511) - 255)
			fx[i] = float32(x[i])
		}
		rows, cols := g.ColRows(), g.ColCols()
		ld := cols + 3
		got, want := make([]int16, rows*ld), make([]float32, rows*ld)
		Im2col(&g, x, got, ld)
		Im2col(&g, fx, want, ld)
		for i := range want {
			if float32(got[i]) != want[i] {
				t.Fatalf("Im2col(%+v) in int16: col[%d] = %v, want %v", g, i, got[i], want[i])
			}
		}
		if _, ok := g.Wide(); !ok {
			continue
		}
		gotW, wantW := make([]int16, g.WideInputSize()), make([]float32, g.WideInputSize())
		g.WideInputInt16(x, gotW)
		g.WideInput(fx, wantW)
		for i := range wantW {
			if float32(gotW[i]) != wantW[i] {
				t.Fatalf("WideInputInt16(%+v): value %d = %v, want %v", g, i, gotW[i], wantW[i])
			}
		}
	}
}
