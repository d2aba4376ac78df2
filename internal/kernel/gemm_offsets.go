package kernel

// TileRows and TileCols round the rows and columns of a product up to
// whole tiles of the matrix kernel, as SgemmOffsets writes them.
func TileRows(m int) int { return roundUp(max(m, 0), mr) }
func TileCols(n int) int { return roundUp(max(n, 0), nr) }

// SgemmOffsets sets C = A·B for the packed A (m x k) and the k x n matrix
// B whose row p is src[offs[p]:][:n]: a B given by where its rows start,
// such as a convolution's im2col matrix over its input (see
// ConvGeom.WideOffsets), read in place instead of copied.
//
// It computes whole tiles: C has TileRows(m) rows, ldc >= TileCols(n)
// apart, and src holds TileCols(n) values from every offset. The rows
// past m and the columns past n receive whatever the padding of A and the
// values of src past each row of B give. Every element of the m x n
// product is what Sgemm gives it, bit for bit. It runs on the calling
// goroutine, and panics when an operand is too short for its sizes.
func (p *PackedA) SgemmOffsets(n int, src []float32, offs []int32, c []float32, ldc int) {
	p.SgemmOffsetsCols(n, src, offs, c, ldc, 0, TileCols(n))
}

// OffsetsColStep is the granularity of SgemmOffsetsCols' column ranges.
const OffsetsColStep = 2 * nr

// SgemmOffsetsCols is SgemmOffsets for the columns [j0, j1) of C only: j0
// a multiple of OffsetsColStep, and j1 too or TileCols(n). The columns'
// values are those SgemmOffsets gives, bit for bit, so that workers can
// share out one product.
func (p *PackedA) SgemmOffsetsCols(n int, src []float32, offs []int32, c []float32, ldc int, j0, j1 int) {
	if p.m == 0 || n <= 0 {
		return
	}
	w, h := TileCols(n), TileRows(p.m)
	if j0 < 0 || j0%OffsetsColStep != 0 || j1 > w || j1 != w && j1%OffsetsColStep != 0 || j0 > j1 {
		panic("kernel: SgemmOffsetsCols: columns not on whole pairs of tiles")
	}
	if ldc < w || len(c) < (h-1)*ldc+w {
		panic("kernel: SgemmOffsets: C is too short for its size and stride")
	}
	if len(offs) != p.k {
		panic("kernel: SgemmOffsets: want one offset per row of B")
	}
	for _, o := range offs {
		if o < 0 || int(o)+w > len(src) {
			panic("kernel: SgemmOffsets: a row of B runs past the end of src")
		}
	}
	if p.k == 0 {
		for i := range h {
			clear(c[i*ldc+j0 : i*ldc+j1])
		}
		return
	}
	for pc := 0; pc < p.k; pc += kc {
		kcb := min(kc, p.k-pc)
		ob, ablk := offs[pc:pc+kcb], p.block(pc, 0)
		for jp := j0; jp < j1; {
			pair := jp+2*nr <= j1
			for ip := 0; ip < h; ip += mr {
				ap, ct := ablk[ip*kcb:ip*kcb+kcb*mr], c[ip*ldc+jp:]
				if pair {
					microKernelOffsetsPair(kcb, ap, src[jp:], ob, ct, ldc, pc == 0)
				} else {
					microKernelOffsets(kcb, ap, src[jp:], ob, ct, ldc, pc == 0)
				}
			}
			if pair {
				jp += 2 * nr
			} else {
				jp += nr
			}
		}
	}
}
