package tensor

import "math"

// Float16FromFloat64 returns the IEEE 754 half-precision bits nearest to v
// (round to nearest, ties to even); values beyond the largest finite half
// become infinities, NaN a quiet NaN of the same sign.
func Float16FromFloat64(v float64) uint16 { return uint16(narrowFloat(v, 5, 10)) }

// Float16ToFloat64 returns the value of half-precision bits h (exactly).
func Float16ToFloat64(h uint16) float64 { return widenFloat(uint64(h), 5, 10) }

// BFloat16FromFloat64 returns the bfloat16 bits nearest to v (round to
// nearest, ties to even), as Cast computes them.
func BFloat16FromFloat64(v float64) uint16 { return uint16(narrowFloat(v, 8, 7)) }

// BFloat16ToFloat64 returns the value of bfloat16 bits b (exactly).
func BFloat16ToFloat64(b uint16) float64 {
	return float64(math.Float32frombits(uint32(b) << 16))
}

// narrowFloat rounds v to the nearest value of an IEEE-style binary format
// with ebits of exponent and mbits of mantissa (ties to even, overflow to
// infinity, gradual underflow), and returns its bits.
func narrowFloat(v float64, ebits, mbits uint) uint64 {
	b := math.Float64bits(v)
	sign := (b >> 63) << (ebits + mbits)
	emax := uint64(1)<<ebits - 1 // all-ones exponent field: Inf and NaN
	inf := sign | emax<<mbits
	switch {
	case math.IsNaN(v):
		return inf | 1<<(mbits-1) // quiet NaN
	case math.IsInf(v, 0):
		return inf
	}
	bits := roundMag(math.Abs(v), mbits, 1<<(ebits-1)-1)
	if bits >= emax<<mbits {
		return inf
	}
	return sign | bits
}

// roundMag returns the code (exponent field and mantissa, no sign) of the
// value nearest to a >= 0 in a binary format with mbits of mantissa and the
// given exponent bias (ties to even, gradual underflow), with no upper
// limit: callers compare it with their largest finite code.
func roundMag(a float64, mbits uint, bias int) uint64 {
	b := math.Float64bits(a)
	e := int(b>>52&0x7ff) - 1023
	if e == -1023 { // zero or a float64 subnormal: far below any subnormal here
		return 0
	}
	m := b&(1<<52-1) | 1<<52 // with the implicit bit
	shift := 52 - int(mbits)
	if emin := 1 - bias; e < emin {
		shift += emin - e // subnormal: fewer mantissa bits survive
	}
	if shift > 54 {
		return 0 // less than half the smallest subnormal
	}
	r := m >> shift
	rem := m & (1<<shift - 1)
	half := uint64(1) << (shift - 1)
	if rem > half || (rem == half && r&1 == 1) {
		r++
	}
	if e < 1-bias {
		return r // subnormal: a mantissa that rounded up to 1<<mbits is the smallest normal
	}
	// Normal: a mantissa that rounded up to 2 carries into the exponent.
	return uint64(e+bias-1)<<mbits + r
}

// widenFloat returns the value of bits h of the format narrowFloat makes.
func widenFloat(h uint64, ebits, mbits uint) float64 {
	emax := uint64(1)<<ebits - 1
	bias := int(1)<<(ebits-1) - 1
	s := 1.0
	if h>>(ebits+mbits)&1 == 1 {
		s = -1
	}
	e := h >> mbits & emax
	m := h & (1<<mbits - 1)
	switch e {
	case 0:
		return s * math.Ldexp(float64(m), 1-bias-int(mbits))
	case emax:
		if m != 0 {
			return math.NaN()
		}
		return math.Inf(int(s))
	}
	return s * math.Ldexp(float64(m|1<<mbits), int(e)-bias-int(mbits))
}

// Float16ToFloat32 sets d[i] to the value of the half-precision bits s[i].
func Float16ToFloat32(d []float32, s []uint16) {
	for i, h := range s[:len(d)] {
		sign := uint32(h>>15) << 31
		e := uint32(h>>10) & 0x1f
		m := uint32(h) & 0x3ff
		switch {
		case e == 0x1f: // Inf, NaN
			d[i] = math.Float32frombits(sign | 0x7f800000 | m<<13)
		case e != 0:
			d[i] = math.Float32frombits(sign | (e+112)<<23 | m<<13)
		default: // zero, subnormal: m * 2^-24, exact in float32
			f := float32(m) * (1.0 / (1 << 24))
			d[i] = math.Float32frombits(sign | math.Float32bits(f))
		}
	}
}

// Float32ToFloat16 sets d[i] to the half-precision bits nearest to s[i]
// (the same as Float16FromFloat64, on float32 bits directly).
func Float32ToFloat16(d []uint16, s []float32) {
	for i, v := range s[:len(d)] {
		d[i] = float32ToFloat16(v)
	}
}

func float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	abs := b & 0x7fffffff
	switch {
	case abs > 0x7f800000: // NaN: quiet, same sign
		return sign | 0x7e00
	case abs >= 0x47800000: // 65536 and up (and Inf): beyond any rounding to 65504
		return sign | 0x7c00
	case abs < 0x38800000: // below 2^-14: a subnormal half, or zero
		if abs < 0x33000000 { // at most 2^-25, half the smallest subnormal: 0
			return sign
		}
		e := abs >> 23
		m := abs&0x7fffff | 0x800000
		shift := 126 - e // puts the value in units of 2^-24
		r := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	// Normal: rebias the exponent, round the 23-bit mantissa to 10 bits; a
	// carry out of the mantissa increments the exponent, up to Inf.
	r := (abs - 0x38000000) >> 13
	rem := abs & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++
	}
	return sign | uint16(r)
}

// BFloat16ToFloat32 sets d[i] to the value of the bfloat16 bits s[i].
func BFloat16ToFloat32(d []float32, s []uint16) {
	for i, b := range s[:len(d)] {
		d[i] = math.Float32frombits(uint32(b) << 16)
	}
}

// Float32ToBFloat16 sets d[i] to the bfloat16 bits nearest to s[i].
func Float32ToBFloat16(d []uint16, s []float32) {
	for i, v := range s[:len(d)] {
		d[i] = uint16(narrowFloat(float64(v), 8, 7))
	}
}
