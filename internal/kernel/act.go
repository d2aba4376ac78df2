package kernel

import "math"

// Activations in float32 whose vector and plain Go paths give the same
// results bit for bit: both take the same float32 steps (no fused
// multiply-adds, every product rounded), so an element's result depends
// on its value alone. The building block is expNeg, e^-x.

// Sigmoid sets dst[i] = 1 / (1 + e^-src[i]) for every i < len(src), within
// 3 ulp of the exact value (or 1e-38 absolute: below -88 the result is 0);
// NaN stays NaN. dst must be at least as long as src; it may be src
// itself.
func Sigmoid(dst, src []float32) {
	dst = dst[:len(src)]
	for i := actVec(actSigmoid, dst, src); i < len(src); i++ {
		dst[i] = sigmoid1(src[i])
	}
}

// SiLU sets dst[i] = x·Sigmoid(x) for x = src[i], every i < len(src): the
// bits of a Sigmoid followed by a multiplication, within 4 ulp of the
// exact value (or 1e-36 absolute: below -88 the result is ±0; -Inf gives
// NaN as -Inf·0 does); NaN stays NaN. dst must be at least as long as src;
// it may be src itself.
func SiLU(dst, src []float32) {
	dst = dst[:len(src)]
	for i := actVec(actSiLU, dst, src); i < len(src); i++ {
		x := src[i]
		dst[i] = x * sigmoid1(x)
	}
}

// Clip sets dst[i] = min(max(src[i], lo), hi) for every i < len(src), as
// the comparisons x < lo and x > hi take it: NaN passes through, and when
// lo > hi every other element becomes hi. dst must be at least as long as
// src; it may be src itself.
func Clip(dst, src []float32, lo, hi float32) {
	dst = dst[:len(src)]
	for i := clipVec(dst, src, lo, hi); i < len(src); i++ {
		dst[i] = ClipOne(src[i], lo, hi)
	}
}

// HardSigmoid sets dst[i] = min(max(alpha·x + beta, 0), 1) for x =
// src[i], every i < len(src), with the product rounded before the
// addition and the bounds applied as Clip applies them (NaN passes). dst
// must be at least as long as src; it may be src itself.
func HardSigmoid(dst, src []float32, alpha, beta float32) {
	dst = dst[:len(src)]
	for i := hardSigmoidVec(false, dst, src, alpha, beta); i < len(src); i++ {
		dst[i] = HardSigmoidOne(src[i], alpha, beta)
	}
}

// MulHardSigmoid sets dst[i] = x·HardSigmoid(x) for x = src[i], every i <
// len(src): the bits of a HardSigmoid followed by a multiplication
// (HardSwish is alpha 1/6, beta 1/2). dst must be at least as long as
// src; it may be src itself.
func MulHardSigmoid(dst, src []float32, alpha, beta float32) {
	dst = dst[:len(src)]
	for i := hardSigmoidVec(true, dst, src, alpha, beta); i < len(src); i++ {
		x := src[i]
		dst[i] = x * HardSigmoidOne(x, alpha, beta)
	}
}

// HardSigmoidOne is HardSigmoid of one value.
func HardSigmoidOne(x, alpha, beta float32) float32 {
	return ClipOne(float32(alpha*x)+beta, 0, 1)
}

// sigmoid1 is Sigmoid of one value.
func sigmoid1(x float32) float32 {
	if -x > expNegTMax {
		return 0
	}
	return 1 / (1 + expNeg(x))
}

// ClipOne is Clip of one value.
func ClipOne(x, lo, hi float32) float32 {
	if x < lo {
		x = lo
	}
	if x > hi {
		x = hi
	}
	return x
}

// Constants of expNeg (the vector kernels use the same values).
const (
	expNegTMin  = -87 // t = -x is clamped to [expNegTMin, expNegTMax]: 1 + e^-87 rounds to 1,
	expNegTMax  = 88  // and sigmoid(-88) is below 7e-39
	expLog2E    = float32(math.Log2E)
	expLn2Hi    = float32(0.693359375) // ln 2 = expLn2Hi + expLn2Lo; k·expLn2Hi is exact for |k| < 2^15
	expLn2Lo    = float32(-2.12194440e-4)
	expPolyDeg  = 7
	expExponent = 127
)

