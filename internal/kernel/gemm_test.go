package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refGemm is the textbook triple loop in float64: the reference.
func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
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

func checkGemm(t *testing.T, transA, transB bool, m, n, k, pad int, alpha, beta float32) {
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
				t.Fatalf("Sgemm(%v,%v, m=%d n=%d k=%d pad=%d alpha=%v beta=%v): C[%d,%d] = %v, want %v",
					transA, transB, m, n, k, pad, alpha, beta, i, j, got, w)
			}
		}
	}
}

func TestSgemmOddSizes(t *testing.T) {
	for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		for m := 1; m <= 33; m += 4 {
			for n := 1; n <= 33; n += 3 {
				for _, k := range []int{1, 7, 33} {
					checkGemm(t, tr[0], tr[1], m, n, k, (m+n)%3, 1, 0)
				}
			}
		}
	}
}

func TestSgemmLarge(t *testing.T) {
	sizes := [][3]int{{100, 784, 784}, {6, 12544, 25}, {120, 16, 400}, {97, 1100, 300}, {13, 2049, 517}}
	for _, s := range sizes {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			t.Run(fmt.Sprintf("%dx%dx%d/%v", s[0], s[1], s[2], tr), func(t *testing.T) {
				checkGemm(t, tr[0], tr[1], s[0], s[1], s[2], 1, 1, 0)
			})
		}
	}
}

func TestSgemmAlphaBeta(t *testing.T) {
	for _, ab := range [][2]float32{{1, 1}, {0.5, 0}, {-2, 0.25}, {0, 3}, {1.5, -1}} {
		checkGemm(t, false, true, 37, 45, 29, 2, ab[0], ab[1])
		checkGemm(t, true, false, 64, 200, 300, 0, ab[0], ab[1])
	}
}

func TestSgemmNaN(t *testing.T) {
	for _, size := range []int{3, 40} { // naive and packed paths
		m, n, k := size, size, size
		a, b := make([]float32, m*k), make([]float32, k*n)
		b[0] = float32(math.NaN()) // row 0, column 0 of B
		c := make([]float32, m*n)
		for i := range c {
			c[i] = float32(math.NaN()) // beta = 0: never read
		}
		Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		// 0 * NaN is NaN: every C[i][0] is NaN, the rest 0.
		for i := range m {
			for j := range n {
				if got := c[i*n+j]; math.IsNaN(float64(got)) != (j == 0) {
					t.Fatalf("size %d: C[%d,%d] = %v, want NaN only in column 0", size, i, j, got)
				}
			}
		}
	}
}

// The assembly micro-kernel and the Go one agree.
func TestMicroKernels(t *testing.T) {
	if !HasAVX2 {
		t.Skip("no AVX2/FMA kernel in this build")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{0, 1, 2, 17, 256} {
		a, b := randSlice(r, k*mr+1), randSlice(r, k*nr+1)
		c1 := randSlice(r, mr*20)
		c2 := append([]float32(nil), c1...)
		microKernel(k, a, b, c1, 20)
		microKernelGo(k, a, b, c2, 20)
		for i := range c1 {
			if d := math.Abs(float64(c1[i] - c2[i])); d > 1e-5*float64(k+1) {
				t.Fatalf("k=%d: asm c[%d] = %v, Go %v", k, i, c1[i], c2[i])
			}
		}
	}
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range [][3]int{{100, 784, 784}, {6, 12544, 25}, {16, 1600, 150}, {120, 16, 400}, {256, 256, 256}} {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			a, bb, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
			b.ReportAllocs()
			for b.Loop() {
				Sgemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
