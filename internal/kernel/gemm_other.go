//go:build !amd64 || noasm

package kernel

// HasAVX2 reports whether the AVX2/FMA kernels are in use: never in this
// build.
var HasAVX2 = false

// HasAVX512 reports whether the AVX-512 matrix kernel is in use: never in
// this build.
var HasAVX512 = false

func microKernelPair(k int, a, b0, b1 []float32, ldb int, c []float32, ldc int, overwrite bool) {
	microKernelGo(k, a, b0, ldb, c, ldc, overwrite)
	microKernelGo(k, a, b1, ldb, c[nr:], ldc, overwrite)
}

func microKernelNarrow(k int, a []float32, lda int, b []float32, c []float32, ldc int, mask uint16, overwrite bool) {
	panic("kernel: the narrow kernel needs AVX-512") // Sgemm never picks it here
}

func microKernel(k int, a, b []float32, ldb int, c []float32, ldc int, overwrite bool) {
	microKernelGo(k, a, b, ldb, c, ldc, overwrite)
}

func microKernelOffsets(k int, a, b []float32, offs []int32, c []float32, ldc int, overwrite bool) {
	microKernelOffsetsGo(k, a, b, offs, c, ldc, overwrite)
}

func microKernelOffsetsPair(k int, a, b []float32, offs []int32, c []float32, ldc int, overwrite bool) {
	microKernelOffsetsGo(k, a, b, offs, c, ldc, overwrite)
	microKernelOffsetsGo(k, a, b[nr:], offs, c[nr:], ldc, overwrite)
}

func dotTile(k int, a []float32, lda int, b []float32, ldb int, acc *[72]float32) {
	dotTileGo(k, a, lda, b, ldb, acc)
}

func tanhVec(dst, src []float32) int { return 0 }

func dotVec(x, y []float32) (float32, int)                               { return 0, 0 }
func axpyVec(a float32, x, y []float32) int                              { return 0 }
func scaleVec(a float32, x []float32) int                                { return 0 }
func addConstVec(a float32, x []float32) int                             { return 0 }
func expVec(dst, src []float32) int                                      { return 0 }
func reluVec(dst, src []float32) int                                     { return 0 }
func max4Vec(dst, a, b, c, d []float32) int                              { return 0 }
func avgPool2Vec(dst, r0, r1 []float32) int                              { return 0 }
func packA6Vec(dst, a []float32, lda, k int) int                         { return 0 }
func maxPool2RowsVec(dst, src []float32, rows, width, ld, step int) bool { return false }
func avgPool2RowsVec(dst, src []float32, rows, width, ld, step int) bool { return false }
func tanhGradVec(dx, dy, y []float32) int                                { return 0 }
func adamVec(w, g, m, v []float32, k *AdamConsts) int                    { return 0 }
func gemv64(a, b []float32, ldb int, t []float32) bool                   { return false }
func gemvPanels(a, b []float32, pstride int, t []float32) bool           { return false }
func gemvPanel(a, b []float32, t []float32) bool                         { return false }

const (
	actSigmoid = iota
	actSiLU
)

func actVec(kind int, dst, src []float32) int        { return 0 }
func clipVec(dst, src []float32, lo, hi float32) int { return 0 }
func hardSigmoidVec(mul bool, dst, src []float32, alpha, beta float32) int {
	return 0
}
func axpyRowsVec(a float32, x []float32, ldx, stride int, y []float32, ldy, rows, width int) int {
	return 0
}
func axpyTapsVec(b *float32, w []float32, offs []int, x []float32, ldx int, y []float32, ldy, rows, width int) int {
	return 0
}
func maxRowsVec(x []float32, ldx, stride int, y []float32, ldy, rows, width int) int { return 0 }
func erfVec(dst, src []float32) int                                                  { return 0 }

func igemmTile(k int, a []int32, b []int16, ldb int, c []int32, ldc, rows, cols int) {
	igemmTileGo(k, a, b, ldb, c, ldc, rows, cols)
}

func requantVec[T uint8 | int8](dst []T, acc []int32, bias int32, mult float32, zp, lo, hi int32) int {
	return 0
}
func quantizeVec[T uint8 | int8](dst []T, src []float32, scale float32, zp, lo, hi int32) int {
	return 0
}
func dequantU8Vec(dst []float32, src []uint8, zp, scale float32) int { return 0 }

func igemmTileOffsets(k int, a []int32, b []int16, offs []int32, c []int32, ldc, rows, cols int) {
	igemmTileOffsetsGo(k, a, b, offs, c, ldc, rows, cols)
}
