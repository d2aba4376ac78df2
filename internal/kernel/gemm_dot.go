package kernel

// The dot-product path, for C = A*B^T (A and B both contiguous along k)
// when C is small and k long, as in a convolution's weight gradient
// ([outC x n] times [n x inC*kh*kw] with n = batch*outH*outW): there each
// packed panel would be used once or twice, so packing would cost more than
// the product. C is computed in 3x3 tiles of dot products, each kept as 9
// vectors of 8 partial sums, with k blocked so that the rows in use stay in
// cache.

// dotKC is the length of the k blocks of the dot path.
const dotKC = 2048

// useDot reports whether the dot path suits g (with the AVX2 kernel: the
// plain Go one is slower than packing).
func (g *gemm) useDot() bool {
	return HasAVX2 && !g.transA && g.transB && g.m >= 3 && g.n >= 3 && g.k >= 256 && g.m*g.n <= 4096
}

// dotBlock adds alpha*A*B^T to rows [i0, i1) and columns [j0, j1) of C,
// where i1 >= 3 and j1 >= 3: a tile that would run past i1 (or j1) is
// moved back to end there, reading rows of the block before (valid rows
// of A or B) whose results it drops.
func (g *gemm) dotBlock(i0, i1, j0, j1 int) {
	buf := packBufs.get()
	defer packBufs.put(buf)
	tm, tn := (i1-i0+2)/3, (j1-j0+2)/3
	accs := buf.b[:tm*tn*72]
	clear(accs)
	// tileStart returns where the tile starting at s in [lo, hi) really
	// starts.
	tileStart := func(s, hi int) int { return min(s, hi-3) }
	k8 := g.k &^ 7
	for pc := 0; pc < k8; pc += dotKC {
		kcb := min(dotKC, k8-pc)
		for ti := range tm {
			ia := tileStart(i0+3*ti, i1)
			a := g.a[ia*g.lda+pc : (ia+2)*g.lda+pc+kcb]
			for tj := range tn {
				jb := tileStart(j0+3*tj, j1)
				b := g.b[jb*g.ldb+pc : (jb+2)*g.ldb+pc+kcb]
				dotTile(kcb, a, g.lda, b, g.ldb, (*[72]float32)(accs[(ti*tn+tj)*72:]))
			}
		}
	}
	for ti := range tm {
		s := i0 + 3*ti
		ia := tileStart(s, i1)
		for tj := range tn {
			t := j0 + 3*tj
			jb := tileStart(t, j1)
			acc := accs[(ti*tn+tj)*72:][:72]
			for r := range 3 {
				i := ia + r
				if i < s {
					continue // another tile's row
				}
				arow := g.a[i*g.lda : i*g.lda+g.k]
				for q := range 3 {
					j := jb + q
					if j < t {
						continue
					}
					lanes := acc[(r*3+q)*8:][:8]
					sum := ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
					brow := g.b[j*g.ldb : j*g.ldb+g.k]
					for p := k8; p < g.k; p++ {
						sum += arow[p] * brow[p]
					}
					if g.overwrite {
						g.c[i*g.ldc+j] = g.alpha * sum
					} else {
						g.c[i*g.ldc+j] += g.alpha * sum
					}
				}
			}
		}
	}
}

// dotTileGo is the plain Go dot-product tile: acc[(i*3+j)*8+p%8] +=
// a[i*lda+p]*b[j*ldb+p] for i, j < 3 and p < k, k a multiple of 8.
func dotTileGo(k int, a []float32, lda int, b []float32, ldb int, acc *[72]float32) {
	for i := range 3 {
		arow := a[i*lda : i*lda+k]
		for j := range 3 {
			brow := b[j*ldb : j*ldb+k]
			s := (*[8]float32)(acc[(i*3+j)*8:])
			for p := 0; p < k; p += 8 {
				ab, bb := arow[p:p+8], brow[p:p+8]
				for l := range 8 {
					s[l] += ab[l] * bb[l]
				}
			}
		}
	}
}
