package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmOffsets checks that the product with the im2col matrix read in
// place equals the product with the matrix Im2colWide writes, bit for
// bit, on the rows and columns of the product, with the AVX-512, AVX2 and
// plain Go kernels.
func TestSgemmOffsets(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	geoms := []ConvGeom{
		{C: 1, H: 28, W: 28, KH: 5, KW: 5, PadTop: 2, PadLeft: 2, PadBottom: 2, PadRight: 2}, // LeNet5 conv1
		{C: 6, H: 14, W: 14, KH: 5, KW: 5},                                                   // conv2
		{C: 16, H: 5, W: 5, KH: 5, KW: 5},                                                    // one column
		{C: 2, H: 1, W: 9, KH: 1, KW: 3, PadLeft: 1},                                         // 1-D
		{C: 3, H: 6, W: 7, KH: 3, KW: 2, PadTop: 1, PadRight: 1},
		{C: 32, H: 12, W: 12, KH: 3, KW: 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}, // two k blocks
	}
	for _, g := range geoms {
		for _, m := range []int{1, 6, 16, 37} {
			cols, _ := g.Wide()
			k := g.ColRows()
			x, w := randSlice(r, g.C*g.H*g.W), randSlice(r, m*k)
			col := make([]float32, k*cols)
			Im2colWide(&g, x, col, cols, make([]float32, g.PaddedSize()))
			want := make([]float32, m*cols)
			Sgemm(false, false, m, cols, k, 1, w, k, col, cols, 0, want, cols)
			wantGo := make([]float32, m*cols) // the plain Go kernel rounds each product
			withoutAVX2(func() { Sgemm(false, false, m, cols, k, 1, w, k, col, cols, 0, wantGo, cols) })

			src := make([]float32, g.WideInputSize())
			for i := range src {
				src[i] = float32(math.NaN()) // WideInput must write every value
			}
			g.WideInput(x, src)
			offs := make([]int32, k)
			g.WideOffsets(offs)
			p := PackA(false, m, k, w, k)
			ldc := TileCols(cols) + 3
			for _, kind := range []string{"AVX-512", "AVX2", "Go"} {
				if kind == "AVX-512" && !HasAVX512 || kind == "AVX2" && !HasAVX2 {
					continue
				}
				got := make([]float32, TileRows(m)*ldc)
				func() {
					defer func(v2, v512 bool) { HasAVX2, HasAVX512 = v2, v512 }(HasAVX2, HasAVX512)
					HasAVX512 = kind == "AVX-512"
					HasAVX2 = kind != "Go"
					p.SgemmOffsets(cols, src, offs, got, ldc)
				}()
				want := want
				if kind == "Go" {
					want = wantGo
				}
				// The same product by column ranges of one pair of tiles,
				// as workers share it out (SgemmOffsetsCols).
				byCols := make([]float32, TileRows(m)*ldc)
				func() {
					defer func(v2, v512 bool) { HasAVX2, HasAVX512 = v2, v512 }(HasAVX2, HasAVX512)
					HasAVX512 = kind == "AVX-512"
					HasAVX2 = kind != "Go"
					for j0 := 0; j0 < TileCols(cols); j0 += OffsetsColStep {
						p.SgemmOffsetsCols(cols, src, offs, byCols, ldc, j0, min(j0+OffsetsColStep, TileCols(cols)))
					}
				}()
				for i := range m {
					for j := range cols {
						if math.Float32bits(got[i*ldc+j]) != math.Float32bits(want[i*cols+j]) {
							t.Fatalf("%+v m=%d %s: C[%d][%d] = %v, Sgemm over Im2colWide gives %v", g, m, kind, i, j, got[i*ldc+j], want[i*cols+j])
						}
						if math.Float32bits(byCols[i*ldc+j]) != math.Float32bits(got[i*ldc+j]) {
							t.Fatalf("%+v m=%d %s: C[%d][%d] = %v by column ranges, %v at once", g, m, kind, i, j, byCols[i*ldc+j], got[i*ldc+j])
						}
					}
				}
			}
		}
	}
}

// TestSgemmOffsetsPanics checks the bounds SgemmOffsets enforces.
func TestSgemmOffsetsPanics(t *testing.T) {
	p := PackA(false, 6, 2, make([]float32, 12), 2)
	c := make([]float32, 6*16)
	for name, f := range map[string]func(){
		"src":  func() { p.SgemmOffsets(10, make([]float32, 20), []int32{0, 5}, c, 16) },
		"neg":  func() { p.SgemmOffsets(10, make([]float32, 40), []int32{0, -1}, c, 16) },
		"offs": func() { p.SgemmOffsets(10, make([]float32, 40), []int32{0}, c, 16) },
		"c":    func() { p.SgemmOffsets(10, make([]float32, 40), []int32{0, 1}, c[:90], 16) },
		"ldc":  func() { p.SgemmOffsets(10, make([]float32, 40), []int32{0, 1}, make([]float32, 200), 12) },
		"cols": func() { p.SgemmOffsetsCols(40, make([]float32, 200), []int32{0, 1}, make([]float32, 400), 48, 16, 48) },
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
	p.SgemmOffsets(10, make([]float32, 40), []int32{0, 24}, c, 16) // in bounds: no panic
}

// BenchmarkConvWide times one image through LeNet5's first two
// convolutions, with the im2col matrix written (Im2colWide, then the
// product) and read in place (WideInput, then SgemmOffsets).
func BenchmarkConvWide(b *testing.B) {
	r := rand.New(rand.NewPCG(33, 34))
	for _, bc := range []struct {
		name string
		m    int
		g    ConvGeom
	}{
		{"conv1", 6, ConvGeom{C: 1, H: 28, W: 28, KH: 5, KW: 5, PadTop: 2, PadLeft: 2, PadBottom: 2, PadRight: 2}},
		{"conv2", 16, ConvGeom{C: 6, H: 14, W: 14, KH: 5, KW: 5}},
	} {
		g := bc.g
		cols, _ := g.Wide()
		k := g.ColRows()
		x := randSlice(r, g.C*g.H*g.W)
		p := PackA(false, bc.m, k, randSlice(r, bc.m*k), k)
		ldc := TileCols(cols)
		c := make([]float32, TileRows(bc.m)*ldc)
		b.Run(bc.name+"/im2col", func(b *testing.B) {
			col, pad := make([]float32, k*cols), make([]float32, g.PaddedSize())
			b.ReportAllocs()
			for b.Loop() {
				Im2colWide(&g, x, col, cols, pad)
				p.Sgemm(cols, col, cols, 0, c, ldc)
			}
		})
		b.Run(bc.name+"/offsets", func(b *testing.B) {
			src, offs := make([]float32, g.WideInputSize()), make([]int32, k)
			g.WideOffsets(offs)
			b.ReportAllocs()
			for b.Loop() {
				g.WideInput(x, src)
				p.SgemmOffsets(cols, src, offs, c, ldc)
			}
		})
	}
}
