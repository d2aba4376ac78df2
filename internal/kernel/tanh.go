package kernel

import "math"

// Tanh sets dst[i] = tanh(src[i]) for every i < len(src), within about
// 2e-7 relative error of math.Tanh; NaN stays NaN. An element's result
// depends on its value alone, not on where it lies in src. dst must be at
// least as long as src; it may be src itself.
func Tanh(dst, src []float32) {
	dst = dst[:len(src)]
	n := tanhVec(dst, src)
	for i := n; i < len(src); i++ {
		dst[i] = Tanh32(src[i])
	}
}

// Tanh32 is the scalar tanh used where no vector path applies, computed in
// float64: expm1 by its Taylor series below |x| = 0.625, exp with range
// reduction above, saturating at |x| >= 9.5.
func Tanh32(x float32) float32 {
	a := math.Abs(float64(x))
	var t float64
	switch {
	case a < 0.625:
		u := -2 * a
		em := u * (1 + u*(1.0/2+u*(1.0/6+u*(1.0/24+u*(1.0/120+u*(1.0/720+u*(1.0/5040+
			u*(1.0/40320+u*(1.0/362880+u*(1.0/3628800+u*(1.0/39916800+u*(1.0/479001600+u*(1.0/6227020800)))))))))))))
		t = -em / (2 + em)
	case a < 9.5:
		z := -2 * a
		k := math.Floor(z*math.Log2E + 0.5)
		r := z - k*math.Ln2
		e := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040+r*(1.0/40320))))))))
		e *= math.Float64frombits(uint64(int64(k)+1023) << 52)
		t = (1 - e) / (1 + e)
	case a == a:
		t = 1
	default:
		return x // NaN
	}
	return float32(math.Copysign(t, float64(x)))
}
