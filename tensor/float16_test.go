package tensor

import (
	"math"
	"testing"
)

// The expected bits are from the IEEE 754 binary16 and bfloat16 layouts
// (numpy's np.float16(v).view(np.uint16) gives the same for float16).
func TestFloat16FromFloat64(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want uint16
	}{
		{0, 0x0000},
		{math.Copysign(0, -1), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{65504, 0x7bff},                  // largest finite
		{65519.99, 0x7bff},               // just below the rounding point to Inf
		{65520, 0x7c00},                  // ties to even: rounds to Inf
		{1e6, 0x7c00},                    // overflow
		{math.Inf(-1), 0xfc00},           //
		{math.Ldexp(1, -14), 0x0400},     // smallest normal
		{math.Ldexp(1, -24), 0x0001},     // smallest subnormal
		{math.Ldexp(1, -25), 0x0000},     // half of it: tie to even (0)
		{math.Ldexp(1.5, -25), 0x0001},   // above half
		{math.Ldexp(3, -25), 0x0002},     // 1.5 ulps: tie to even (2)
		{math.Ldexp(1023, -24), 0x03ff},  // largest subnormal
		{math.Ldexp(2047, -25), 0x0400},  // rounds up into the normals
		{1 + math.Ldexp(1, -11), 0x3c00}, // tie between 1 and 1+2^-10: even
		{1 + math.Ldexp(3, -11), 0x3c02}, // tie: even (up)
		{0.1, 0x2e66},
		{1e-10, 0},
	} {
		if got := Float16FromFloat64(c.v); got != c.want {
			t.Errorf("Float16FromFloat64(%g) = %#04x, want %#04x", c.v, got, c.want)
		}
	}
	if h := Float16FromFloat64(math.NaN()); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("Float16FromFloat64(NaN) = %#04x, want a NaN", h)
	}
}

func TestFloat16RoundTrip(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		v := Float16ToFloat64(uint16(h))
		if math.IsNaN(v) {
			continue
		}
		if got := Float16FromFloat64(v); got != uint16(h) {
			t.Fatalf("Float16FromFloat64(Float16ToFloat64(%#04x) = %g) = %#04x", h, v, got)
		}
	}
}

func TestBFloat16(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want uint16
	}{
		{1, 0x3f80},
		{-2, 0xc000},
		{float64(math.Float32frombits(0x3f808000)), 0x3f80}, // tie: even (down)
		{float64(math.Float32frombits(0x3f818000)), 0x3f82}, // tie: even (up)
		{float64(math.Float32frombits(0x3f808001)), 0x3f81}, // above the tie
		{math.MaxFloat32, 0x7f80},                           // rounds up to Inf
		{float64(math.Float32frombits(0x00010000)), 0x0001}, // subnormal
		{math.Inf(1), 0x7f80},
	} {
		if got := BFloat16FromFloat64(c.v); got != c.want {
			t.Errorf("BFloat16FromFloat64(%g) = %#04x, want %#04x", c.v, got, c.want)
		}
	}
	for b := 0; b < 1<<16; b++ {
		v := BFloat16ToFloat64(uint16(b))
		if !math.IsNaN(v) && BFloat16FromFloat64(v) != uint16(b) {
			t.Fatalf("BFloat16 round trip of %#04x (%g) = %#04x", b, v, BFloat16FromFloat64(v))
		}
	}
}

// TestFloat16Slices checks the slice conversions against the scalar ones
// over every bit pattern.
func TestFloat16Slices(t *testing.T) {
	bits := make([]uint16, 1<<16)
	for i := range bits {
		bits[i] = uint16(i)
	}
	f := make([]float32, len(bits))
	back := make([]uint16, len(bits))
	for _, c := range []struct {
		name  string
		widen func([]float32, []uint16)
		narr  func([]uint16, []float32)
		value func(uint16) float64
	}{
		{"float16", Float16ToFloat32, Float32ToFloat16, Float16ToFloat64},
		{"bfloat16", BFloat16ToFloat32, Float32ToBFloat16, BFloat16ToFloat64},
	} {
		c.widen(f, bits)
		c.narr(back, f)
		for i, b := range bits {
			want := c.value(b)
			if math.IsNaN(want) {
				if !math.IsNaN(float64(f[i])) {
					t.Fatalf("%s: %#04x widens to %v, want NaN", c.name, b, f[i])
				}
				continue
			}
			if float64(f[i]) != want || back[i] != b {
				t.Fatalf("%s: %#04x widens to %v (want %v), narrows back to %#04x", c.name, b, f[i], want, back[i])
			}
		}
	}
}

// TestFloat32ToFloat16 checks the float32 fast path against
// Float16FromFloat64 on every float32 bit pattern with a stride (and all
// around the float16 range's edges).
func TestFloat32ToFloat16(t *testing.T) {
	check := func(b uint32) {
		f := math.Float32frombits(b)
		got, want := float32ToFloat16(f), Float16FromFloat64(float64(f))
		if math.IsNaN(float64(f)) {
			if got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
				t.Fatalf("float32ToFloat16(NaN %#08x) = %#04x, want a NaN", b, got)
			}
			return
		}
		if got != want {
			t.Fatalf("float32ToFloat16(%g = %#08x) = %#04x, want %#04x", f, b, got, want)
		}
	}
	for b := uint64(0); b < 1<<32; b += 997 {
		check(uint32(b))
	}
	for _, edge := range []uint32{0x33000000, 0x38800000, 0x477fe000, 0x47800000, 0x7f800000} {
		for d := uint32(0); d < 1<<14; d++ {
			check(edge - 1<<13 + d)
			check(edge - 1<<13 + d | 0x80000000)
		}
	}
}