// expCoef are 1/i!, the Taylor coefficients of e^r, i <= expPolyDeg.
var expCoef = [expPolyDeg + 1]float32{1, 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040}

// expNeg returns e^-x in float32 steps: t = -x clamped to [-87, 88]
// (comparisons that pass NaN), k = round(t·log2 e), r = t - k·ln2 with ln2
// in two parts, e^r by its Taylor polynomial of degree 7 (|r| <= 0.35:
// truncation below 1e-8 relative) in Horner's form, times 2^k built in the
// exponent bits.
func expNeg(x float32) float32 {
	t := -x
	if t < expNegTMin {
		t = expNegTMin
	}
	if t > expNegTMax {
		t = expNegTMax
	}
	k := float32(math.RoundToEven(float64(float32(t * expLog2E))))
	r := t - float32(k*expLn2Hi)
	r = r - float32(k*expLn2Lo)
	p := expCoef[expPolyDeg]
	for i := expPolyDeg - 1; i >= 0; i-- {
		p = float32(p*r) + expCoef[i]
	}
	if t != t {
		return t
	}
	return p * math.Float32frombits(uint32(int32(k)+expExponent)<<23)
}

// AxpyRows sets y[r*ldy+i] += a*x[r*ldx+i*stride] for r < rows and i <
// width: an Axpy over each row of a strided block, with the product
// rounded before the addition (no fused multiply-add), so that the AVX2
// and Go paths agree bit for bit. stride is 1 or more (the vector kernels
// take 1 and 2). It panics if x or y is too short.
func AxpyRows(a float32, x []float32, ldx, stride int, y []float32, ldy, rows, width int) {
	if rows <= 0 || width <= 0 {
		return
	}
	if stride < 1 || len(x) < (rows-1)*ldx+(width-1)*stride+1 || len(y) < (rows-1)*ldy+width {
		panic("kernel: AxpyRows: slices too short for the rows")
	}
	done := axpyRowsVec(a, x, ldx, stride, y, ldy, rows, width)
	if done == width {
		return
	}
	for r := range rows {
		xr, yr := x[r*ldx:], y[r*ldy:r*ldy+width]
		for i := done; i < width; i++ {
			yr[i] += float32(a * xr[i*stride])
		}
	}
}

// AxpyTaps sets y[r*ldy+i] += w[t]*x[r*ldx+offs[t]+i] for r < rows and
// i < width, adding the taps t < len(w) in order, each product rounded
// before its addition: the sums of AxpyRows called once per tap, bit for
// bit, with each output element's sum kept in a register across the taps
// (one tap of a depthwise convolution per element of w, offs[t] its
// offset in x). The offsets must be non-negative; it panics if offs is
// shorter than w or x or y is too short.
func AxpyTaps(w []float32, offs []int, x []float32, ldx int, y []float32, ldy, rows, width int) {
	axpyTaps(nil, w, offs, x, ldx, y, ldy, rows, width)
}

// SetTaps is AxpyTaps with each sum started from b instead of y's value:
// y[r*ldy+i] = b + the taps, bit for bit as filling y with b and calling
// AxpyTaps (a depthwise convolution's bias, then its taps).
func SetTaps(b float32, w []float32, offs []int, x []float32, ldx int, y []float32, ldy, rows, width int) {
	axpyTaps(&b, w, offs, x, ldx, y, ldy, rows, width)
}

