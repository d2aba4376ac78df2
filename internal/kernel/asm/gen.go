//go:build ignore

// gen.go writes the AVX2/FMA micro-kernels of package kernel with avo.
// Run from this folder (its own module, so avo stays out of the main go.mod):
//
//	go run gen.go -out ../kernels_amd64.s -stubs ../kernels_stub_amd64.go -pkg kernel
package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm")
	sgemmKernel()
	tanh()
	dot()
	axpy()
	Generate()
}

// sgemmKernel: C[6x16] += A·B over k steps, where a holds k groups of 6
// floats (a column of the packed A panel) and b holds k groups of 16 floats
// (a row of the packed B panel); C rows are ldc floats apart.
func sgemmKernel() {
	TEXT("sgemmKernelAVX2", NOSPLIT, "func(k int, a, b, c *float32, ldc int)")
	Doc("sgemmKernelAVX2 adds the product of a packed 6xk A panel and a packed kx16 B panel to the 6x16 tile at c.")
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())

	var acc [6][2]reg.VecVirtual
	for r := range acc {
		for h := range acc[r] {
			acc[r][h] = YMM()
			VXORPS(acc[r][h], acc[r][h], acc[r][h])
		}
	}
	b0, b1, t := YMM(), YMM(), YMM()

	Label("loop")
	TESTQ(k, k)
	JE(LabelRef("store"))
	VMOVUPS(Mem{Base: b}, b0)
	VMOVUPS(Mem{Base: b, Disp: 32}, b1)
	for r := range acc {
		VBROADCASTSS(Mem{Base: a, Disp: 4 * r}, t)
		VFMADD231PS(b0, t, acc[r][0])
		VFMADD231PS(b1, t, acc[r][1])
	}
	ADDQ(Imm(24), a)
	ADDQ(Imm(64), b)
	DECQ(k)
	JMP(LabelRef("loop"))

	Label("store")
	SHLQ(Imm(2), ldc)
	for r := range acc {
		for h := range acc[r] {
			m := Mem{Base: c, Disp: 32 * h}
			VADDPS(m, acc[r][h], acc[r][h])
			VMOVUPS(acc[r][h], m)
		}
		if r < len(acc)-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// tanh: dst[i] = tanh(src[i]) for i < n, n a multiple of 8, in float32
// lanes. With a = min(|x|, 9) and u = -2a:
//   - a < 0.625: em = expm1(u) by its Taylor series to degree 11, and
//     tanh a = -em / (2 + em);
//   - else: e = exp(u) = 2^k * p(r) with k = round(u/ln2), r = u - k ln2
//     (ln2 split in two parts) and p the degree-7 Taylor polynomial, and
//     tanh a = (1 - e) / (1 + e).
//
// The sign of x is put back, and NaN lanes pass through.
func tanh() {
	// Constants, declared before the function.
	type konst struct {
		name string
		bits uint32
	}
	f := func(name string, v float64) konst { return konst{name, math.Float32bits(float32(v))} }
	// Horner coefficients of exp's degree-7 Taylor polynomial after the
	// leading 1/7!, and of expm1(u)/u to degree 10 after the leading 1/11!.
	expCoefs := []float64{1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1}
	var em1Coefs []float64 // 1/10!, 1/9!, ..., 1/1!
	for i := 10; i >= 1; i-- {
		fact := 1.0
		for j := 2; j <= i; j++ {
			fact *= float64(j)
		}
		em1Coefs = append(em1Coefs, 1/fact)
	}
	list := []konst{
		{"tanh_abs", 0x7fffffff}, {"tanh_sign", 0x80000000}, {"tanh_bias", 127},
		f("tanh_max", 9), f("tanh_neg2", -2), f("tanh_log2e", math.Log2E),
		f("tanh_ln2hi", 0.693359375), f("tanh_ln2lo", -2.12194440e-4),
		f("tanh_e7", 1.0/5040), f("tanh_one", 1), f("tanh_two", 2), f("tanh_cut", 0.625),
		f("tanh_m11", 1.0/39916800),
	}
	for i, v := range expCoefs {
		list = append(list, f(fmt.Sprintf("tanh_e%d", i), v))
	}
	for i, v := range em1Coefs {
		list = append(list, f(fmt.Sprintf("tanh_m%d", i), v))
	}
	consts := map[string]Mem{}
	for _, k := range list {
		consts[k.name] = GLOBL(k.name, RODATA|NOPTR)
		DATA(0, U32(k.bits))
	}
	c := func(name string) reg.VecVirtual {
		r := YMM()
		VBROADCASTSS(consts[name], r)
		return r
	}

	TEXT("tanhAVX2", NOSPLIT, "func(dst, src *float32, n int)")
	Doc("tanhAVX2 sets dst[i] = tanh(src[i]) for i < n; n must be a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())

	Label("tanh_loop")
	CMPQ(n, Imm(8))
	JL(LabelRef("tanh_done"))

	x := YMM()
	VMOVUPS(Mem{Base: src}, x)
	a := YMM()
	VANDPS(c("tanh_abs"), x, a)
	VMINPS(c("tanh_max"), a, a)
	u := YMM()
	VMULPS(c("tanh_neg2"), a, u)

	// e = exp(u) = 2^k * p(r) for the large path.
	k := YMM()
	VMULPS(c("tanh_log2e"), u, k)
	VROUNDPS(Imm(0), k, k)
	r := YMM()
	VMOVAPS(u, r)
	VFNMADD231PS(c("tanh_ln2hi"), k, r)
	VFNMADD231PS(c("tanh_ln2lo"), k, r)
	p := YMM()
	VBROADCASTSS(consts["tanh_e7"], p)
	for i := range expCoefs {
		VFMADD213PS(c(fmt.Sprintf("tanh_e%d", i)), r, p)
	}
	ki := YMM()
	VCVTPS2DQ(k, ki)
	VPADDD(c("tanh_bias"), ki, ki)
	VPSLLD(Imm(23), ki, ki)
	VMULPS(ki, p, p)
	numL, denL := YMM(), YMM()
	VSUBPS(p, c("tanh_one"), numL) // 1 - e
	VADDPS(c("tanh_one"), p, denL) // 1 + e

	// em = expm1(u) for the small path.
	em := YMM()
	VBROADCASTSS(consts["tanh_m11"], em)
	for i := range em1Coefs {
		VFMADD213PS(c(fmt.Sprintf("tanh_m%d", i)), u, em)
	}
	VMULPS(u, em, em)
	numS, denS := YMM(), YMM()
	VXORPS(c("tanh_sign"), em, numS) // -em
	VADDPS(c("tanh_two"), em, denS)  // 2 + em

	small := YMM()
	VCMPPS(Imm(1), c("tanh_cut"), a, small) // a < 0.625
	VBLENDVPS(small, numS, numL, numL)
	VBLENDVPS(small, denS, denL, denL)
	t := YMM()
	VDIVPS(denL, numL, t)

	sign := YMM()
	VANDPS(c("tanh_sign"), x, sign)
	VORPS(sign, t, t)
	nan := YMM()
	VCMPPS(Imm(3), x, x, nan) // unordered: x is NaN
	VBLENDVPS(nan, x, t, t)
	VMOVUPS(t, Mem{Base: dst})

	ADDQ(Imm(32), src)
	ADDQ(Imm(32), dst)
	SUBQ(Imm(8), n)
	JMP(LabelRef("tanh_loop"))

	Label("tanh_done")
	VZEROUPPER()
	RET()
}

// dot: the sum of x[i]*y[i] for i < n, n a multiple of 32, in four
// 8-lane accumulators added at the end.
func dot() {
	TEXT("dotAVX2", NOSPLIT, "func(x, y *float32, n int) float32")
	Doc("dotAVX2 returns the sum of x[i]*y[i] for i < n; n must be a multiple of 32.")
	x := Load(Param("x"), GP64())
	y := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	var acc [4]reg.VecVirtual
	for i := range acc {
		acc[i] = YMM()
		VXORPS(acc[i], acc[i], acc[i])
	}
	Label("dot_loop")
	CMPQ(n, Imm(32))
	JL(LabelRef("dot_done"))
	for i := range acc {
		t := YMM()
		VMOVUPS(Mem{Base: x, Disp: 32 * i}, t)
		VFMADD231PS(Mem{Base: y, Disp: 32 * i}, t, acc[i])
	}
	ADDQ(Imm(128), x)
	ADDQ(Imm(128), y)
	SUBQ(Imm(32), n)
	JMP(LabelRef("dot_loop"))
	Label("dot_done")
	VADDPS(acc[1], acc[0], acc[0])
	VADDPS(acc[3], acc[2], acc[2])
	VADDPS(acc[2], acc[0], acc[0])
	hi := XMM()
	VEXTRACTF128(Imm(1), acc[0], hi)
	lo := acc[0].AsX()
	VADDPS(hi, lo, lo)
	VHADDPS(lo, lo, lo)
	VHADDPS(lo, lo, lo)
	VZEROUPPER()
	Store(lo, ReturnIndex(0))
	RET()
}

// axpy: y[i] += a*x[i] for i < n, n a multiple of 32.
func axpy() {
	TEXT("axpyAVX2", NOSPLIT, "func(a float32, x, y *float32, n int)")
	Doc("axpyAVX2 sets y[i] += a*x[i] for i < n; n must be a multiple of 32.")
	av := YMM()
	VBROADCASTSS(NewParamAddr("a", 0), av)
	x := Load(Param("x"), GP64())
	y := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	Label("axpy_loop")
	CMPQ(n, Imm(32))
	JL(LabelRef("axpy_done"))
	for i := 0; i < 4; i++ {
		t := YMM()
		VMOVUPS(Mem{Base: y, Disp: 32 * i}, t)
		VFMADD231PS(Mem{Base: x, Disp: 32 * i}, av, t)
		VMOVUPS(t, Mem{Base: y, Disp: 32 * i})
	}
	ADDQ(Imm(128), x)
	ADDQ(Imm(128), y)
	SUBQ(Imm(32), n)
	JMP(LabelRef("axpy_loop"))
	Label("axpy_done")
	VZEROUPPER()
	RET()
}
