package kernel

// Dot returns the sum of x[i]*y[i] for i < len(x); y must be at least as
// long as x.
func Dot(x, y []float32) float32 {
	y = y[:len(x)]
	n := dotVec(x, y)
	var s float32
	if n > 0 {
		s = dotAVX2Call(x, y, n)
	}
	for i := n; i < len(x); i++ {
		s += x[i] * y[i]
	}
	return s
}

// Axpy sets y[i] += a*x[i] for i < len(x); y must be at least as long as x.
func Axpy(a float32, x, y []float32) {
	y = y[:len(x)]
	n := axpyVec(a, x, y)
	for i := n; i < len(x); i++ {
		y[i] += a * x[i]
	}
}

// smallM computes C += alpha*op(A)*op(B) for a C of few rows (C has
// already been scaled by beta) without packing: each row of C is a series
// of axpys over the rows of B, or, for a transposed B, a dot product per
// element. It reports false when the shapes do not suit it.
func (g *gemm) smallM() bool {
	switch {
	case !g.transB && g.m <= 8:
		for i := range g.m {
			crow := g.c[i*g.ldc : i*g.ldc+g.n]
			for p := range g.k {
				Axpy(g.alpha*g.at(i, p), g.b[p*g.ldb:p*g.ldb+g.n], crow)
			}
		}
		return true
	case g.transB && !g.transA && g.m <= 4:
		for i := range g.m {
			arow := g.a[i*g.lda : i*g.lda+g.k]
			crow := g.c[i*g.ldc : i*g.ldc+g.n]
			for j := range crow {
				crow[j] += g.alpha * Dot(arow, g.b[j*g.ldb:j*g.ldb+g.k])
			}
		}
		return true
	}
	return false
}
