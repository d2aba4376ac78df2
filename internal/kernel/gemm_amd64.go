//go:build !noasm

package kernel

import (
	"math/bits"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// HasAVX2 reports whether the AVX2/FMA kernels are in use.
var HasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// HasAVX512 reports whether the AVX-512 matrix kernel is in use; it gives
// the AVX2 kernel's results bit for bit, twice as wide.
var HasAVX512 = HasAVX2 && cpu.X86.HasAVX512F

// microKernelPair is microKernel over two B panels side by side: the 6x32
// tile at c (the second panel's columns from c[nr]).
func microKernelPair(k int, a, b0, b1 []float32, ldb int, c []float32, ldc int, overwrite bool) {
	if k <= 0 {
		return
	}
	if !HasAVX512 {
		microKernel(k, a, b0, ldb, c, ldc, overwrite)
		microKernel(k, a, b1, ldb, c[nr:], ldc, overwrite)
		return
	}
	_ = a[k*mr-1]
	_ = b0[(k-1)*ldb+nr-1]
	_ = b1[(k-1)*ldb+nr-1]
	_ = c[(mr-1)*ldc+2*nr-1]
	sgemmKernelAVX512(k, &a[0], &b0[0], &b1[0], ldb, &c[0], ldc, overwrite)
}

// microKernelNarrow runs the narrow AVX-512 kernel (see gemm.narrow),
// which Sgemm uses only when the CPU has AVX-512.
func microKernelNarrow(k int, a []float32, lda int, b []float32, c []float32, ldc int, mask uint16, overwrite bool) {
	if k <= 0 {
		return
	}
	_ = a[(narrowRows-1)*lda+k-1]
	_ = b[k*nr-1]
	_ = c[(narrowRows-1)*ldc+bits.Len16(mask)-1]
	sgemmKernelNarrowAVX512(k, &a[0], lda, &b[0], &c[0], ldc, mask, overwrite)
}

// microKernel runs the AVX2/FMA kernel when the CPU has it.
func microKernel(k int, a, b []float32, ldb int, c []float32, ldc int, overwrite bool) {
	if k <= 0 {
		return
	}
	if !HasAVX2 {
		microKernelGo(k, a, b, ldb, c, ldc, overwrite)
		return
	}
	_ = a[k*mr-1]
	_ = b[(k-1)*ldb+nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	if HasAVX512 {
		sgemmKernelSingleAVX512(k, &a[0], &b[0], ldb, &c[0], ldc, overwrite)
		return
	}
	sgemmKernelAVX2(k, &a[0], &b[0], ldb, &c[0], ldc, overwrite)
}

// microKernelOffsets is microKernel with row p of the B panel at
// b[offs[p]:]. The caller has checked that b holds nr values from each of
// offs[:k].
func microKernelOffsets(k int, a, b []float32, offs []int32, c []float32, ldc int, overwrite bool) {
	if k <= 0 {
		return
	}
	if !HasAVX2 {
		microKernelOffsetsGo(k, a, b, offs, c, ldc, overwrite)
		return
	}
	_ = a[k*mr-1]
	_ = offs[k-1]
	_ = c[(mr-1)*ldc+nr-1]
	if HasAVX512 {
		sgemmKernelOffsetsSingleAVX512(k, &a[0], &b[0], &offs[0], &c[0], ldc, overwrite)
		return
	}
	sgemmKernelOffsetsAVX2(k, &a[0], &b[0], &offs[0], &c[0], ldc, overwrite)
}

// microKernelOffsetsPair is microKernelOffsets over two panels side by
// side: the 6x32 tile at c, b holding 2*nr values from each offset.
func microKernelOffsetsPair(k int, a, b []float32, offs []int32, c []float32, ldc int, overwrite bool) {
	if k <= 0 {
		return
	}
	if !HasAVX512 {
		microKernelOffsets(k, a, b, offs, c, ldc, overwrite)
		microKernelOffsets(k, a, b[nr:], offs, c[nr:], ldc, overwrite)
		return
	}
	_ = a[k*mr-1]
	_ = offs[k-1]
	_ = c[(mr-1)*ldc+2*nr-1]
	sgemmKernelOffsetsAVX512(k, &a[0], &b[0], &offs[0], &c[0], ldc, overwrite)
}

// dotTile runs the AVX2 dot-product tile kernel when the CPU has it, else
// dotTileGo.
func dotTile(k int, a []float32, lda int, b []float32, ldb int, acc *[72]float32) {
	if k <= 0 {
		return
	}
	if !HasAVX2 {
		dotTileGo(k, a, lda, b, ldb, acc)
		return
	}
	_ = a[2*lda+k-1]
	_ = b[2*ldb+k-1]
	dotTileAVX2(k, &a[0], lda, &b[0], ldb, &acc[0])
}

// tanhVec computes tanh over src with the AVX2 kernel and returns len(src)
// (0 without AVX2). A last partial vector goes through the kernel too, so
// every element is computed the same way wherever it lies.
func tanhVec(dst, src []float32) int {
	if !HasAVX2 || len(src) == 0 {
		return 0
	}
	n := len(src) &^ 7
	if n > 0 {
		tanhAVX2(&dst[0], &src[0], n)
	}
	if r := len(src) - n; r > 0 {
		var in, out [8]float32
		copy(in[:], src[n:])
		tanhAVX2(&out[0], &in[0], 8)
		copy(dst[n:len(src)], out[:r])
	}
	return len(src)
}

// dotVec returns the dot product of the longest multiple-of-8 prefix of
// x and y computed with the AVX2 kernel, and that prefix's length (0
// without AVX2).
func dotVec(x, y []float32) (float32, int) {
	n := len(x) &^ 7
	if !HasAVX2 || n == 0 {
		return 0, 0
	}
	_ = y[n-1]
	return dotAVX2(&x[0], &y[0], n), n
}

// axpyVec is Axpy over x with the AVX2 kernel, a last partial vector
// included; it returns len(x) (0 without AVX2).
func axpyVec(a float32, x, y []float32) int {
	if !HasAVX2 || len(x) == 0 {
		return 0
	}
	n := len(x) &^ 7
	if n > 0 {
		_ = y[n-1]
		axpyAVX2(a, &x[0], &y[0], n)
	}
	if r := len(x) - n; r > 0 {
		var xt, yt [8]float32
		copy(xt[:], x[n:])
		copy(yt[:], y[n:len(x)])
		axpyAVX2(a, &xt[0], &yt[0], 8)
		copy(y[n:len(x)], yt[:r])
	}
	return len(x)
}

// scaleVec is Scale over the longest multiple-of-8 prefix of x with the
// AVX2 kernel; it returns the prefix's length (0 without AVX2).
func scaleVec(a float32, x []float32) int {
	n := len(x) &^ 7
	if !HasAVX2 || n == 0 {
		return 0
	}
	scaleAVX2(a, &x[0], n)
	return n
}

// addConstVec is AddConst over the longest multiple-of-8 prefix of x with
// the AVX2 kernel; it returns the prefix's length (0 without AVX2).
func addConstVec(a float32, x []float32) int {
	n := len(x) &^ 7
	if !HasAVX2 || n == 0 {
		return 0
	}
	addConstAVX2(a, &x[0], n)
	return n
}

// expVec is Exp over src with the AVX2 kernel, a last partial vector
// included; it returns len(src) (0 without AVX2).
func expVec(dst, src []float32) int {
	if !HasAVX2 || len(src) == 0 {
		return 0
	}
	n := len(src) &^ 3
	if n > 0 {
		_ = dst[n-1]
		expAVX2(&dst[0], &src[0], n)
	}
	if r := len(src) - n; r > 0 {
		var in, out [4]float32
		copy(in[:], src[n:])
		expAVX2(&out[0], &in[0], 4)
		copy(dst[n:len(src)], out[:r])
	}
	return len(src)
}

// reluVec is Relu over the longest multiple-of-8 prefix of src with the
// AVX2 kernel; it returns the prefix's length (0 without AVX2).
func reluVec(dst, src []float32) int {
	n := len(src) &^ 7
	if !HasAVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	reluAVX2(&dst[0], &src[0], n)
	return n
}

// max4Vec is Max4 over the longest multiple-of-8 prefix with the AVX2
// kernel; it returns the prefix's length (0 without AVX2).
func max4Vec(dst, a, b, c, d []float32) int {
	n := len(dst) &^ 7
	if !HasAVX2 || n == 0 {
		return 0
	}
	_, _, _, _ = a[n-1], b[n-1], c[n-1], d[n-1]
	max4AVX2(&dst[0], &a[0], &b[0], &c[0], &d[0], n)
	return n
}

// avgPool2Vec is AvgPool2 over the longest multiple-of-4 prefix of dst
// with the AVX2 kernel; it returns the prefix's length (0 without AVX2).
func avgPool2Vec(dst, r0, r1 []float32) int {
	n := len(dst) &^ 3
	if !HasAVX2 || n == 0 {
		return 0
	}
	_, _ = r0[2*n-1], r1[2*n-1]
	avgPool2AVX2(&dst[0], &r0[0], &r1[0], n)
	return n
}

// maxPool2RowsVec is MaxPool2Rows with the AVX2 kernel, reporting false
// (and doing nothing) without AVX2 or for rows narrower than a vector.
// The caller has checked the slices.
func maxPool2RowsVec(dst, src []float32, rows, width, ld, step int) bool {
	if !HasAVX2 || width < 8 {
		return false
	}
	maxPool2RowsAVX2(&dst[0], &src[0], rows, width, ld, step)
	return true
}

// avgPool2RowsVec is maxPool2RowsVec for AvgPool2Rows.
func avgPool2RowsVec(dst, src []float32, rows, width, ld, step int) bool {
	if !HasAVX2 || width < 4 {
		return false
	}
	avgPool2RowsAVX2(&dst[0], &src[0], rows, width, ld, step)
	return true
}

// packA6Vec packs the longest multiple-of-8 prefix of six rows of A (lda
// apart) into dst as packA's full panels are laid out, with the AVX2
// kernel; it returns the prefix's length (0 without AVX2).
func packA6Vec(dst, a []float32, lda, k int) int {
	n := k &^ 7
	if !HasAVX2 || n == 0 {
		return 0
	}
	_ = a[5*lda+n-1]
	_ = dst[6*n-1]
	packA6AVX2(&dst[0], &a[0], lda, n)
	return n
}

// tanhGradVec is TanhGrad over the longest multiple-of-8 prefix with the
// AVX2 kernel; it returns the prefix's length (0 without AVX2).
func tanhGradVec(dx, dy, y []float32) int {
	n := len(dx) &^ 7
	if !HasAVX2 || n == 0 {
		return 0
	}
	_, _ = dy[n-1], y[n-1]
	tanhGradAVX2(&dx[0], &dy[0], &y[0], n)
	return n
}

// adamVec is Adam over the longest multiple-of-8 prefix with the AVX2
// kernel; it returns the prefix's length (0 without AVX2).
func adamVec(w, g, m, v []float32, k *AdamConsts) int {
	n := len(w) &^ 7
	if !HasAVX2 || n == 0 {
		return 0
	}
	_, _, _ = g[n-1], m[n-1], v[n-1]
	adamAVX2(&w[0], &g[0], &m[0], &v[0], n, (*[7]float32)(unsafe.Pointer(k)))
	return n
}

// gemv64 sets t[0:64] to the sum over p < len(a) of a[p]*b[p*ldb:][:64]
// with the AVX2 kernel, reporting false (and doing nothing) without AVX2.
func gemv64(a, b []float32, ldb int, t []float32) bool {
	k := len(a)
	if !HasAVX2 || k == 0 {
		return false
	}
	_ = b[(k-1)*ldb+63]
	_ = t[63]
	gemv64AVX2(k, &a[0], &b[0], ldb, &t[0])
	return true
}

// gemvPanel sets t[0:16] from one packed panel of b as gemvPanels does
// from four, reporting false without AVX2.
func gemvPanel(a, b []float32, t []float32) bool {
	k := len(a)
	if !HasAVX2 || k == 0 {
		return false
	}
	_ = b[16*k-1]
	_ = t[15]
	gemvPanelAVX2(k, &a[0], &b[0], 0, &t[0])
	return true
}

// gemvPanels sets t[0:64] from four packed panels of b (pstride floats
// apart) as gemv64 does from rows, reporting false without AVX2.
func gemvPanels(a, b []float32, pstride int, t []float32) bool {
	k := len(a)
	if !HasAVX2 || k == 0 {
		return false
	}
	_ = b[3*pstride+16*k-1]
	_ = t[63]
	gemvPanelsAVX2(k, &a[0], &b[0], pstride, &t[0])
	return true
}

// The activations of actVec.
const (
	actSigmoid = iota
	actSiLU
)

// actVec computes activation kind over src with its AVX2 kernel and
// returns len(src) (0 without AVX2). A last partial vector goes through
// the kernel too.
func actVec(kind int, dst, src []float32) int {
	if !HasAVX2 || len(src) == 0 {
		return 0
	}
	f := sigmoidAVX2
	if kind == actSiLU {
		f = siluAVX2
	}
	n := len(src) &^ 7
	if n > 0 {
		_ = dst[n-1]
		f(&dst[0], &src[0], n)
	}
	if r := len(src) - n; r > 0 {
		var in, out [8]float32
		copy(in[:], src[n:])
		f(&out[0], &in[0], 8)
		copy(dst[n:len(src)], out[:r])
	}
	return len(src)
}

// clipVec is Clip over the longest multiple-of-8 prefix of src with the
// AVX2 kernel; it returns the prefix's length (0 without AVX2).
func clipVec(dst, src []float32, lo, hi float32) int {
	n := len(src) &^ 7
	if !HasAVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	clipAVX2(&dst[0], &src[0], n, lo, hi)
	return n
}

// hardSigmoidVec is HardSigmoid (MulHardSigmoid with mul) over the
// longest multiple-of-8 prefix of src with the AVX2 kernel; it returns the
// prefix's length (0 without AVX2).
func hardSigmoidVec(mul bool, dst, src []float32, alpha, beta float32) int {
	n := len(src) &^ 7
	if !HasAVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	if mul {
		mulHardSigmoidAVX2(&dst[0], &src[0], n, alpha, beta)
	} else {
		hardSigmoidAVX2(&dst[0], &src[0], n, alpha, beta)
	}
	return n
}

// axpyTapsVec is AxpyTaps over the longest multiple-of-8 prefix of each
// row with the AVX2 kernel; it returns the prefix's length (0 without
// AVX2).
func axpyTapsVec(b *float32, w []float32, offs []int, x []float32, ldx int, y []float32, ldy, rows, width int) int {
	n := width &^ 7
	if !HasAVX2 || n == 0 {
		return 0
	}
	axpyTapsAVX2(&w[0], &offs[0], len(w), &x[0], ldx, &y[0], ldy, rows, n, b)
	return n
}

// axpyRowsVec is AxpyRows over the longest multiple-of-8 prefix of each
// row that the AVX2 kernels can read (for stride 2, whole pairs of vectors
// within x); it returns the prefix's length (0 without AVX2 or for other
// strides).
func axpyRowsVec(a float32, x []float32, ldx, stride int, y []float32, ldy, rows, width int) int {
	n := width &^ 7
	if !HasAVX2 || n == 0 || stride > 2 {
		return 0
	}
	if stride == 1 {
		axpyRows1AVX2(a, &x[0], ldx, &y[0], ldy, rows, n)
		return n
	}
	for n > 0 && (rows-1)*ldx+2*n > len(x) {
		n -= 8
	}
	if n > 0 {
		axpyRows2AVX2(a, &x[0], ldx, &y[0], ldy, rows, n)
	}
	return n
}

// maxRowsVec is MaxRows over the longest multiple-of-8 prefix of each row
// that the AVX2 kernels can read (for stride 2, whole pairs of vectors
// within x); it returns the prefix's length (0 without AVX2 or for other
// strides).
func maxRowsVec(x []float32, ldx, stride int, y []float32, ldy, rows, width int) int {
	n := width &^ 7
	if !HasAVX2 || n == 0 || stride > 2 {
		return 0
	}
	if stride == 1 {
		maxRows1AVX2(&x[0], ldx, &y[0], ldy, rows, n)
		return n
	}
	// The last row's last vector reads 16 values from 2*(n-8).
	for n > 0 && (rows-1)*ldx+2*n > len(x) {
		n -= 8
	}
	if n > 0 {
		maxRows2AVX2(&x[0], ldx, &y[0], ldy, rows, n)
	}
	return n
}

// erfVec is Erf over src with the AVX2 kernel, a last partial vector
// included; it returns len(src) (0 without AVX2).
func erfVec(dst, src []float32) int {
	if !HasAVX2 || len(src) == 0 {
		return 0
	}
	n := len(src) &^ 7
	if n > 0 {
		_ = dst[n-1]
		erfAVX2(&dst[0], &src[0], n)
	}
	if r := len(src) - n; r > 0 {
		var in, out [8]float32
		copy(in[:], src[n:])
		erfAVX2(&out[0], &in[0], 8)
		copy(dst[n:len(src)], out[:r])
	}
	return len(src)
}

// igemmTile runs the AVX2 integer tile kernel when the CPU has it, else
// igemmTileGo.
func igemmTile(k int, a []int32, b []int16, ldb int, c []int32, ldc, rows, cols int) {
	if !HasAVX2 {
		igemmTileGo(k, a, b, ldb, c, ldc, rows, cols)
		return
	}
	_ = a[ceilDiv(k, 2)*imr-1]
	_ = b[(k-1)*ldb+inr-1]
	_ = c[(rows-1)*ldc+cols-1]
	var mask *int32
	if cols < inr {
		mask = &igemmMasks[inr-cols]
	}
	igemmKernelAVX2(k, &a[0], &b[0], ldb, &c[0], ldc, rows, mask)
}

// requantVec is Requantize over the longest multiple-of-8 prefix of acc
// with the AVX2 kernel; it returns the prefix's length (0 without AVX2).
func requantVec[T uint8 | int8](dst []T, acc []int32, bias int32, mult float32, zp, lo, hi int32) int {
	n := len(acc) &^ 7
	if !HasAVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	requantAVX2((*uint8)(unsafe.Pointer(&dst[0])), &acc[0], n, bias, mult, zp, lo, hi)
	return n
}

// quantizeVec is QuantizeSlice over the longest multiple-of-8 prefix of
// src with the AVX2 kernel; it returns the prefix's length (0 without
// AVX2).
func quantizeVec[T uint8 | int8](dst []T, src []float32, scale float32, zp, lo, hi int32) int {
	n := len(src) &^ 7
	if !HasAVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	quantizeAVX2((*uint8)(unsafe.Pointer(&dst[0])), &src[0], n, scale, zp, lo, hi)
	return n
}

// dequantU8Vec is DequantizeU8 over the longest multiple-of-8 prefix of
// src with the AVX2 kernel; it returns the prefix's length (0 without
// AVX2).
func dequantU8Vec(dst []float32, src []uint8, zp, scale float32) int {
	n := len(src) &^ 7
	if !HasAVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	dequantU8AVX2(&dst[0], &src[0], n, zp, scale)
	return n
}

// igemmTileOffsets runs the AVX2 integer offsets kernel when the CPU has
// it, else igemmTileOffsetsGo. The caller has checked b against offs.
func igemmTileOffsets(k int, a []int32, b []int16, offs []int32, c []int32, ldc, rows, cols int) {
	if !HasAVX2 {
		igemmTileOffsetsGo(k, a, b, offs, c, ldc, rows, cols)
		return
	}
	_ = a[ceilDiv(k, 2)*imr-1]
	_ = offs[k-1]
	_ = c[(rows-1)*ldc+cols-1]
	var mask *int32
	if cols < inr {
		mask = &igemmMasks[inr-cols]
	}
	igemmKernelOffsetsAVX2(k, &a[0], &b[0], &offs[0], &c[0], ldc, rows, mask)
}
