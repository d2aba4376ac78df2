package kernel

// smallM computes C += alpha*op(A)*op(B) for a C of few rows (C has
// already been scaled by beta) without packing: each row of C is a series
// of axpys over the rows of B, or, for a transposed B (and A not
// transposed, which the caller ensures), a dot product per element.
func (g *gemm) smallM() {
	if !g.transB {
		for i := range g.m {
			crow := g.c[i*g.ldc : i*g.ldc+g.n]
			for p := range g.k {
				Axpy(g.alpha*g.at(i, p), g.b[p*g.ldb:p*g.ldb+g.n], crow)
			}
		}
		return
	}
	for i := range g.m {
		arow := g.a[i*g.lda : i*g.lda+g.k]
		crow := g.c[i*g.ldc : i*g.ldc+g.n]
		for j := range crow {
			crow[j] += g.alpha * Dot(arow, g.b[j*g.ldb:j*g.ldb+g.k])
		}
	}
}
