package kernel

import (
	"math/rand/v2"
	"testing"
)

// TestGemmInt16 checks GemmInt16 against a direct triple loop with int64
// sums wrapped to int32, on random and extreme values (±255, where long
// sums overflow int32) and row strides wider than the matrices.
func TestGemmInt16(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		m, n, k int
		extreme bool
	}{{1, 1, 1, false}, {3, 5, 7, false}, {4, 17, 33, false}, {2, 3, 40000, true}, {5, 9, 1, true}} {
		lda, ldb, ldc := tc.k+1, tc.n+2, tc.n+3
		a := make([]int16, tc.m*lda)
		b := make([]int16, tc.k*ldb)
		for i := range a {
			a[i] = int16(r.IntN(511) - 255)
			if tc.extreme {
				a[i] = 255
			}
		}
		for i := range b {
			b[i] = int16(r.IntN(511) - 255)
			if tc.extreme {
				b[i] = 255
			}
		}
		c := make([]int32, tc.m*ldc)
		for i := range c {
			c[i] = -7 // overwritten, not accumulated
		}
		GemmInt16(tc.m, tc.n, tc.k, a, lda, b, ldb, c, ldc)
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				var s int64
				for p := 0; p < tc.k; p++ {
					s += int64(a[i*lda+p]) * int64(b[p*ldb+j])
				}
				if got, want := c[i*ldc+j], int32(s); got != want {
					t.Fatalf("GemmInt16 %dx%dx%d: C[%d,%d] = %d, want %d", tc.m, tc.n, tc.k, i, j, got, want)
				}
			}
		}
	}
}

// TestGemmInt16Packed checks GemmInt16Packed, on the AVX2 kernel where the
// CPU has it and on igemmTileGo, against GemmInt16 bit for bit: random
// sizes with odd k, partial tiles, wide strides, and ±255 values whose
// long sums wrap int32.
func TestGemmInt16Packed(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	type size struct{ m, n, k int }
	sizes := []size{{1, 1, 1}, {6, 16, 2}, {6, 16, 1}, {7, 17, 3}, {12, 32, 25}, {16, 576, 25}, {5, 15, 150}, {13, 50, 0}, {3, 40, 40001}}
	for range 40 {
		sizes = append(sizes, size{1 + r.IntN(20), 1 + r.IntN(60), 1 + r.IntN(80)})
	}
	avx2 := HasAVX2
	defer func() { HasAVX2 = avx2 }()
	for _, sz := range sizes {
		for _, extreme := range []bool{false, true} {
			m, n, k := sz.m, sz.n, sz.k
			lda, ldb, ldc := k+r.IntN(3), n+r.IntN(5), n+r.IntN(4)
			a, b := make([]int16, m*lda), make([]int16, k*ldb)
			fill := func(x []int16, sign int16) {
				for i := range x {
					x[i] = int16(r.IntN(511) - 255)
					if extreme {
						x[i] = 255 * sign
					}
				}
			}
			fill(a, 1)
			fill(b, int16(1-2*r.IntN(2)))
			want := make([]int32, m*ldc)
			GemmInt16(m, n, k, a, lda, b, ldb, want, ldc)
			pa := PackInt16A(nil, m, k, a, lda)
			// B as it is, and with slack past its end (values to ignore).
			slack := append(append([]int16(nil), b...), make([]int16, GemmInt16Slack)...)
			for i := len(b); i < len(slack); i++ {
				slack[i] = int16(r.IntN(511) - 255)
			}
			for _, asm := range []bool{avx2, false} {
				for _, bb := range [][]int16{b, slack} {
					HasAVX2 = asm
					got := make([]int32, (m+imr)*ldc) // rows past m to check
					for i := range got {
						got[i] = -7
					}
					GemmInt16Packed(m, n, k, pa, bb, ldb, got, ldc)
					for i := range m + imr {
						for j := range ldc {
							g, w := got[i*ldc+j], int32(-7) // untouched past the matrix
							if i < m && j < n {
								w = want[i*ldc+j]
							}
							if g != w {
								t.Fatalf("GemmInt16Packed %dx%dx%d (AVX2 %v, extreme %v, B slack %v): C[%d,%d] = %d, want %d", m, n, k, asm, extreme, len(bb) > len(b), i, j, g, w)
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkGemmInt16Packed times LeNet5's second convolution (16 x 150
// weights by 150 x 64 columns) on the integer kernel.
func BenchmarkGemmInt16Packed(b *testing.B) {
	m, n, k := 16, 64, 150
	a, x, c := make([]int16, m*k), make([]int16, k*n), make([]int32, m*n)
	pa := PackInt16A(nil, m, k, a, k)
	for b.Loop() {
		GemmInt16Packed(m, n, k, pa, x, n, c, n)
	}
}

// TestPack8A checks Pack8A against PackInt16A of the shifted values.
func TestPack8A(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, sz := range [][3]int{{1, 1, 1}, {7, 5, 9}, {12, 3, 40}, {5, 0, 1}} {
		m, k, lda := sz[0], sz[1], sz[1]+sz[2]%3
		u := make([]uint8, m*lda)
		s16 := make([]int16, len(u))
		for i := range u {
			u[i] = uint8(r.Uint32())
			s16[i] = int16(u[i]) - 131
		}
		got, want := Pack8A(nil, m, k, u, lda, 131), PackInt16A(nil, m, k, s16, lda)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("Pack8A %dx%d: word %d = %#x, want %#x", m, k, i, got[i], want[i])
			}
		}
	}
}

// TestGemmInt16PackedOffsets checks GemmInt16PackedOffsets, on the AVX2
// kernel where the CPU has it and on the pure-Go tile, against GemmInt16
// on the B its offsets describe.
func TestGemmInt16PackedOffsets(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	avx2 := HasAVX2
	defer func() { HasAVX2 = avx2 }()
	for range 30 {
		m, n, k := 1+r.IntN(14), 1+r.IntN(50), 1+r.IntN(40)
		src := make([]int16, 300)
		for i := range src {
			src[i] = int16(r.IntN(511) - 255)
		}
		offs := make([]int32, k)
		b := make([]int16, k*n)
		for p := range offs {
			offs[p] = int32(r.IntN(len(src) - TileCols(n) + 1))
			copy(b[p*n:(p+1)*n], src[offs[p]:])
		}
		a := make([]int16, m*k)
		for i := range a {
			a[i] = int16(r.IntN(511) - 255)
		}
		want := make([]int32, m*n)
		GemmInt16(m, n, k, a, k, b, n, want, n)
		pa := PackInt16A(nil, m, k, a, k)
		for _, asm := range []bool{avx2, false} {
			HasAVX2 = asm
			got := make([]int32, (m+imr)*n)
			for i := range got {
				got[i] = -7
			}
			GemmInt16PackedOffsets(m, n, k, pa, src, offs, got, n)
			for i, g := range got {
				w := int32(-7)
				if i < m*n {
					w = want[i]
				}
				if g != w {
					t.Fatalf("GemmInt16PackedOffsets %dx%dx%d (AVX2 %v): C[%d] = %d, want %d", m, n, k, asm, i, g, w)
				}
			}
		}
	}
}
