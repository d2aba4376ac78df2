package kernel

// rows computes C += alpha*op(A)*B for B not transposed (C has already been
// scaled by beta; with overwrite, C is set instead) without packing, one row of C at a time with axpys over
// the rows of B. Each element is summed in the micro-kernel's order: k in
// blocks of kc, each block summed from zero one multiply-add at a time
// (fused with AVX2) and then added to C. So a row of C comes out the same
// whichever path computes it, and does not depend on m or on the other
// rows.
//
// It computes columns [c0, c1) of C (c0 a multiple of nr).
func (g *gemm) rows(overwrite bool, c0, c1 int) {
	buf := packBufs.get()
	defer packBufs.put(buf)
	for j0 := c0; j0 < c1; {
		w := min(roundUp(j0+1, nc)-j0, c1-j0) // within one packed block of B
		t := buf.b[:w]
		for i := range g.m {
			crow := g.c[i*g.ldc+j0 : i*g.ldc+j0+w]
			for pc := 0; pc < g.k; pc += kc {
				kcb := min(kc, g.k-pc)
				av := buf.a[:kcb] // the coefficients of the rows of B
				for p := range av {
					av[p] = g.alpha * g.at(i, pc+p)
				}
				// For a narrow C, 64 columns at a time in registers (reading
				// B in strips); then, and for a wide C, axpys (reading B row
				// after row, which streams better when the rows are long).
				j := 0
				if g.packedB != nil && w <= 256 {
					// Packed panels: four contiguous streams.
					panels := g.packedB.block(pc, j0)
					for ; j+64 <= w && gemvPanels(av, panels[j*kcb:], kcb*nr, t[j:j+64]); j += 64 {
					}
				}
				for ; w <= 256 && j+64 <= w && gemv64(av, g.b[pc*g.ldb+j0+j:], g.ldb, t[j:j+64]); j += 64 {
				}
				if g.packedB != nil && w-j < 64 {
					// The last panels, one at a time (zero-padded to nr).
					panels := g.packedB.block(pc, j0)
					var last [nr]float32
					for ; j < w && gemvPanel(av, panels[j*kcb:][:kcb*nr], last[:]); j += nr {
						copy(t[j:], last[:min(nr, w-j)])
					}
				}
				if j < w {
					clear(t[j:])
					for p, a := range av {
						Axpy(a, g.b[(pc+p)*g.ldb+j0+j:][:w-j], t[j:])
					}
				}
				if overwrite && pc == 0 {
					copy(crow, t)
					continue
				}
				for j, v := range t {
					crow[j] += v
				}
			}
		}
		j0 += w
	}
}

// dots computes C += alpha*A*B^T (C has already been scaled by beta)
// for a C of few rows without packing: a dot product per element.
func (g *gemm) dots() {
	for i := range g.m {
		arow := g.a[i*g.lda : i*g.lda+g.k]
		crow := g.c[i*g.ldc : i*g.ldc+g.n]
		for j := range crow {
			crow[j] += g.alpha * Dot(arow, g.b[j*g.ldb:j*g.ldb+g.k])
		}
	}
}
