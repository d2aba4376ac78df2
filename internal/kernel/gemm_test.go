package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// refGemm is the textbook triple loop in float64: the reference. It first
// copies op(A) and op(B)^T into dense float64 rows so that the inner loop
// reads memory in order whatever the transposes.
func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	opA, opBT := make([]float64, m*k), make([]float64, n*k)
	for i := range m {
		for p := range k {
			if transA {
				opA[i*k+p] = float64(a[p*lda+i])
			} else {
				opA[i*k+p] = float64(a[i*lda+p])
			}
		}
	}
	for j := range n {
		for p := range k {
			if transB {
				opBT[j*k+p] = float64(b[j*ldb+p])
			} else {
				opBT[j*k+p] = float64(b[p*ldb+j])
			}
		}
	}
	for i := range m {
		for j := range n {
			var s float64
			ar, br := opA[i*k:(i+1)*k], opBT[j*k:(j+1)*k]
			for p := range ar {
				s += ar[p] * br[p]
			}
			v := float64(alpha) * s
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			c[i*ldc+j] = float32(v)
		}
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// operands returns A, B and C for the given sizes, with row strides padded
// by pad so that strides larger than the width are exercised.
func operands(r *rand.Rand, transA, transB bool, m, n, k, pad int) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	lda, ldb, ldc = ac+pad, bc+pad, n+pad
	return randSlice(r, ar*lda), lda, randSlice(r, br*ldb), ldb, randSlice(r, m*ldc), ldc
}

// checkGemm runs Sgemm against refGemm and reports whether they agree.
func checkGemm(t *testing.T, transA, transB bool, m, n, k, pad int, alpha, beta float32) bool {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(m*10007+n*101+k), 1))
	a, lda, b, ldb, c, ldc := operands(r, transA, transB, m, n, k, pad)
	want := append([]float32(nil), c...)
	refGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
	Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	for i := range m {
		for j := range ldc {
			got, w := c[i*ldc+j], want[i*ldc+j]
			// Sums of k products of values in [-1, 1], in float32.
			if math.Abs(float64(got-w)) > 1e-5*float64(k+1) {
				t.Errorf("Sgemm(%v,%v, m=%d n=%d k=%d pad=%d alpha=%v beta=%v): C[%d,%d] = %v, want %v",
					transA, transB, m, n, k, pad, alpha, beta, i, j, got, w)
				return false
			}
		}
	}
	return true
}

// Every m and n in 1..33 (all edge tiles of the 6x16 micro-kernel, and
// the unpacked paths for few rows), depths on both sides of the vector
// widths, all four transpose combinations, strides wider than the rows,
// and several alpha/beta pairs, with the AVX2 and the plain Go kernels.
func TestSgemmOddSizes(t *testing.T) {
	alphaBeta := [][2]float32{{1, 0}, {1, 1}, {-0.5, 0}, {2, -1.5}, {0.75, 0.25}}
	bothPaths(t, func(t *testing.T, path string) {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for m := 1; m <= 33; m++ {
				for n := 1; n <= 33; n++ {
					for ki, k := range []int{1, 2, 5, 8, 9, 16, 33} {
						if raceEnabled && (m+n+ki)%3 != 0 {
							continue // a third of the cases, all shapes still reached
						}
						ab := alphaBeta[(m+n+ki)%len(alphaBeta)]
						if !checkGemm(t, tr[0], tr[1], m, n, k, (m+n+k)%3, ab[0], ab[1]) {
							t.Fatalf("%s kernels", path)
						}
					}
				}
			}
		}
	})
}

func TestSgemmLarge(t *testing.T) {
	// The MLP's and LeNet5's products (forward and both backward ones),
	// plus sizes that cross the kc, mc and nc blocks with ragged edges.
	sizes := [][3]int{{100, 784, 784}, {100, 10, 784}, {6, 12544, 25}, {6, 25, 12544}, {25, 12544, 6},
		{16, 1600, 150}, {100, 120, 400}, {97, 1100, 300}, {13, 2049, 517}, {200, 33, 1000},
		{7, 11, 1003}, {31, 40, 2500}, {10, 3, 4099}, {11, 5000, 40}, {12, 17, 300}}
	bothPaths(t, func(t *testing.T, path string) {
		for _, s := range sizes {
			if raceEnabled && s[0]*s[1]*s[2] > 1<<20 && path == "Go" {
				continue // the Go kernels have no goroutines of their own
			}
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				t.Run(fmt.Sprintf("%s/%dx%dx%d/%v", path, s[0], s[1], s[2], tr), func(t *testing.T) {
					checkGemm(t, tr[0], tr[1], s[0], s[1], s[2], 1, 1, 0)
				})
			}
		}
	})
}