// axpyTaps is AxpyTaps (b nil) and SetTaps.
func axpyTaps(b *float32, w []float32, offs []int, x []float32, ldx int, y []float32, ldy, rows, width int) {
	if rows <= 0 || width <= 0 {
		return
	}
	if len(w) == 0 {
		if b != nil {
			for r := range rows {
				for i := range y[r*ldy : r*ldy+width] {
					y[r*ldy+i] = *b
				}
			}
		}
		return
	}
	maxOff := 0
	for _, o := range offs[:len(w)] {
		if o < 0 {
			panic("kernel: AxpyTaps: negative offset")
		}
		maxOff = max(maxOff, o)
	}
	if len(x) < (rows-1)*ldx+maxOff+width || len(y) < (rows-1)*ldy+width {
		panic("kernel: AxpyTaps: slices too short for the rows")
	}
	done := axpyTapsVec(b, w, offs, x, ldx, y, ldy, rows, width)
	for r := range rows {
		xr, yr := x[r*ldx:], y[r*ldy:r*ldy+width]
		for i := done; i < width; i++ {
			acc := yr[i]
			if b != nil {
				acc = *b
			}
			for t, a := range w {
				acc += float32(a * xr[offs[t]+i])
			}
			yr[i] = acc
		}
	}
}

// MaxRows sets y[r*ldy+i] = x[r*ldx+i*stride] wherever that is greater
// than y[r*ldy+i], for r < rows and i < width: one tap of a max pooling
// over a block of outputs, the scalar loop's rule (a NaN already in y
// stays, one in x is passed over), the same on every path. stride is 1
// or more (the vector kernels take 1 and 2). It panics if x or y is too
// short.
func MaxRows(x []float32, ldx, stride int, y []float32, ldy, rows, width int) {
	if rows <= 0 || width <= 0 {
		return
	}
	if stride < 1 || len(x) < (rows-1)*ldx+(width-1)*stride+1 || len(y) < (rows-1)*ldy+width {
		panic("kernel: MaxRows: slices too short for the rows")
	}
	done := maxRowsVec(x, ldx, stride, y, ldy, rows, width)
	if done == width {
		return
	}
	for r := range rows {
		xr, yr := x[r*ldx:], y[r*ldy:r*ldy+width]
		for i := done; i < width; i++ {
			if v := xr[i*stride]; v > yr[i] {
				yr[i] = v
			}
		}
	}
}

// Erf sets dst[i] = erf(src[i]) for every i < len(src), within 2e-7
// absolute and 5e-7 relative of the exact value (1e-38 absolute for
// subnormal results); NaN stays NaN, ±Inf give ±1. The AVX2 and Go paths agree bit for bit. dst must be at least
// as long as src; it may be src itself.
func Erf(dst, src []float32) {
	dst = dst[:len(src)]
	for i := erfVec(dst, src); i < len(src); i++ {
		dst[i] = erf1(src[i])
	}
}

// erfT are the Taylor coefficients of erf(z)/z in z²: 2/sqrt(pi) ·
// (-1)^k / (k! (2k+1)); erfQ the polynomial in t = 1/(1+z/2) of the
// exponent of erfc(z) ≈ t·e^(Q(t) - z²), fractional error below 1.2e-7
// (Numerical Recipes' erfcc).
var (
	erfT = func() (c [7]float32) {
		fact := 1.0
		for k := range c {
			if k > 0 {
				fact *= float64(k)
			}
			v := 2 / math.Sqrt(math.Pi) / (fact * float64(2*k+1))
			if k%2 == 1 {
				v = -v
			}
			c[k] = float32(v)
		}
		return c
	}()
	erfQ = [10]float32{-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277}
)

// erf1 is Erf of one value: z = |x|; below 0.5 z·P(z²) (the Taylor series
// to z^13, truncation below 3e-8 relative); otherwise, with z clamped to
// 4 (erf is 1 in float32 beyond), 1 - t·e^(Q(t) - z²); then the sign of x.
func erf1(x float32) float32 {
	z := math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	var r float32
	if z < 0.5 {
		z2 := z * z
		p := erfT[6]
		for i := 5; i >= 0; i-- {
			p = float32(p*z2) + erfT[i]
		}
		r = z * p
	} else {
		zc := z
		if zc > 4 {
			zc = 4
		}
		t := 1 / (1 + float32(zc*0.5))
		q := erfQ[9]
		for i := 8; i >= 0; i-- {
			q = float32(q*t) + erfQ[i]
		}
		q = q - float32(zc*zc)
		r = 1 - float32(t*expNeg(-q))
	}
	return math.Float32frombits(math.Float32bits(r) | math.Float32bits(x)&(1<<31))
}
