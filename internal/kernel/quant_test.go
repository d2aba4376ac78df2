package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// quantFloats returns n float32s for the quantization tests: halves (ties
// to round), values near and past ±2^22, infinities, NaN and random ones.
func quantFloats(r *rand.Rand, n int) []float32 {
	special := []float32{0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 127.5, 128.5, -128.5, 255.5, 1 << 22, -(1 << 22), 1<<22 + 1, 1 << 30,
		-(1 << 30), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), float32(math.Copysign(0, -1))}
	x := make([]float32, n)
	for i := range x {
		if r.IntN(3) == 0 {
			x[i] = special[r.IntN(len(special))]
		} else {
			x[i] = float32(r.NormFloat64() * 200)
		}
	}
	return x
}

// TestQuantizeKernels checks Requantize, QuantizeSlice and DequantizeU8 on
// the AVX2 kernels (where the CPU has them) against their scalar loops
// bit for bit, for uint8 and int8 outputs.
func TestQuantizeKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	avx2 := HasAVX2
	defer func() { HasAVX2 = avx2 }()
	for _, n := range []int{0, 1, 7, 8, 37, 200} {
		x := quantFloats(r, n)
		acc := make([]int32, n)
		for i := range acc {
			acc[i] = int32(r.Uint32())
			if r.IntN(2) == 0 {
				acc[i] = int32(r.IntN(20001) - 10000)
			}
		}
		u8 := make([]uint8, n)
		for i := range u8 {
			u8[i] = uint8(r.Uint32())
		}
		for _, mult := range []float32{0.0123, 3.7e-5, 1e30, float32(math.Inf(1)), float32(math.NaN())} {
			for _, q := range []struct{ zp, lo, hi int32 }{{0, 0, 255}, {131, 0, 255}, {-3, -128, 127}} {
				run := func(asm bool) ([]uint8, []int8, []uint8, []int8, []float32) {
					HasAVX2 = asm && avx2
					ru, ri := make([]uint8, n), make([]int8, n)
					qu, qi := make([]uint8, n), make([]int8, n)
					d := make([]float32, n)
					if q.lo == 0 {
						Requantize(ru, acc, 977, mult, q.zp, q.lo, q.hi)
						QuantizeSlice(qu, x, 1/mult, q.zp, q.lo, q.hi)
					} else {
						Requantize(ri, acc, -977, mult, q.zp, q.lo, q.hi)
						QuantizeSlice(qi, x, 1/mult, q.zp, q.lo, q.hi)
					}
					DequantizeU8(d, u8, float32(q.zp), mult)
					return ru, ri, qu, qi, d
				}
				ru, ri, qu, qi, d := run(true)
				wru, wri, wqu, wqi, wd := run(false)
				for i := range n {
					if ru[i] != wru[i] || ri[i] != wri[i] || qu[i] != wqu[i] || qi[i] != wqi[i] {
						t.Fatalf("n %d mult %g %+v: element %d (acc %d, x %g): requantized %d %d, quantized %d %d; want %d %d, %d %d",
							n, mult, q, i, acc[i], x[i], ru[i], ri[i], qu[i], qi[i], wru[i], wri[i], wqu[i], wqi[i])
					}
					if math.Float32bits(d[i]) != math.Float32bits(wd[i]) && !(d[i] != d[i] && wd[i] != wd[i]) {
						t.Fatalf("n %d: DequantizeU8(%d, zp %d, scale %g) = %g, want %g", n, u8[i], q.zp, mult, d[i], wd[i])
					}
				}
			}
		}
	}
}
