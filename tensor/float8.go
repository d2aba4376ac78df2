package tensor

import (
	"math"
	"strconv"
)

// minifloat is a float8 or float4 format: sign bit on top, then the
// exponent field and mbits of mantissa.
type minifloat struct {
	width   uint   // 8 or 4 bits
	mbits   uint   // mantissa bits
	bias    int    // exponent bias
	maxCode uint64 // largest finite magnitude code
	inf     bool   // IEEE infinities (E5M2) at maxCode+1
	nan     bool   // NaN when the magnitude bits are all ones (E4M3FN)
	uz      bool   // unsigned zero: 0x80 is NaN, no negative zero (the FNUZ types)
}

// The float8 and float4 formats of ONNX.
var (
	e4m3fn   = minifloat{width: 8, mbits: 3, bias: 7, maxCode: 0x7e, nan: true}
	e4m3fnuz = minifloat{width: 8, mbits: 3, bias: 8, maxCode: 0x7f, uz: true}
	e5m2     = minifloat{width: 8, mbits: 2, bias: 15, maxCode: 0x7b, inf: true}
	e5m2fnuz = minifloat{width: 8, mbits: 2, bias: 16, maxCode: 0x7f, uz: true}
	e2m1     = minifloat{width: 4, mbits: 1, bias: 1, maxCode: 0x7}
)

func (f minifloat) signBit() uint8 { return 1 << (f.width - 1) }

// nanCode is the format's NaN (float4 has none: -0, as ONNX's Cast makes it).
func (f minifloat) nanCode(neg bool) uint8 {
	switch {
	case f.uz:
		return 0x80
	case f.nan:
		if neg {
			return 0xff
		}
		return 0x7f
	case f.inf:
		return 0x7f
	}
	return f.signBit()
}

// encode rounds v to the format (ties to even). Out of range values and
// infinities become the largest finite value when saturate is set, else
// infinity (E5M2) or NaN, as Cast's tables say.
func (f minifloat) encode(v float64, saturate bool) uint8 {
	neg := math.Signbit(v)
	var sign uint8
	if neg {
		sign = f.signBit()
	}
	if math.IsNaN(v) {
		return f.nanCode(neg)
	}
	code := roundMag(math.Abs(v), f.mbits, f.bias)
	if math.IsInf(v, 0) || code > f.maxCode {
		switch {
		case saturate || f.width == 4:
			return sign | uint8(f.maxCode)
		case f.inf:
			return sign | uint8(f.maxCode+1)
		}
		return f.nanCode(neg)
	}
	if code == 0 && f.uz {
		return 0
	}
	return sign | uint8(code)
}

// decode returns the value of bits b.
func (f minifloat) decode(b uint8) float64 {
	sb := f.signBit()
	mag := uint64(b &^ sb)
	switch {
	case f.uz && b == 0x80, f.nan && mag == 0x7f:
		return math.NaN()
	case f.inf && mag > f.maxCode+1:
		return math.NaN()
	}
	s := 1.0
	if b&sb != 0 {
		s = -1
	}
	if f.inf && mag == f.maxCode+1 {
		return math.Inf(int(s))
	}
	e := int(mag >> f.mbits)
	m := float64(mag & (1<<f.mbits - 1))
	if e == 0 {
		return s * math.Ldexp(m, 1-f.bias-int(f.mbits))
	}
	return s * math.Ldexp(m+float64(uint64(1)<<f.mbits), e-f.bias-int(f.mbits))
}

// minifloatOf returns the format of a float8 or float4 dtype.
func minifloatOf(dt DType) (minifloat, bool) {
	switch dt {
	case Float8E4M3FN:
		return e4m3fn, true
	case Float8E4M3FNUZ:
		return e4m3fnuz, true
	case Float8E5M2:
		return e5m2, true
	case Float8E5M2FNUZ:
		return e5m2fnuz, true
	case Float4E2M1:
		return e2m1, true
	}
	return minifloat{}, false
}

// Float8FromFloat64 returns the bits of the float8 or float4 dtype dt
// nearest to v, as Cast computes them (saturate: out of range values
// become the largest finite value instead of infinity or NaN). For
// Float8E8M0 it rounds up, as Cast's default round_mode does.
func Float8FromFloat64(dt DType, v float64, saturate bool) uint8 {
	if dt == Float8E8M0 {
		return E8M0FromFloat64(v, saturate, RoundUp)
	}
	f, ok := minifloatOf(dt)
	if !ok {
		panic("tensor: Float8FromFloat64 of dtype " + strconv.Itoa(int(dt)))
	}
	return f.encode(v, saturate)
}

// Float8ToFloat64 returns the value of bits b of the float8 or float4 dtype dt.
func Float8ToFloat64(dt DType, b uint8) float64 {
	if dt == Float8E8M0 {
		return E8M0ToFloat64(b)
	}
	f, ok := minifloatOf(dt)
	if !ok {
		panic("tensor: Float8ToFloat64 of dtype " + strconv.Itoa(int(dt)))
	}
	return f.decode(b)
}

// RoundMode is how a value between two powers of two becomes float8e8m0.
type RoundMode uint8

// The rounding modes of Cast's round_mode attribute.
const (
	RoundUp      RoundMode = iota // away from zero (the default)
	RoundDown                     // toward zero
	RoundNearest                  // to the nearer, ties up
)

// E8M0FromFloat64 returns the float8e8m0 bits (a power of two, 2^(b-127))
// for v > 0. Zero, and values beyond the range, become the smallest or
// largest value when saturate is set, else NaN (0xff).
func E8M0FromFloat64(v float64, saturate bool, mode RoundMode) uint8 {
	if math.IsNaN(v) {
		return 0xff
	}
	if math.IsInf(v, 0) || v <= 0 {
		switch {
		case !saturate:
			return 0xff
		case v <= 0:
			return 0
		}
		return 0xfe
	}
	frac, exp := math.Frexp(v) // v = frac * 2^exp, frac in [0.5, 1)
	e := exp - 1
	switch {
	case frac == 0.5:
	case mode == RoundUp:
		e++
	case mode == RoundNearest && frac >= 0.75:
		e++
	}
	code := e + 127
	switch {
	case code > 0xfe:
		if saturate {
			return 0xfe
		}
		return 0xff
	case code < 0:
		if saturate {
			return 0
		}
		return 0xff
	}
	return uint8(code)
}

// E8M0ToFloat64 returns the value of float8e8m0 bits b.
func E8M0ToFloat64(b uint8) float64 {
	if b == 0xff {
		return math.NaN()
	}
	return math.Ldexp(1, int(b)-127)
}
