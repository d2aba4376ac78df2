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