func TestSgemmAlphaBeta(t *testing.T) {
	bothPaths(t, func(t *testing.T, path string) {
		for _, ab := range [][2]float32{{1, 1}, {0.5, 0}, {-2, 0.25}, {0, 3}, {0, 0}, {1.5, -1}} {
			for _, s := range [][3]int{{37, 45, 29}, {64, 200, 300}, {3, 40, 50}, {7, 300, 2}} {
				for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
					if !checkGemm(t, tr[0], tr[1], s[0], s[1], s[2], 2, ab[0], ab[1]) {
						t.Fatalf("%s kernels", path)
					}
				}
			}
		}
	})
}

// NaN and Inf in A or B reach every element of C they touch, even where
// the other operand is 0 (0*NaN and 0*Inf are NaN), on every path: the
// unpacked ones for few rows, the naive one for tiny products and the
// packed one, with each transpose.
func TestSgemmNaN(t *testing.T) {
	bothPaths(t, func(t *testing.T, path string) {
		for _, size := range [][3]int{{3, 3, 3}, {2, 40, 40}, {40, 40, 40}, {7, 33, 70}, {100, 50, 300}} {
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
					for _, inA := range []bool{false, true} {
						m, n, k := size[0], size[1], size[2]
						a, b := make([]float32, m*k), make([]float32, k*n)
						// The bad value at op(A)[1 % m, k-1] or op(B)[k-1, 1 % n].
						row, col := 1%m, 1%n
						switch {
						case inA && tr[0]:
							a[(k-1)*m+row] = bad
						case inA:
							a[row*k+k-1] = bad
						case tr[1]:
							b[col*k+k-1] = bad
						default:
							b[(k-1)*n+col] = bad
						}
						lda, ldb := k, n
						if tr[0] {
							lda = m
						}
						if tr[1] {
							ldb = k
						}
						c := make([]float32, m*n)
						for i := range c {
							c[i] = float32(math.NaN()) // beta = 0: never read
						}
						Sgemm(tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0, c, n)
						for i := range m {
							for j := range n {
								want := inA && i == row || !inA && j == col
								if got := c[i*n+j]; math.IsNaN(float64(got)) != want {
									t.Fatalf("%s: %v in %s, %dx%dx%d %v: C[%d,%d] = %v, want NaN only in the bad value's %s",
										path, bad, map[bool]string{true: "A", false: "B"}[inA], m, n, k, tr, i, j, got,
										map[bool]string{true: "row", false: "column"}[inA])
								}
							}
						}
					}
				}
			}
		}
	})
}

func TestSgemmPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"short A": func() {
			Sgemm(false, false, 4, 4, 4, 1, make([]float32, 15), 4, make([]float32, 16), 4, 0, make([]float32, 16), 4)
		},
		"short B": func() {
			Sgemm(false, true, 4, 5, 4, 1, make([]float32, 16), 4, make([]float32, 19), 4, 0, make([]float32, 20), 5)
		},
		"short C": func() {
			Sgemm(false, false, 4, 4, 4, 1, make([]float32, 16), 4, make([]float32, 16), 4, 1, make([]float32, 15), 4)
		},
		"lda < k": func() {
			Sgemm(false, false, 2, 2, 4, 1, make([]float32, 16), 3, make([]float32, 16), 2, 0, make([]float32, 4), 2)
		},
		"ldc < n": func() {
			Sgemm(false, false, 2, 4, 2, 1, make([]float32, 4), 2, make([]float32, 8), 4, 0, make([]float32, 16), 3)
		},
		"beta, C": func() { Sgemm(false, false, 2, 2, 0, 1, nil, 0, nil, 0, 2, make([]float32, 3), 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Sgemm with %s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// The assembly micro-kernel and the Go one agree, on packed B panels
// (ldb 16) and on B read in place (a wider ldb).
func TestMicroKernels(t *testing.T) {
	if !HasAVX2 {
		t.Skip("no AVX2/FMA kernel in this build")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, ldb := range []int{nr, 21} {
		for _, k := range []int{0, 1, 2, 17, 256} {
			a, b := randSlice(r, k*mr+1), randSlice(r, k*ldb+1)
			c1 := randSlice(r, mr*20)
			c2 := append([]float32(nil), c1...)
			microKernel(k, a, b, ldb, c1, 20, k == 17)
			microKernelGo(k, a, b, ldb, c2, 20, k == 17)
			for i := range c1 {
				if d := math.Abs(float64(c1[i] - c2[i])); d > 1e-5*float64(k+1) {
					t.Fatalf("ldb=%d k=%d: asm c[%d] = %v, Go %v", ldb, k, i, c1[i], c2[i])
				}
			}
		}
	}
}

// The assembly dot-product tile and the Go one agree.
func TestDotTiles(t *testing.T) {
	if !HasAVX2 {
		t.Skip("no AVX2/FMA kernel in this build")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, k := range []int{8, 16, 64, 2048} {
		lda, ldb := k+3, k+8
		a, b := randSlice(r, 2*lda+k), randSlice(r, 2*ldb+k)
		var acc1, acc2 [72]float32
		for i := range acc1 {
			acc1[i] = float32(i)
		}
		acc2 = acc1
		dotTile(k, a, lda, b, ldb, &acc1)
		dotTileGo(k, a, lda, b, ldb, &acc2)
		for i := range acc1 {
			if d := math.Abs(float64(acc1[i] - acc2[i])); d > 1e-5*float64(k) {
				t.Fatalf("k=%d: asm acc[%d] = %v, Go %v", k, i, acc1[i], acc2[i])
			}
		}
	}
}

// BenchmarkSgemm runs the products of the tutorial's models with the
// transposes their layers use, batch 100: the MLP's 784-784 layer
// (forward, weight gradient, input gradient), LeNet5's convolutions as
// im2col products (conv1 [6 x 25] x [25 x 784*100], conv2 [16 x 150] x
// [150 x 100*100]) and its 400-120 layer, plus a square one.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range []struct {
		name           string
		transA, transB bool
		m, n, k        int
	}{
		{"mlp-fwd", false, true, 100, 784, 784},
		{"mlp-dw", true, false, 784, 784, 100},
		{"mlp-dx", false, false, 100, 784, 784},
		{"conv1-fwd", false, false, 6, 78400, 25},
		{"conv1-dw", false, true, 6, 25, 78400},
		{"conv1-dcol", true, false, 25, 78400, 6},
		{"conv2-fwd", false, false, 16, 10000, 150},
		{"conv1-batch1", false, false, 6, 784, 25},
		{"conv2-batch1", false, false, 16, 100, 150},
		{"fc-fwd", false, true, 100, 120, 400},
		{"fc-batch1", false, true, 1, 120, 400},
		{"mlp-batch1", false, false, 1, 784, 784},
		{"cnn-fc-batch1", false, false, 1, 128, 7290},
		{"square", false, false, 256, 256, 256},
	} {
		b.Run(fmt.Sprintf("%s/%dx%dx%d", s.name, s.m, s.n, s.k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			lda, ldb := s.k, s.n
			if s.transA {
				lda = s.m
			}
			if s.transB {
				ldb = s.k
			}
			a, bb, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
			Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n) // warm the pack buffers
			b.ReportAllocs()
			for b.Loop() {
				Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// withoutAVX2 runs f with the plain Go kernels.
func withoutAVX2(f func()) {
	saved2, saved512 := HasAVX2, HasAVX512
	HasAVX2, HasAVX512 = false, false
	defer func() { HasAVX2, HasAVX512 = saved2, saved512 }()
	f()
}

// TestSgemmShapeInvariant checks that, with B not transposed, each block of
// C comes out bit for bit the same when computed alone as when computed
// inside a larger product: what batching rows (a batch of samples) or
// columns (a batch of im2col matrices) relies on.
func TestSgemmShapeInvariant(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][3]int{{64, 84, 120}, {100, 10, 84}, {7, 600, 150}, {16, 1400, 150}, {5, 40, 300}, {30, 33, 600}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, transA := range []bool{false, true} {
			for _, beta := range []float32{0, 1} {
				a, lda, b, ldb, c0, ldc := operands(r, transA, false, m, n, k, 3)
				full := append([]float32(nil), c0...)
				Sgemm(transA, false, m, n, k, 1, a, lda, b, ldb, beta, full, ldc)
				// Rows one at a time, then a few column blocks.
				blocks := [][4]int{{0, m, 0, n}, {0, 1, 0, n}, {m - 1, m, 0, n}, {m / 2, m, 0, n}, {0, m, n / 3, n}, {1, m - 1, 1, n - 1}}
				for i := range m {
					blocks = append(blocks, [4]int{i, i + 1, 0, n})
				}
				for _, bl := range blocks {
					i0, i1, j0, j1 := bl[0], bl[1], bl[2], bl[3]
					if i1 <= i0 || j1 <= j0 {
						continue
					}
					ai := a[i0:] // column i0 of the stored A^T
					if !transA {
						ai = a[i0*lda:]
					}
					part := append([]float32(nil), c0...)
					Sgemm(transA, false, i1-i0, j1-j0, k, 1, ai, lda, b[j0:], ldb, beta, part[i0*ldc+j0:], ldc)
					for i := i0; i < i1; i++ {
						for j := j0; j < j1; j++ {
							if got, want := part[i*ldc+j], full[i*ldc+j]; got != want {
								t.Fatalf("m=%d n=%d k=%d transA=%v beta=%v: C[%d][%d] = %v computing rows [%d,%d) cols [%d,%d), %v in the full product",
									m, n, k, transA, beta, i, j, got, i0, i1, j0, j1, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestPositionInvariant checks that Tanh, Exp and Axpy give an element the
// same result wherever it lies, including in a last partial vector.
func TestPositionInvariant(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := randSlice(r, 37)
	for i := range x {
		x[i] *= 4
	}
	y := randSlice(r, 37)
	tanhAll, expAll, axpyAll := make([]float32, 37), make([]float32, 37), append([]float32(nil), y...)
	Tanh(tanhAll, x)
	Exp(expAll, x)
	Axpy(0.7, x, axpyAll)
	for i := range x {
		for _, lo := range []int{0, i, max(0, i-5)} {
			n := i + 1 - lo
			th, ex, ax := make([]float32, n), make([]float32, n), append([]float32(nil), y[lo:i+1]...)
			Tanh(th, x[lo:i+1])
			Exp(ex, x[lo:i+1])
			Axpy(0.7, x[lo:i+1], ax)
			if th[n-1] != tanhAll[i] || ex[n-1] != expAll[i] || ax[n-1] != axpyAll[i] {
				t.Fatalf("element %d from offset %d: tanh %v exp %v axpy %v, want %v %v %v", i, lo, th[n-1], ex[n-1], ax[n-1], tanhAll[i], expAll[i], axpyAll[i])
			}
		}
	}
}

// TestPackedA checks that products with a packed A equal Sgemm's bit for
// bit, across the paths (few rows, B in place, packed B, several k blocks,
// split across workers).
func TestPackedA(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, sz := range [][3]int{{1, 5, 7}, {2, 300, 40}, {6, 784, 25}, {16, 600, 150}, {120, 64, 400}, {30, 1000, 600}, {7, 3, 2}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, transA := range []bool{false, true} {
			for _, beta := range []float32{0, 0.5} {
				a, lda, b, ldb, c, ldc := operands(r, transA, false, m, n, k, 2)
				want := append([]float32(nil), c...)
				Sgemm(transA, false, m, n, k, 1, a, lda, b, ldb, beta, want, ldc)
				p := PackA(transA, m, k, a, lda)
				for range 2 { // the packed A is reusable
					got := append([]float32(nil), c...)
					p.Sgemm(n, b, ldb, beta, got, ldc)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("m=%d n=%d k=%d transA=%v beta=%v: element %d = %v, Sgemm gives %v", m, n, k, transA, beta, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// countingEpilogue counts, per element of C, the Finish calls that cover
// it, and checks that the block already holds the product's values.
type countingEpilogue struct {
	mu        sync.Mutex
	c, want   []float32
	ldc       int
	hits      []int
	wrongBits bool
}

func (e *countingEpilogue) Finish(i0, i1, j0, j1 int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := i0; i < i1; i++ {
		for j := j0; j < j1; j++ {
			e.hits[i*e.ldc+j]++
			if math.Float32bits(e.c[i*e.ldc+j]) != math.Float32bits(e.want[i*e.ldc+j]) {
				e.wrongBits = true
			}
		}
	}
}

// TestSgemmThen checks that SgemmThen computes Sgemm's values (beta 0)
// and calls the epilogue exactly once on every element of C, after the
// element's final value is in place, whatever path and split the product
// takes.
func TestSgemmThen(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, sz := range [][3]int{{1, 5, 7}, {2, 300, 40}, {6, 784, 25}, {16, 600, 150}, {120, 64, 400}, {30, 1000, 600}, {7, 3, 2}, {96, 3136, 32}, {5, 0, 3}, {4, 9, 0}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, lda, b, ldb, c, ldc := operands(r, false, false, m, n, k, 2)
		want := append([]float32(nil), c...)
		Sgemm(false, false, m, n, k, 1, a, lda, b, ldb, 0, want, ldc)
		p := PackA(false, m, k, a, lda)
		got := append([]float32(nil), c...)
		e := &countingEpilogue{c: got, want: want, ldc: ldc, hits: make([]int, len(c))}
		p.SgemmThen(n, b, ldb, got, ldc, e)
		for i := range m {
			for j := range n {
				if h := e.hits[i*ldc+j]; h != 1 {
					t.Fatalf("m=%d n=%d k=%d: C[%d,%d] finished %d times, want once", m, n, k, i, j, h)
				}
				if math.Float32bits(got[i*ldc+j]) != math.Float32bits(want[i*ldc+j]) {
					t.Fatalf("m=%d n=%d k=%d: C[%d,%d] = %v, Sgemm gives %v", m, n, k, i, j, got[i*ldc+j], want[i*ldc+j])
				}
			}
		}
		if e.wrongBits {
			t.Errorf("m=%d n=%d k=%d: a block was finished before it held its values", m, n, k)
		}
	}
}

// TestPackedB checks that products with a packed B equal Sgemm's bit for
// bit, including B wider than one packed block and products split across
// workers.
func TestPackedB(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	// {1, 1000, 300} and {2, 1100, 300}: few rows split by columns across workers.
	for _, sz := range [][3]int{{1, 5, 7}, {2, 300, 40}, {1, 128, 300}, {2, 200, 50}, {64, 84, 120}, {7, 1500, 33}, {100, 784, 784}, {30, 2100, 300}, {5, 3, 2}, {1, 1000, 300}, {2, 1100, 300}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, transA := range []bool{false, true} {
			for _, beta := range []float32{0, 0.5} {
				a, lda, b, ldb, c, ldc := operands(r, transA, false, m, n, k, 2)
				want := append([]float32(nil), c...)
				Sgemm(transA, false, m, n, k, 0.75, a, lda, b, ldb, beta, want, ldc)
				p := PackB(k, n, b, ldb)
				for range 2 { // the packed B is reusable
					got := append([]float32(nil), c...)
					p.Sgemm(transA, m, 0.75, a, lda, beta, got, ldc)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("m=%d n=%d k=%d transA=%v beta=%v: element %d = %v, Sgemm gives %v", m, n, k, transA, beta, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestSgemmAVX512 checks that the AVX-512 kernels give the AVX2 kernel's
// results bit for bit, so that answers do not depend on the CPU: the 6x32
// and 6x16 tiles, and the narrow kernel for products at most one panel
// wide (twelve rows at a time, rows left over), with B packed and not.
func TestSgemmAVX512(t *testing.T) {
	if !HasAVX512 {
		t.Skip("the CPU has no AVX-512")
	}
	defer func(v bool) { HasAVX512 = v }(HasAVX512)
	r := rand.New(rand.NewPCG(11, 12))
	for _, sz := range [][3]int{{6, 32, 7}, {16, 600, 150}, {100, 784, 784}, {13, 70, 300}, {64, 84, 120}, {7, 1500, 33},
		{12, 10, 40}, {13, 16, 300}, {25, 1, 784}, {64, 10, 784}, {1000, 10, 784}, {37, 5, 600}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, form := range []string{"plain", "transB", "packed"} {
			for _, beta := range []float32{0, 1} {
				transB := form == "transB"
				a, lda, b, ldb, c, ldc := operands(r, false, transB, m, n, k, 1)
				run := func(avx512 bool) []float32 {
					HasAVX512 = avx512
					got := append([]float32(nil), c...)
					if form == "packed" {
						PackB(k, n, b, ldb).Sgemm(false, m, 1, a, lda, beta, got, ldc)
					} else {
						Sgemm(false, transB, m, n, k, 1, a, lda, b, ldb, beta, got, ldc)
					}
					return got
				}
				got, want := run(true), run(false)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("m=%d n=%d k=%d %s beta=%v: element %d = %v with AVX-512, %v with AVX2", m, n, k, form, beta, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestPackA6 checks the vector packing of full panels of A against the
// definition of the layout, for depths around the vector width.
func TestPackA6(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, k := range []int{1, 7, 8, 9, 16, 23, 256} {
		lda := k + 3
		a := randSlice(r, 6*lda)
		g := gemm{m: 6, k: k, alpha: 1, a: a, lda: lda}
		got := make([]float32, 6*k)
		g.packA(got, 0, 6, 0, k)
		for p := range k {
			for i := range 6 {
				if got[6*p+i] != a[i*lda+p] {
					t.Fatalf("k=%d: panel[%d] = %v, want A[%d][%d] = %v", k, 6*p+i, got[6*p+i], i, p, a[i*lda+p])
				}
			}
		}
	}
}
