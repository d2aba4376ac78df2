package tensor

import (
	"math"
	"testing"
)

// The expected codes follow the layouts in the ONNX spec (Cast's tables and
// docs/Float8.md): E4M3FN has bias 7 and NaN at S.1111.111, E4M3FNUZ bias 8
// and NaN at 0x80, E5M2 is IEEE-like with bias 15, E5M2FNUZ bias 16, E2M1
// bias 1 with values 0, 0.5, 1, 1.5, 2, 3, 4, 6.
func TestFloat8FromFloat64(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		dt   DType
		v    float64
		sat  bool
		want uint8
	}{
		{Float8E4M3FN, 1, true, 0x38},
		{Float8E4M3FN, 448, true, 0x7e},
		{Float8E4M3FN, 500, true, 0x7e},
		{Float8E4M3FN, 500, false, 0x7f},
		{Float8E4M3FN, -inf, true, 0xfe},
		{Float8E4M3FN, -inf, false, 0xff},
		{Float8E4M3FN, math.Copysign(0, -1), true, 0x80},
		{Float8E4M3FN, math.Ldexp(1, -9), true, 0x01},  // smallest subnormal
		{Float8E4M3FN, math.Ldexp(1, -10), true, 0x00}, // half of it: tie to even
		{Float8E4M3FNUZ, 1, true, 0x40},
		{Float8E4M3FNUZ, 240, true, 0x7f},
		{Float8E4M3FNUZ, 300, false, 0x80},
		{Float8E4M3FNUZ, math.Copysign(0, -1), true, 0x00},
		{Float8E4M3FNUZ, math.NaN(), true, 0x80},
		{Float8E5M2, 1, true, 0x3c},
		{Float8E5M2, 57344, true, 0x7b},
		{Float8E5M2, inf, true, 0x7b},
		{Float8E5M2, inf, false, 0x7c},
		{Float8E5M2, -1e6, false, 0xfc},
		{Float8E5M2FNUZ, 1, true, 0x40},
		{Float8E5M2FNUZ, -57344, true, 0xff},
		{Float4E2M1, 1, true, 0x2},
		{Float4E2M1, 0.5, true, 0x1},
		{Float4E2M1, 2.5, true, 0x4}, // tie between 2 and 3: even
		{Float4E2M1, -7, false, 0xf}, // float4 always saturates
		{Float4E2M1, math.NaN(), true, 0x8},
		{Float8E8M0, 1, true, 127},
		{Float8E8M0, 3, true, 129}, // rounds up by default
		{Float8E8M0, 0, true, 0},
		{Float8E8M0, 0, false, 0xff},
	} {
		if got := Float8FromFloat64(c.dt, c.v, c.sat); got != c.want {
			t.Errorf("Float8FromFloat64(%v, %g, %v) = %#02x, want %#02x", c.dt, c.v, c.sat, got, c.want)
		}
	}
	for _, c := range []struct {
		v    float64
		mode RoundMode
		want uint8
	}{
		{3, RoundDown, 128}, {3, RoundNearest, 129}, {2.9, RoundNearest, 128}, {4, RoundUp, 129},
	} {
		if got := E8M0FromFloat64(c.v, true, c.mode); got != c.want {
			t.Errorf("E8M0FromFloat64(%g, mode %d) = %d, want %d", c.v, c.mode, got, c.want)
		}
	}
}

// Every non-NaN code of each format decodes to a value that encodes back to it.
func TestFloat8RoundTrip(t *testing.T) {
	for _, dt := range []DType{Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ, Float4E2M1, Float8E8M0} {
		n := 256
		if dt == Float4E2M1 {
			n = 16
		}
		for b := range n {
			v := Float8ToFloat64(dt, uint8(b))
			if math.IsNaN(v) {
				continue
			}
			if got := Float8FromFloat64(dt, v, false); got != uint8(b) {
				t.Errorf("%v: code %#02x is %g, which encodes to %#02x", dt, b, v, got)
			}
		}
	}
	if v := Float8ToFloat64(Float8E4M3FN, 0x7e); v != 448 {
		t.Errorf("float8e4m3fn 0x7e = %g, want 448", v)
	}
}

// The 4- and 2-bit integers wrap as Cast's ONNX 1.22 tests expect (-9 is
// 7 in int4; -1 is 3 in uint2).
func TestSmallInts(t *testing.T) {
	x := New(Int4, 4)
	for i, v := range []float64{-9, 2.5, -8, 15} {
		x.SetFloat64(i, v)
	}
	if got := Data[int8](x); got[0] != 7 || got[1] != 2 || got[2] != -8 || got[3] != -1 {
		t.Errorf("int4 of -9, 2.5, -8, 15 = %v, want [7 2 -8 -1]", got)
	}
	u := New(Uint2, 2)
	u.SetInt64(0, -1)
	u.SetInt64(1, 9)
	if got := Data[uint8](u); got[0] != 3 || got[1] != 1 {
		t.Errorf("uint2 of -1, 9 = %v, want [3 1]", got)
	}
	if Int4.Bits() != 4 || Uint2.Bits() != 2 || Float16.Bits() != 16 {
		t.Errorf("Bits() = %d, %d, %d, want 4, 2, 16", Int4.Bits(), Uint2.Bits(), Float16.Bits())
	}
}
