package kernel

// GemmInt16 sets C (m x n, rows ldc apart) to A*B, with A (m x k, rows lda
// apart) and B (k x n, rows ldb apart) holding 8-bit values minus their zero
// points (so in [-255, 255], and every product fits an int32 exactly). The
// sums are accumulated in int32 and wrap around on overflow, as the ONNX
// integer ops allow.
func GemmInt16(m, n, k int, a []int16, lda int, b []int16, ldb int, c []int32, ldc int) {
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		clear(ci)
		ai := a[i*lda : i*lda+k]
		p := 0
		for ; p+2 <= k; p += 2 { // two rows of B per pass over C's row
			a0, a1 := int32(ai[p]), int32(ai[p+1])
			if a0 == 0 && a1 == 0 {
				continue
			}
			b0, b1 := b[p*ldb:p*ldb+n], b[(p+1)*ldb:(p+1)*ldb+n]
			for j := range ci {
				ci[j] += a0*int32(b0[j]) + a1*int32(b1[j])
			}
		}
		if p < k {
			a0 := int32(ai[p])
			b0 := b[p*ldb : p*ldb+n]
			for j := range ci {
				ci[j] += a0 * int32(b0[j])
			}
		}
	}
}
