package kernel

// The 8-bit quantization steps of the ONNX quantized ops, with AVX2
// kernels that give the scalar forms' results bit for bit: conversions,
// products and quotients round as Go's float32 operations, and rounding
// to an integer is half to even.

// QuantizeValue rounds v half to even, adds zp and saturates to [lo, hi].
// NaN becomes zp.
func QuantizeValue(v float32, zp, lo, hi int32) int32 {
	const big = 1 << 22
	switch {
	case v != v:
		v = 0
	case v > big:
		v = big
	case v < -big:
		v = -big
	}
	// For |v| <= 2^22, v + 1.5*2^23 lies in [2^23, 2^24), where float32
	// holds only integers: the sum is v rounded half to even.
	const magic = 1.5 * (1 << 23)
	r := int32((v + magic) - magic)
	return min(max(r+zp, lo), hi)
}

// Requantize sets dst[i] to QuantizeValue(float32(acc[i]+bias)*mult, zp,
// lo, hi) for i < len(acc), the sum wrapping in int32: the requantization
// of an integer product. [lo, hi] must lie within dst's type.
func Requantize[T uint8 | int8](dst []T, acc []int32, bias int32, mult float32, zp, lo, hi int32) {
	dst = dst[:len(acc)]
	i := 0
	if mult-mult == 0 { // finite: no NaN lane
		i = requantVec(dst, acc, bias, mult, zp, lo, hi)
	}
	for ; i < len(acc); i++ {
		dst[i] = T(QuantizeValue(float32(acc[i]+bias)*mult, zp, lo, hi))
	}
}

// QuantizeSlice sets dst[i] to QuantizeValue(src[i]/scale, zp, lo, hi)
// for i < len(src): QuantizeLinear with one scale and zero point. [lo, hi]
// must lie within dst's type.
func QuantizeSlice[T uint8 | int8](dst []T, src []float32, scale float32, zp, lo, hi int32) {
	dst = dst[:len(src)]
	for i := quantizeVec(dst, src, scale, zp, lo, hi); i < len(src); i++ {
		dst[i] = T(QuantizeValue(src[i]/scale, zp, lo, hi))
	}
}

// DequantizeU8 sets dst[i] to (float32(src[i]) - zp) * scale for i <
// len(src): DequantizeLinear of uint8 with one scale and zero point.
func DequantizeU8(dst []float32, src []uint8, zp, scale float32) {
	dst = dst[:len(src)]
	for i := dequantU8Vec(dst, src, zp, scale); i < len(src); i++ {
		dst[i] = (float32(src[i]) - zp) * scale
	}
}
