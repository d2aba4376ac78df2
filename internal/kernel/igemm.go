package kernel

import "sync"

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

// The tile of the integer kernel: GemmInt16Packed computes C in tiles of
// imr rows (one panel of packed A) by inr columns.
const (
	imr = 6
	inr = 16
)

// Int16PanelRows is the rows of a panel of packed A: GemmInt16Packed can
// multiply the rows of A from any multiple of it, packed from offset
// PackedInt16Len(that row, k).
const Int16PanelRows = imr

// PackedInt16Len returns the length of PackInt16A's output for an m x k A.
func PackedInt16Len(m, k int) int { return ceilDiv(m, imr) * ceilDiv(k, 2) * imr }

// PackInt16A packs the m x k matrix a (rows lda apart, values as for
// GemmInt16) for GemmInt16Packed into dst, grown as needed, and returns
// it: panels of imr rows (the last padded with zero rows), each holding
// for every pair of k steps p, p+1 the imr int32 words (a[r][p] in the low
// half, a[r][p+1] in the high half, zero past k) that the kernel
// broadcasts. Constant operands (weights) are packed once.
func PackInt16A(dst []int32, m, k int, a []int16, lda int) []int32 {
	return packA(dst, m, k, a, lda, 0)
}

// Pack8A is PackInt16A for 8-bit values less the zero point zp, shifted
// as they are packed: A = a - zp.
func Pack8A[T uint8 | int8](dst []int32, m, k int, a []T, lda int, zp int16) []int32 {
	return packA(dst, m, k, a, lda, zp)
}

// packA is PackInt16A of a - zp.
func packA[T int16 | uint8 | int8](dst []int32, m, k int, a []T, lda int, zp int16) []int32 {
	if m > 0 && k > 0 {
		_ = a[(m-1)*lda+k-1]
	}
	n := PackedInt16Len(m, k)
	if cap(dst) < n {
		dst = make([]int32, n)
	}
	dst = dst[:n]
	kp := ceilDiv(k, 2)
	var rows [imr][]T
	for i0 := 0; i0 < m; i0 += imr {
		panel := dst[(i0/imr)*kp*imr : (i0/imr+1)*kp*imr]
		rs := min(imr, m-i0)
		for r := range rs {
			rows[r] = a[(i0+r)*lda : (i0+r)*lda+k]
		}
		if rs == imr {
			packPairs6(panel, &rows, k/2, zp)
		} else { // the last rows: zeros past m
			clear(panel)
			for r := range rs {
				for p := range k / 2 {
					panel[p*imr+r] = pair(rows[r][2*p], rows[r][2*p+1], zp)
				}
			}
		}
		if k%2 == 1 { // the last step pairs with zero
			for r := range rs {
				panel[(kp-1)*imr+r] = int32(uint16(int16(rows[r][k-1]) - zp))
			}
		}
	}
	return dst
}

// packPairs6 writes the first pairs words of six rows to a full panel, in
// the panel's order (a row at a time would sweep the panel six times).
func packPairs6[T int16 | uint8 | int8](panel []int32, rows *[imr][]T, pairs int, zp int16) {
	r0, r1, r2, r3, r4, r5 := rows[0][:2*pairs], rows[1][:2*pairs], rows[2][:2*pairs], rows[3][:2*pairs], rows[4][:2*pairs], rows[5][:2*pairs]
	for p := range pairs {
		w := panel[p*imr : p*imr+imr : p*imr+imr]
		q := 2 * p
		w[0] = pair(r0[q], r0[q+1], zp)
		w[1] = pair(r1[q], r1[q+1], zp)
		w[2] = pair(r2[q], r2[q+1], zp)
		w[3] = pair(r3[q], r3[q+1], zp)
		w[4] = pair(r4[q], r4[q+1], zp)
		w[5] = pair(r5[q], r5[q+1], zp)
	}
}

// pair is the packed word of lo and hi less zp: lo in the low half.
func pair[T int16 | uint8 | int8](lo, hi T, zp int16) int32 {
	return int32(uint32(uint16(int16(lo)-zp)) | uint32(uint16(int16(hi)-zp))<<16)
}

// GemmInt16Slack is how many values past B's last row GemmInt16Packed
// reads, when b holds them, to multiply B's last columns in place (else it
// copies them).
const GemmInt16Slack = inr

// GemmInt16Packed is GemmInt16 with A packed by PackInt16A, giving the
// same results bit for bit: C (m x n, rows ldc apart) = A*B, B (k x n,
// rows ldb apart) read in place. It runs imr x inr tiles on the AVX2
// kernel when the CPU has it (igemmTileGo otherwise), the last ones
// storing only C's rows and columns. A last partial column of tiles reads
// inr columns of B, past n on each row: in place when b has
// GemmInt16Slack values to spare, else from a zero-padded copy.
func GemmInt16Packed(m, n, k int, pa []int32, b []int16, ldb int, c []int32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if len(pa) < PackedInt16Len(m, k) || (k > 0 && len(b) < (k-1)*ldb+n) || len(c) < (m-1)*ldc+n {
		panic("kernel: GemmInt16Packed: an operand is too short for its size")
	}
	if k == 0 {
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	full := n - n%inr
	bt, ldt := b[min(full, len(b)):], ldb // the last partial column of tiles
	if full < n && len(bt) < (k-1)*ldb+inr {
		s := igemmScratchPool.Get().(*[]int16)
		defer igemmScratchPool.Put(s)
		bt, ldt = growInt16(s, k*inr), inr
		for p := range k {
			row := bt[p*inr : (p+1)*inr]
			clear(row[copy(row, b[p*ldb+full:p*ldb+n]):])
		}
	}
	kp := ceilDiv(k, 2)
	for i0 := 0; i0 < m; i0 += imr {
		a := pa[(i0/imr)*kp*imr : (i0/imr+1)*kp*imr]
		rows := min(imr, m-i0)
		for j0 := 0; j0 < full; j0 += inr {
			igemmTile(k, a, b[j0:], ldb, c[i0*ldc+j0:], ldc, rows, inr)
		}
		if full < n {
			igemmTile(k, a, bt, ldt, c[i0*ldc+full:], ldc, rows, n-full)
		}
	}
}

// igemmScratchPool holds GemmInt16Packed's copies of B's last columns.
var igemmScratchPool = sync.Pool{New: func() any { return new([]int16) }}

// growInt16 returns *s resized to n, reallocated when too small.
func growInt16(s *[]int16, n int) []int16 {
	if cap(*s) < n {
		*s = make([]int16, n)
	}
	return (*s)[:n]
}

// igemmMasks gives the VPMASKMOVD masks of the AVX2 kernel: from
// igemmMasks[inr-cols], -1 for the first cols columns of a tile.
var igemmMasks = [2 * inr]int32{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}

// igemmTileGo is the pure-Go form of the AVX2 tile kernel: the first
// rows x cols of the imr x inr tile at c (rows ldc apart) set to the
// packed panel a times the k x inr matrix at b (rows ldb apart), summed in
// wrapping int32.
func igemmTileGo(k int, a []int32, b []int16, ldb int, c []int32, ldc, rows, cols int) {
	var acc [imr][inr]int32
	for p := 0; p < k; p += 2 {
		b0 := b[p*ldb : p*ldb+inr]
		b1 := b0 // the odd last step: its A high halves are zero
		if p+1 < k {
			b1 = b[(p+1)*ldb : (p+1)*ldb+inr]
		}
		w := a[(p/2)*imr : (p/2+1)*imr]
		for r := range acc {
			a0, a1 := int32(int16(w[r])), int32(w[r]>>16)
			for j := range acc[r] {
				acc[r][j] += a0*int32(b0[j]) + a1*int32(b1[j])
			}
		}
	}
	for r := range rows {
		copy(c[r*ldc:r*ldc+cols], acc[r][:cols])
	}
}

// GemmInt16PackedOffsets is GemmInt16Packed with row p of B at
// src[offs[p]:][:n]: a convolution's wide im2col matrix read in place
// from its padded input (ConvGeom.WideInput, WideOffsets). Each offset
// must have TileCols(n) values of src from it.
func GemmInt16PackedOffsets(m, n, k int, pa []int32, src []int16, offs []int32, c []int32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if len(pa) < PackedInt16Len(m, k) || len(offs) < k || len(c) < (m-1)*ldc+n {
		panic("kernel: GemmInt16PackedOffsets: an operand is too short for its size")
	}
	for _, o := range offs[:k] {
		if o < 0 || int(o)+TileCols(n) > len(src) {
			panic("kernel: GemmInt16PackedOffsets: an offset is out of src")
		}
	}
	if k == 0 {
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	kp := ceilDiv(k, 2)
	for i0 := 0; i0 < m; i0 += imr {
		a := pa[(i0/imr)*kp*imr : (i0/imr+1)*kp*imr]
		for j0 := 0; j0 < n; j0 += inr {
			igemmTileOffsets(k, a, src[j0:], offs, c[i0*ldc+j0:], ldc, min(imr, m-i0), min(inr, n-j0))
		}
	}
}

// igemmTileOffsetsGo is igemmTileGo with row p of B at b[offs[p]:].
func igemmTileOffsetsGo(k int, a []int32, b []int16, offs []int32, c []int32, ldc, rows, cols int) {
	var acc [imr][inr]int32
	for p := 0; p < k; p += 2 {
		b0 := b[offs[p] : int(offs[p])+inr]
		b1 := b0 // the odd last step: its A high halves are zero
		if p+1 < k {
			b1 = b[offs[p+1] : int(offs[p+1])+inr]
		}
		w := a[(p/2)*imr : (p/2+1)*imr]
		for r := range acc {
			a0, a1 := int32(int16(w[r])), int32(w[r]>>16)
			for j := range acc[r] {
				acc[r][j] += a0*int32(b0[j]) + a1*int32(b1[j])
			}
		}
	}
	for r := range rows {
		copy(c[r*ldc:r*ldc+cols], acc[r][:cols])
	}
}
