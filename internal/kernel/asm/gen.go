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
	sgemmKernel512()
	sgemmKernelSingle512()
	sgemmKernelOffsets()
	sgemmKernelNarrow512()
	tanh()
	dot()
	axpy()
	dotTile()
	scale()
	addConst()
	relu()
	max4()
	avgPool2()
	poolRows()
	packA6()
	tanhGrad()
	adam()
	gemv64()
	gemvPanels()
	exp()
	sigmoid("sigmoidAVX2", false)
	sigmoid("siluAVX2", true)
	clip()
	hardSigmoid("hardSigmoidAVX2", false)
	hardSigmoid("mulHardSigmoidAVX2", true)
	axpyRows(1)
	axpyRows(2)
	axpyTaps()
	maxRows(1)
	maxRows(2)
	erf()
	igemmKernel()
	igemmKernelOffsets()
	requantize()
	quantize()
	dequantizeU8()
	Generate()
}

// sgemmKernel: C[6x16] += A·B over k steps, where a holds k groups of 6
// floats (a column of the packed A panel) and b holds k rows of 16 floats,
// ldb floats apart (16 for a packed B panel, B's own stride when it is
// read in place); C rows are ldc floats apart. Two YMM registers hold a
// row of 16.
func sgemmKernel() {
	TEXT("sgemmKernelAVX2", NOSPLIT, "func(k int, a, b *float32, ldb int, c *float32, ldc int, overwrite bool)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("sgemmKernelAVX2 adds the product of a packed 6xk A panel and a kx16 B panel (rows ldb floats apart) to the 6x16 tile at c, or stores it there without reading c when overwrite is set.")
	b := Load(Param("b"), GP64())
	ldb := strideBytes()
	microKernel("avx2", ymm, 2,
		func() []Mem { return []Mem{{Base: b}, {Base: b, Disp: 32}} },
		func() { ADDQ(ldb, b) })
}

// sgemmKernel512: the AVX-512 form of sgemmKernel for two B panels side
// by side, C[6x32] += A·[B0 B1], one 16-float ZMM row per panel. Each
// element is summed exactly as sgemmKernel sums it (zero, then one fused
// multiply-add per k step, then added to C or stored), so the two kernels
// give the same results bit for bit.
func sgemmKernel512() {
	TEXT("sgemmKernelAVX512", NOSPLIT, "func(k int, a, b0, b1 *float32, ldb int, c *float32, ldc int, overwrite bool)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("sgemmKernelAVX512 adds the product of a packed 6xk A panel and the kx32 matrix of two kx16 B panels (b0 then b1, rows ldb floats apart) to the 6x32 tile at c, or stores it there without reading c when overwrite is set.")
	b0 := Load(Param("b0"), GP64())
	b1 := Load(Param("b1"), GP64())
	ldb := strideBytes()
	microKernel("avx512", zmm, 2,
		func() []Mem { return []Mem{{Base: b0}, {Base: b1}} },
		func() { ADDQ(ldb, b0); ADDQ(ldb, b1) })
}

// sgemmKernelSingle512: sgemmKernel with one ZMM a row of C instead of
// two YMM, for a last single B panel when the CPU has AVX-512.
func sgemmKernelSingle512() {
	TEXT("sgemmKernelSingleAVX512", NOSPLIT, "func(k int, a, b *float32, ldb int, c *float32, ldc int, overwrite bool)")
	Pragma("noescape")
	Doc("sgemmKernelSingleAVX512 is sgemmKernelAVX2 in AVX-512: one 16-float ZMM row of C.")
	b := Load(Param("b"), GP64())
	ldb := strideBytes()
	microKernel("single512", zmm, 1,
		func() []Mem { return []Mem{{Base: b}} },
		func() { ADDQ(ldb, b) })
}

// sgemmKernelOffsets: sgemmKernel over a B given by row offsets, row p of
// the B panel being the floats at b + offs[p]. A convolution's im2col
// matrix is such a B over its (padded) input, so the kernels read the
// input in place. The AVX2 form is 16 columns wide, the AVX-512 ones 32
// (the second panel 16 floats after the first) and 16; each element is
// summed exactly as in sgemmKernel.
func sgemmKernelOffsets() {
	offsetsKernel("sgemmKernelOffsetsAVX2", "offs2", ymm, 2, "sgemmKernelOffsetsAVX2 is sgemmKernelAVX2 with row p of B at b + offs[p] floats.")
	offsetsKernel("sgemmKernelOffsetsAVX512", "offs512", zmm, 2, "sgemmKernelOffsetsAVX512 is sgemmKernelAVX512 with the two panels side by side, row p at b + offs[p] floats.")
	offsetsKernel("sgemmKernelOffsetsSingleAVX512", "offs1x512", zmm, 1, "sgemmKernelOffsetsSingleAVX512 is sgemmKernelOffsetsAVX2 in AVX-512: one 16-float ZMM row of C.")
}

// offsetsKernel writes one of the sgemmKernelOffsets kernels: vecs
// vectors of kind v a row of C.
func offsetsKernel(name, prefix string, v vecKind, vecs int, doc string) {
	TEXT(name, NOSPLIT, "func(k int, a, b *float32, offs *int32, c *float32, ldc int, overwrite bool)")
	Pragma("noescape")
	Doc(doc)
	b := Load(Param("b"), GP64())
	offs := Load(Param("offs"), GP64())
	off := GP64()
	microKernel(prefix, v, vecs,
		func() []Mem {
			MOVLQSX(Mem{Base: offs}, off)
			row := make([]Mem, vecs)
			for h := range row {
				row[h] = Mem{Base: b, Index: off, Scale: 4, Disp: v.bytes * h}
			}
			return row
		},
		func() { ADDQ(Imm(4), offs) })
}

// sgemmKernelNarrow512: C[12 x w] (+)= A·B for a B of at most 16
// columns, one packed 16-wide panel (k rows of 16 floats, zero past w),
// with twelve rows of A read in place, lda floats apart: one ZMM row of
// C a row of A, stored through the mask of its w columns. Each element
// is summed exactly as in sgemmKernel (from zero, one fused multiply-add
// a k step, then stored or added to C).
func sgemmKernelNarrow512() {
	TEXT("sgemmKernelNarrowAVX512", NOSPLIT, "func(k int, a *float32, lda int, b *float32, c *float32, ldc int, mask uint16, overwrite bool)")
	Pragma("noescape")
	Doc("sgemmKernelNarrowAVX512 adds the product of twelve rows of A (row r at a + r*lda floats, k values) and a packed kx16 B panel to the columns of mask of the 12 rows of C at c (ldc floats apart), or stores it there without reading c when overwrite is set.")
	const rows = 12
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(Imm(2), lda)
	// Four bases, three rows each: base, base+lda, base+2*lda.
	bases := []reg.Register{a}
	for range 3 {
		nb := GP64()
		LEAQ(Mem{Base: bases[len(bases)-1], Index: lda, Scale: 2}, nb)
		ADDQ(lda, nb)
		bases = append(bases, nb)
	}
	at := func(r int) Mem {
		base, i := bases[r/3], r%3
		if i == 0 {
			return Mem{Base: base}
		}
		return Mem{Base: base, Index: lda, Scale: uint8(i)}
	}
	b := Load(Param("b"), GP64())
	acc := make([]reg.VecVirtual, rows)
	for r := range acc {
		acc[r] = ZMM()
		VPXORD(acc[r], acc[r], acc[r])
	}
	bv, t := ZMM(), ZMM()
	Label("narrow_loop")
	TESTQ(k, k)
	JE(LabelRef("narrow_store"))
	VMOVUPS(Mem{Base: b}, bv)
	for r := range acc {
		VBROADCASTSS(at(r), t)
		VFMADD231PS(bv, t, acc[r])
	}
	for _, base := range bases {
		ADDQ(Imm(4), base)
	}
	ADDQ(Imm(64), b)
	DECQ(k)
	JMP(LabelRef("narrow_loop"))

	Label("narrow_store")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(Imm(2), ldc)
	m := Load(Param("mask"), GP32())
	KMOVW(m, reg.K1)
	ow := Load(Param("overwrite"), GP8())
	TESTB(ow, ow)
	JNZ(LabelRef("narrow_overwrite"))
	for r := range acc {
		VMOVUPS_Z(Mem{Base: c}, reg.K1, t)
		VADDPS(t, acc[r], acc[r])
		VMOVUPS(acc[r], reg.K1, Mem{Base: c})
		ADDQ(ldc, c)
	}
	VZEROUPPER()
	RET()
	Label("narrow_overwrite")
	for r := range acc {
		VMOVUPS(acc[r], reg.K1, Mem{Base: c})
		ADDQ(ldc, c)
	}
	VZEROUPPER()
	RET()
}

// vecKind is a kind of vector register: how to allocate one, how to zero
// it and its width in bytes.
type vecKind struct {
	alloc func() reg.VecVirtual
	zero  func(reg.VecVirtual)
	bytes int
}

var (
	ymm = vecKind{YMM, func(r reg.VecVirtual) { VXORPS(r, r, r) }, 32}
	// VXORPS on ZMM needs AVX512DQ, VPXORD only F.
	zmm = vecKind{ZMM, func(r reg.VecVirtual) { VPXORD(r, r, r) }, 64}
)

// strideBytes loads the parameter ldb, a stride in floats, as bytes.
func strideBytes() reg.Register {
	ldb := Load(Param("ldb"), GP64())
	SHLQ(Imm(2), ldb)
	return ldb
}

// microKernel writes the rest of a micro-kernel whose parameters k, a,
// c, ldc and overwrite are as in sgemmKernel: 6 rows of vecs vectors of
// kind v, the vectors of each B row loaded from what row returns (called
// at the start of each k step), advance called at its end.
func microKernel(prefix string, v vecKind, vecs int, row func() []Mem, advance func()) {
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())

	var acc [6][]reg.VecVirtual
	for r := range acc {
		acc[r] = make([]reg.VecVirtual, vecs)
		for h := range acc[r] {
			acc[r][h] = v.alloc()
			v.zero(acc[r][h])
		}
	}
	bv := make([]reg.VecVirtual, vecs)
	for h := range bv {
		bv[h] = v.alloc()
	}
	t := v.alloc()

	Label(prefix + "_loop")
	TESTQ(k, k)
	JE(LabelRef(prefix + "_store"))
	half := row()
	for h := range bv {
		VMOVUPS(half[h], bv[h])
	}
	for r := range acc {
		VBROADCASTSS(Mem{Base: a, Disp: 4 * r}, t)
		for h := range bv {
			VFMADD231PS(bv[h], t, acc[r][h])
		}
	}
	ADDQ(Imm(24), a)
	advance()
	DECQ(k)
	JMP(LabelRef(prefix + "_loop"))

	Label(prefix + "_store")
	SHLQ(Imm(2), ldc)
	ow := Load(Param("overwrite"), GP8())
	TESTB(ow, ow)
	JNZ(LabelRef(prefix + "_overwrite"))
	for r := range acc {
		for h := range acc[r] {
			m := Mem{Base: c, Disp: v.bytes * h}
			VADDPS(m, acc[r][h], acc[r][h])
			VMOVUPS(acc[r][h], m)
		}
		if r < len(acc)-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()

	Label(prefix + "_overwrite")
	for r := range acc {
		for h := range acc[r] {
			VMOVUPS(acc[r][h], Mem{Base: c, Disp: v.bytes * h})
		}
		if r < len(acc)-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// tanh: dst[i] = tanh(src[i]) for i < n, n a multiple of 8, in float32
// lanes, from one expm1: with a = min(|x|, 9) and u = -2a,
// em = expm1(u) = 2^k*q + (2^k - 1), where k = round(u/ln2), r = u - k ln2
// (ln2 split in two parts, |r| <= ln2/2) and q = expm1(r) by its Taylor
// series to degree 8; then tanh a = -em / (2 + em). For |u| < ln2/2, k is
// 0 and em is q itself, so small arguments keep their relative accuracy.
//
// The sign of x is put back, and NaN lanes pass through.
func tanh() {
	// Constants, declared before the function.
	type konst struct {
		name string
		bits uint32
	}
	f := func(name string, v float64) konst { return konst{name, math.Float32bits(float32(v))} }
	// Horner coefficients of expm1(r)/r to degree 7 after the leading
	// 1/8!: 1/7!, 1/6!, ..., 1/1!.
	var em1Coefs []float64
	for i := 7; i >= 1; i-- {
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
		f("tanh_one", 1), f("tanh_two", 2), f("tanh_m8", 1.0/40320),
	}
	for i, v := range em1Coefs {
		list = append(list, f(fmt.Sprintf("tanh_m%d", i), v))
	}
	// Each constant is stored as eight lanes, so that the instructions
	// read it from memory with no broadcast of their own.
	consts := map[string]Mem{}
	for _, k := range list {
		consts[k.name] = GLOBL(k.name, RODATA|NOPTR)
		for lane := range 8 {
			DATA(4*lane, U32(k.bits))
		}
	}
	c := func(name string) Mem { return consts[name] }

	TEXT("tanhAVX2", NOSPLIT, "func(dst, src *float32, n int)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("tanhAVX2 sets dst[i] = tanh(src[i]) for i < n; n must be a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())

	// body computes vecs vectors at once, each step for all of them in
	// turn, so that their dependency chains overlap.
	body := func(vecs int) {
		each := func(f func(i int)) {
			for i := range vecs {
				f(i)
			}
		}
		in := func(i int) Mem { return Mem{Base: src, Disp: 32 * i} }
		a, u, k, r, q := make([]reg.VecVirtual, vecs), make([]reg.VecVirtual, vecs), make([]reg.VecVirtual, vecs), make([]reg.VecVirtual, vecs), make([]reg.VecVirtual, vecs)
		each(func(i int) {
			a[i] = YMM()
			VMOVUPS(in(i), a[i])
		})
		each(func(i int) {
			VANDPS(c("tanh_abs"), a[i], a[i]) // |x|
		})
		each(func(i int) { VMINPS(c("tanh_max"), a[i], a[i]) })
		each(func(i int) { u[i] = YMM(); VMULPS(c("tanh_neg2"), a[i], u[i]) })
		// u = k ln2 + r.
		each(func(i int) { k[i] = YMM(); VMULPS(c("tanh_log2e"), u[i], k[i]) })
		each(func(i int) { VROUNDPS(Imm(0), k[i], k[i]) })
		each(func(i int) { r[i] = u[i]; VFNMADD231PS(c("tanh_ln2hi"), k[i], r[i]) })
		each(func(i int) { VFNMADD231PS(c("tanh_ln2lo"), k[i], r[i]) })
		// q = expm1(r) = r * (1 + r/2 + ... + r^7/8!).
		each(func(i int) { q[i] = YMM(); VMOVUPS(c("tanh_m8"), q[i]) })
		for j := range em1Coefs {
			each(func(i int) { VFMADD213PS(c(fmt.Sprintf("tanh_m%d", j)), r[i], q[i]) })
		}
		each(func(i int) { VMULPS(r[i], q[i], q[i]) })
		// s = 2^k; em = s*q + (s - 1).
		s := k
		each(func(i int) { VCVTPS2DQ(k[i], s[i]) })
		each(func(i int) { VPADDD(c("tanh_bias"), s[i], s[i]) })
		each(func(i int) { VPSLLD(Imm(23), s[i], s[i]) })
		em := r
		each(func(i int) { VSUBPS(c("tanh_one"), s[i], em[i]) }) // s - 1
		each(func(i int) { VFMADD231PS(q[i], s[i], em[i]) })
		num, den := q, s
		each(func(i int) { VXORPS(c("tanh_sign"), em[i], num[i]) }) // -em
		each(func(i int) { VADDPS(c("tanh_two"), em[i], den[i]) })  // 2 + em
		t := num
		each(func(i int) { VDIVPS(den[i], num[i], t[i]) })
		each(func(i int) { VANDPS(c("tanh_abs"), t[i], t[i]) }) // tanh a >= 0 (t is -0 when a is 0)
		// The sign of x put back; NaN lanes pass through.
		x, sign := a, u
		each(func(i int) { VMOVUPS(in(i), x[i]) })
		each(func(i int) { VANDPS(c("tanh_sign"), x[i], sign[i]) })
		each(func(i int) { VORPS(sign[i], t[i], t[i]) })
		nan := em
		each(func(i int) { VCMPPS(Imm(3), x[i], x[i], nan[i]) }) // unordered: x is NaN
		each(func(i int) { VBLENDVPS(nan[i], x[i], t[i], t[i]) })
		each(func(i int) { VMOVUPS(t[i], Mem{Base: dst, Disp: 32 * i}) })
	}
	const unroll = 4
	Label("tanh_wide")
	CMPQ(n, Imm(8*unroll))
	JL(LabelRef("tanh_loop"))
	body(unroll)
	ADDQ(Imm(32*unroll), src)
	ADDQ(Imm(32*unroll), dst)
	SUBQ(Imm(8*unroll), n)
	JMP(LabelRef("tanh_wide"))
	stream("tanh", n, 8, []step{{src, 32}, {dst, 32}}, func() { body(1) })
}

// dot: the sum of x[i]*y[i] for i < n, n a multiple of 8, in four
// 8-lane accumulators (the last n%32 elements go to the first) added at
// the end.
func dot() {
	TEXT("dotAVX2", NOSPLIT, "func(x, y *float32, n int) float32")
	Pragma("noescape") // the kernels keep no pointer
	Doc("dotAVX2 returns the sum of x[i]*y[i] for i < n; n must be a multiple of 8.")
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
	// The last n < 32 elements, 8 at a time.
	Label("dot_tail")
	CMPQ(n, Imm(8))
	JL(LabelRef("dot_sum"))
	t := YMM()
	VMOVUPS(Mem{Base: x}, t)
	VFMADD231PS(Mem{Base: y}, t, acc[0])
	ADDQ(Imm(32), x)
	ADDQ(Imm(32), y)
	SUBQ(Imm(8), n)
	JMP(LabelRef("dot_tail"))
	Label("dot_sum")
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

// axpy: y[i] += a*x[i] for i < n, n a multiple of 8: 32 at a time, then 8.
func axpy() {
	TEXT("axpyAVX2", NOSPLIT, "func(a float32, x, y *float32, n int)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("axpyAVX2 sets y[i] += a*x[i] for i < n; n must be a multiple of 8.")
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
	// The last n < 32 elements, 8 at a time.
	Label("axpy_tail")
	CMPQ(n, Imm(8))
	JL(LabelRef("axpy_end"))
	t := YMM()
	VMOVUPS(Mem{Base: y}, t)
	VFMADD231PS(Mem{Base: x}, av, t)
	VMOVUPS(t, Mem{Base: y})
	ADDQ(Imm(32), x)
	ADDQ(Imm(32), y)
	SUBQ(Imm(8), n)
	JMP(LabelRef("axpy_tail"))
	Label("axpy_end")
	VZEROUPPER()
	RET()
}

// elementwise writes a loop over n float32s (n a multiple of 8) at x,
// 32 at a time and then 8 at a time, that applies body to each vector of
// 8 lanes in place.
func elementwise(prefix string, x, n reg.Register, body func(v reg.VecVirtual)) {
	Label(prefix + "_loop")
	CMPQ(n, Imm(32))
	JL(LabelRef(prefix + "_tail"))
	for i := 0; i < 4; i++ {
		t := YMM()
		VMOVUPS(Mem{Base: x, Disp: 32 * i}, t)
		body(t)
		VMOVUPS(t, Mem{Base: x, Disp: 32 * i})
	}
	ADDQ(Imm(128), x)
	SUBQ(Imm(32), n)
	JMP(LabelRef(prefix + "_loop"))
	Label(prefix + "_tail")
	CMPQ(n, Imm(8))
	JL(LabelRef(prefix + "_done"))
	t := YMM()
	VMOVUPS(Mem{Base: x}, t)
	body(t)
	VMOVUPS(t, Mem{Base: x})
	ADDQ(Imm(32), x)
	SUBQ(Imm(8), n)
	JMP(LabelRef(prefix + "_tail"))
	Label(prefix + "_done")
	VZEROUPPER()
	RET()
}

// step is a pointer that a stream loop advances by bytes each time.
type step struct {
	p     reg.Register
	bytes int
}

// stream writes a loop that, while n >= count, runs body, advances each
// pointer of steps and takes count from n, then returns (after
// VZEROUPPER).
func stream(prefix string, n reg.Register, count int, steps []step, body func()) {
	Label(prefix + "_loop")
	CMPQ(n, Imm(uint64(count)))
	JL(LabelRef(prefix + "_done"))
	body()
	for _, st := range steps {
		ADDQ(Imm(uint64(st.bytes)), st.p)
	}
	SUBQ(Imm(uint64(count)), n)
	JMP(LabelRef(prefix + "_loop"))
	Label(prefix + "_done")
	VZEROUPPER()
	RET()
}

// relu: dst[i] = max(src[i], 0) for i < n, n a multiple of 8, as
// VMAXPS(src, 0): (0 > x) ? 0 : x, so NaN and -0 pass through.
func relu() {
	TEXT("reluAVX2", NOSPLIT, "func(dst, src *float32, n int)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("reluAVX2 sets dst[i] = src[i] if not src[i] < 0, else 0, for i < n; n must be a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	zero := YMM()
	VXORPS(zero, zero, zero)
	stream("relu", n, 8, []step{{src, 32}, {dst, 32}}, func() {
		t := YMM()
		VMAXPS(Mem{Base: src}, zero, t)
		VMOVUPS(t, Mem{Base: dst})
	})
}

// max4: dst[i] = the maximum of a[i], b[i], c[i], d[i] for i < n, n a
// multiple of 8, taken as m = a; m = b if b > m; and so on, so that a NaN
// is kept only from a (as in a scalar loop over a max-pooling window).
func max4() {
	TEXT("max4AVX2", NOSPLIT, "func(dst, a, b, c, d *float32, n int)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("max4AVX2 sets dst[i] to the running maximum of a[i], b[i], c[i], d[i] (m = a; m = x if x > m) for i < n; n must be a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	ptrs := []reg.Register{Load(Param("a"), GP64()), Load(Param("b"), GP64()), Load(Param("c"), GP64()), Load(Param("d"), GP64())}
	n := Load(Param("n"), GP64())
	steps := []step{{dst, 32}}
	for _, p := range ptrs {
		steps = append(steps, step{p, 32})
	}
	stream("max4", n, 8, steps, func() {
		m, x := YMM(), YMM()
		VMOVUPS(Mem{Base: ptrs[0]}, m)
		for _, p := range ptrs[1:] {
			VMOVUPS(Mem{Base: p}, x)
			VMAXPS(m, x, m) // (x > m) ? x : m
		}
		VMOVUPS(m, Mem{Base: dst})
	})
}

// avgPool2: dst[j] = float32(((0 + r0[2j]) + r0[2j+1] + r1[2j] + r1[2j+1]) / 4)
// summed in float64 in that order, for j < n, n a multiple of 4: 2x2
// average pooling at stride 2 over two input rows. (Adding 0 first only
// turns an all -0 window's -0 into +0, as a sum started at 0 does.)
func avgPool2() {
	TEXT("avgPool2AVX2", NOSPLIT, "func(dst, r0, r1 *float32, n int)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("avgPool2AVX2 sets dst[j] to the float64 mean of r0[2j], r0[2j+1], r1[2j], r1[2j+1] (summed from 0 in that order) for j < n; n must be a multiple of 4.")
	dst := Load(Param("dst"), GP64())
	r0 := Load(Param("r0"), GP64())
	r1 := Load(Param("r1"), GP64())
	n := Load(Param("n"), GP64())
	zero, quarter := YMM(), YMM()
	VXORPD(zero, zero, zero)
	consts := GLOBL("avgpool_quarter", RODATA|NOPTR)
	DATA(0, U64(math.Float64bits(0.25)))
	VBROADCASTSD(consts, quarter)
	stream("avgpool", n, 4, []step{{r0, 32}, {r1, 32}, {dst, 16}}, func() {
		lo0, hi0, lo1, hi1 := YMM(), YMM(), YMM(), YMM()
		VCVTPS2PD(Mem{Base: r0}, lo0)           // a0 b0 a1 b1
		VCVTPS2PD(Mem{Base: r0, Disp: 16}, hi0) // a2 b2 a3 b3
		VCVTPS2PD(Mem{Base: r1}, lo1)           // c0 d0 c1 d1
		VCVTPS2PD(Mem{Base: r1, Disp: 16}, hi1) // c2 d2 c3 d3
		s, c, d := YMM(), YMM(), YMM()
		VHADDPD(hi0, lo0, s)   // a0+b0, a2+b2, a1+b1, a3+b3
		VADDPD(zero, s, s)     // 0 + (a+b) = (0+a) + b
		VUNPCKLPD(hi1, lo1, c) // c0 c2 c1 c3
		VUNPCKHPD(hi1, lo1, d) // d0 d2 d1 d3
		VADDPD(c, s, s)
		VADDPD(d, s, s)
		VMULPD(quarter, s, s)    // /4, exactly
		VPERMPD(Imm(0xd8), s, s) // outputs 0 1 2 3
		out := XMM()
		VCVTPD2PSY(s, out)
		VMOVUPS(out, Mem{Base: dst})
	})
}

// poolRows: max4 and avgPool2 over many rows in one call, for the 2x2
// pools of whole planes. Output row r (width values, rows of dst one after
// another) comes from the input rows at src + r*step and ld floats below;
// a last partial vector of a row is computed again over the row's last
// full vector's worth (width must be at least one vector).
func poolRows() {
	gen := func(name, prefix, doc string, chunk, srcPer int, body func(d, a, b reg.Register)) {
		TEXT(name, NOSPLIT, "func(dst, src *float32, rows, width, ld, step int)")
		Pragma("noescape")
		Doc(doc)
		dst := Load(Param("dst"), GP64())
		src := Load(Param("src"), GP64())
		rows := Load(Param("rows"), GP64())
		width := Load(Param("width"), GP64())
		ld := Load(Param("ld"), GP64())
		SHLQ(Imm(2), ld)
		stp := Load(Param("step"), GP64())
		SHLQ(Imm(2), stp)
		d, a, b, cnt, back := GP64(), GP64(), GP64(), GP64(), GP64()
		Label(prefix + "_row")
		TESTQ(rows, rows)
		JE(LabelRef(prefix + "_done"))
		MOVQ(dst, d)
		MOVQ(src, a)
		MOVQ(src, b)
		ADDQ(ld, b)
		MOVQ(width, cnt)
		Label(prefix + "_vec")
		CMPQ(cnt, Imm(uint64(chunk)))
		JL(LabelRef(prefix + "_tail"))
		body(d, a, b)
		ADDQ(Imm(uint64(4*chunk)), d)
		ADDQ(Imm(uint64(4*chunk*srcPer)), a)
		ADDQ(Imm(uint64(4*chunk*srcPer)), b)
		SUBQ(Imm(uint64(chunk)), cnt)
		JMP(LabelRef(prefix + "_vec"))
		Label(prefix + "_tail")
		TESTQ(cnt, cnt)
		JE(LabelRef(prefix + "_next"))
		// Back off to end at the row's end: chunk-cnt outputs earlier.
		MOVQ(U64(uint64(chunk)), back)
		SUBQ(cnt, back)
		SHLQ(Imm(2), back)
		SUBQ(back, d)
		for range srcPer {
			SUBQ(back, a)
			SUBQ(back, b)
		}
		body(d, a, b)
		Label(prefix + "_next")
		LEAQ(Mem{Base: dst, Index: width, Scale: 4}, dst)
		ADDQ(stp, src)
		DECQ(rows)
		JMP(LabelRef(prefix + "_row"))
		Label(prefix + "_done")
		VZEROUPPER()
		RET()
	}
	gen("maxPool2RowsAVX2", "maxrows", "maxPool2RowsAVX2 runs max4AVX2 over rows of 2x2 windows at column stride 1 (width >= 8).", 8, 1, func(d, a, b reg.Register) {
		m, x := YMM(), YMM()
		VMOVUPS(Mem{Base: a}, m)
		for _, in := range []Mem{{Base: a, Disp: 4}, {Base: b}, {Base: b, Disp: 4}} {
			VMOVUPS(in, x)
			VMAXPS(m, x, m) // (x > m) ? x : m, as max4
		}
		VMOVUPS(m, Mem{Base: d})
	})
	quarter := GLOBL("poolrows_quarter", RODATA|NOPTR)
	DATA(0, U64(math.Float64bits(0.25)))
	gen("avgPool2RowsAVX2", "avgrows", "avgPool2RowsAVX2 runs avgPool2AVX2 over rows of 2x2 windows at column stride 2 (width >= 4).", 4, 2, func(d, a, b reg.Register) {
		// As avgPool2.
		lo0, hi0, lo1, hi1 := YMM(), YMM(), YMM(), YMM()
		VCVTPS2PD(Mem{Base: a}, lo0)
		VCVTPS2PD(Mem{Base: a, Disp: 16}, hi0)
		VCVTPS2PD(Mem{Base: b}, lo1)
		VCVTPS2PD(Mem{Base: b, Disp: 16}, hi1)
		s, c, e, zero, q := YMM(), YMM(), YMM(), YMM(), YMM()
		VHADDPD(hi0, lo0, s)
		VXORPD(zero, zero, zero)
		VADDPD(zero, s, s)
		VUNPCKLPD(hi1, lo1, c)
		VUNPCKHPD(hi1, lo1, e)
		VADDPD(c, s, s)
		VADDPD(e, s, s)
		VBROADCASTSD(quarter, q)
		VMULPD(q, s, s)
		VPERMPD(Imm(0xd8), s, s)
		out := XMM()
		VCVTPD2PSY(s, out)
		VMOVUPS(out, Mem{Base: d})
	})
}

// packA6: the full 6-row panel of packA, dst[6p+i] = a[i*lda+p] for
// i < 6, p < n (n a multiple of 8): eight columns of the six rows at a
// time, transposed in registers and stored as eight groups of six.
func packA6() {
	TEXT("packA6AVX2", NOSPLIT, "func(dst, a *float32, lda, n int)")
	Pragma("noescape")
	Doc("packA6AVX2 sets dst[6p+i] = a[i*lda+p] for i < 6 and p < n; n must be a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(Imm(2), lda)
	n := Load(Param("n"), GP64())
	a3 := GP64()
	LEAQ(Mem{Base: a, Index: lda, Scale: 2}, a3)
	ADDQ(lda, a3)
	rowAt := func(i int) Mem {
		base := a
		if i >= 3 {
			base, i = a3, i-3
		}
		if i == 0 {
			return Mem{Base: base}
		}
		return Mem{Base: base, Index: lda, Scale: uint8(i)}
	}
	zero := YMM()
	VXORPS(zero, zero, zero)
	stream("packa6", n, 8, []step{{a, 32}, {a3, 32}, {dst, 192}}, func() {
		r := make([]reg.VecVirtual, 6)
		for i := range r {
			r[i] = YMM()
			VMOVUPS(rowAt(i), r[i])
		}
		// Pairs of rows interleaved, then groups of four: q[p] holds rows
		// 0-3 of columns p (low lane) and p+4 (high lane), h[p] rows 4-5.
		lo01, hi01, lo23, hi23, lo45, hi45 := YMM(), YMM(), YMM(), YMM(), YMM(), YMM()
		VUNPCKLPS(r[1], r[0], lo01)
		VUNPCKHPS(r[1], r[0], hi01)
		VUNPCKLPS(r[3], r[2], lo23)
		VUNPCKHPS(r[3], r[2], hi23)
		VUNPCKLPS(r[5], r[4], lo45)
		VUNPCKHPS(r[5], r[4], hi45)
		q, h := make([]reg.VecVirtual, 4), make([]reg.VecVirtual, 4)
		for p := range q {
			q[p], h[p] = YMM(), YMM()
		}
		VSHUFPS(Imm(0x44), lo23, lo01, q[0])
		VSHUFPS(Imm(0xee), lo23, lo01, q[1])
		VSHUFPS(Imm(0x44), hi23, hi01, q[2])
		VSHUFPS(Imm(0xee), hi23, hi01, q[3])
		VSHUFPS(Imm(0x44), zero, lo45, h[0])
		VSHUFPS(Imm(0xee), zero, lo45, h[1])
		VSHUFPS(Imm(0x44), zero, hi45, h[2])
		VSHUFPS(Imm(0xee), zero, hi45, h[3])
		t := XMM()
		for p := range 4 {
			// Column p from the low lanes, column p+4 from the high ones.
			VMOVUPS(q[p].AsX(), Mem{Base: dst, Disp: 24 * p})
			VMOVLPS(h[p].AsX(), Mem{Base: dst, Disp: 24*p + 16})
			VEXTRACTF128(Imm(1), q[p], Mem{Base: dst, Disp: 24 * (p + 4)})
			VEXTRACTF128(Imm(1), h[p], t)
			VMOVLPS(t, Mem{Base: dst, Disp: 24*(p+4) + 16})
		}
	})
}

// tanhGrad: dx[i] = dy[i] * (1 - y[i]*y[i]) for i < n, n a multiple of
// 8, each operation rounded on its own (no fused multiply-add), as the
// plain Go loop computes it.
func tanhGrad() {
	TEXT("tanhGradAVX2", NOSPLIT, "func(dx, dy, y *float32, n int)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("tanhGradAVX2 sets dx[i] = dy[i] * (1 - y[i]*y[i]) for i < n, without fused multiply-adds; n must be a multiple of 8.")
	dx := Load(Param("dx"), GP64())
	dy := Load(Param("dy"), GP64())
	y := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	one := YMM()
	konst := GLOBL("tanhgrad_one", RODATA|NOPTR)
	DATA(0, U32(math.Float32bits(1)))
	VBROADCASTSS(konst, one)
	stream("tanhgrad", n, 8, []step{{dx, 32}, {dy, 32}, {y, 32}}, func() {
		t, u := YMM(), YMM()
		VMOVUPS(Mem{Base: y}, t)
		VMULPS(t, t, t)   // y*y
		VSUBPS(t, one, u) // 1 - y*y
		VMULPS(Mem{Base: dy}, u, u)
		VMOVUPS(u, Mem{Base: dx})
	})
}

// adam: one Adam update of n parameters (n a multiple of 8) without
// weight decay, each operation rounded on its own as in the plain Go loop:
// m = m*b1 + c1*g; v = v*b2 + c2*(g*g); w += negStep * (m / (sqrt(v)/bc2Sqrt + eps)),
// with k = [b1, b2, c1, c2, bc2Sqrt, eps, negStep].
func adam() {
	TEXT("adamAVX2", NOSPLIT, "func(w, grad, m, v *float32, n int, k *[7]float32)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("adamAVX2 applies one Adam step to n parameters (no weight decay) with the constants k = b1, b2, c1, c2, bc2Sqrt, eps, negStep; n must be a multiple of 8.")
	w := Load(Param("w"), GP64())
	g := Load(Param("grad"), GP64())
	m := Load(Param("m"), GP64())
	v := Load(Param("v"), GP64())
	n := Load(Param("n"), GP64())
	kp := Load(Param("k"), GP64())
	var k [7]reg.VecVirtual
	for i := range k {
		k[i] = YMM()
		VBROADCASTSS(Mem{Base: kp, Disp: 4 * i}, k[i])
	}
	b1, b2, c1, c2, bc2, eps, negStep := k[0], k[1], k[2], k[3], k[4], k[5], k[6]
	stream("adam", n, 8, []step{{w, 32}, {g, 32}, {m, 32}, {v, 32}}, func() {
		gv, mv, vv, t := YMM(), YMM(), YMM(), YMM()
		VMOVUPS(Mem{Base: g}, gv)
		VMULPS(Mem{Base: m}, b1, mv) // m*b1
		VMULPS(gv, c1, t)            // c1*g
		VADDPS(t, mv, mv)
		VMOVUPS(mv, Mem{Base: m})
		VMULPS(gv, gv, t)            // g*g
		VMULPS(t, c2, t)             // c2*(g*g)
		VMULPS(Mem{Base: v}, b2, vv) // v*b2
		VADDPS(t, vv, vv)
		VMOVUPS(vv, Mem{Base: v})
		VSQRTPS(vv, t)
		VDIVPS(bc2, t, t) // sqrt(v)/bc2Sqrt
		VADDPS(eps, t, t)
		VDIVPS(t, mv, t) // m/denom
		VMULPS(negStep, t, t)
		VADDPS(Mem{Base: w}, t, t)
		VMOVUPS(t, Mem{Base: w})
	})
}

// gemv64: t[0:64] = the sum over p < k of a[p] * b[p*ldb : p*ldb+64],
// each of the 64 sums started at zero and taken one fused multiply-add at
// a time in p order (as Axpy into a zeroed t would), in eight YMM
// registers.
func gemv64() {
	TEXT("gemv64AVX2", NOSPLIT, "func(k int, a, b *float32, ldb int, t *float32)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("gemv64AVX2 sets t[j] to the sum of a[p]*b[p*ldb+j] over p < k (fused multiply-adds in p order from zero) for j < 64.")
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(Imm(2), ldb)
	t := Load(Param("t"), GP64())
	var acc [8]reg.VecVirtual
	for i := range acc {
		acc[i] = YMM()
		VXORPS(acc[i], acc[i], acc[i])
	}
	av := YMM()
	Label("gemv_loop")
	TESTQ(k, k)
	JE(LabelRef("gemv_done"))
	VBROADCASTSS(Mem{Base: a}, av)
	for i := range acc {
		VFMADD231PS(Mem{Base: b, Disp: 32 * i}, av, acc[i])
	}
	ADDQ(Imm(4), a)
	ADDQ(ldb, b)
	DECQ(k)
	JMP(LabelRef("gemv_loop"))
	Label("gemv_done")
	for i := range acc {
		VMOVUPS(acc[i], Mem{Base: t, Disp: 32 * i})
	}
	VZEROUPPER()
	RET()
}

// gemvPanels: gemv64 over four packed 16-wide B panels (the layout of
// PackedB: k rows of 16 floats each, the panels pstride floats apart), so
// that B is read as four contiguous streams; gemvPanel: the same over one
// panel, for the last columns of a product.
func gemvPanels() {
	gemvPanelsN("gemvPanelsAVX2", "gemvp", 4)
	gemvPanelsN("gemvPanelAVX2", "gemv1", 1)
}

func gemvPanelsN(name, prefix string, panels int) {
	TEXT(name, NOSPLIT, "func(k int, a, b *float32, pstride int, t *float32)")
	Pragma("noescape") // the kernels keep no pointer
	Doc(fmt.Sprintf("%s sets t[16q+j] to the sum of a[p]*b[q*pstride+16p+j] over p < k (fused multiply-adds in p order from zero) for q < %d, j < 16.", name, panels))
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	b0 := Load(Param("b"), GP64())
	ps := Load(Param("pstride"), GP64())
	SHLQ(Imm(2), ps)
	t := Load(Param("t"), GP64())
	bp := make([]reg.Register, panels)
	bp[0] = b0
	for q := 1; q < panels; q++ {
		bp[q] = GP64()
		MOVQ(bp[q-1], bp[q])
		ADDQ(ps, bp[q])
	}
	acc := make([]reg.VecVirtual, 2*panels)
	for i := range acc {
		acc[i] = YMM()
		VXORPS(acc[i], acc[i], acc[i])
	}
	av := YMM()
	Label(prefix + "_loop")
	TESTQ(k, k)
	JE(LabelRef(prefix + "_done"))
	VBROADCASTSS(Mem{Base: a}, av)
	for q := range bp {
		VFMADD231PS(Mem{Base: bp[q]}, av, acc[2*q])
		VFMADD231PS(Mem{Base: bp[q], Disp: 32}, av, acc[2*q+1])
	}
	ADDQ(Imm(4), a)
	for q := range bp {
		ADDQ(Imm(64), bp[q])
	}
	DECQ(k)
	JMP(LabelRef(prefix + "_loop"))
	Label(prefix + "_done")
	for i := range acc {
		VMOVUPS(acc[i], Mem{Base: t, Disp: 32 * i})
	}
	VZEROUPPER()
	RET()
}

// scale: x[i] *= a for i < n, n a multiple of 8.
func scale() {
	TEXT("scaleAVX2", NOSPLIT, "func(a float32, x *float32, n int)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("scaleAVX2 sets x[i] *= a for i < n; n must be a multiple of 8.")
	av := YMM()
	VBROADCASTSS(NewParamAddr("a", 0), av)
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	elementwise("scale", x, n, func(v reg.VecVirtual) { VMULPS(av, v, v) })
}

// addConst: x[i] += a for i < n, n a multiple of 8.
func addConst() {
	TEXT("addConstAVX2", NOSPLIT, "func(a float32, x *float32, n int)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("addConstAVX2 sets x[i] += a for i < n; n must be a multiple of 8.")
	av := YMM()
	VBROADCASTSS(NewParamAddr("a", 0), av)
	x := Load(Param("x"), GP64())
	n := Load(Param("n"), GP64())
	elementwise("addconst", x, n, func(v reg.VecVirtual) { VADDPS(av, v, v) })
}

// exp: dst[i] = exp(src[i]) for i < n, n a multiple of 4, computed in
// float64 lanes (4 at a time) and rounded once to float32, so the result
// is the correctly rounded float32 but for rare near-ties:
//   - x is clamped to [-104, 89], outside of which the float32 result is
//     0 or +Inf anyway (exp(-104) < half the smallest subnormal,
//     exp(89) > MaxFloat32); the clamp passes NaN through;
//   - k = round(x/ln2), r = x - k ln2 (ln2 in two parts), |r| <= ln2/2;
//   - exp(r) by its Taylor polynomial to degree 9 (truncation error below
//     1e-11 relative), times 2^k built in the exponent bits.
func exp() {
	type konst struct {
		name string
		bits uint64
	}
	list := []konst{
		{"exp_lo", math.Float64bits(-104)}, {"exp_hi", math.Float64bits(89)},
		{"exp_log2e", math.Float64bits(math.Log2E)},
		{"exp_ln2hi", math.Float64bits(6.93147180369123816490e-01)},
		{"exp_ln2lo", math.Float64bits(1.90821492927058770002e-10)},
		{"exp_bias", 1023},
	}
	const degree = 9
	for i := 0; i <= degree; i++ {
		fact := 1.0
		for j := 2; j <= i; j++ {
			fact *= float64(j)
		}
		list = append(list, konst{fmt.Sprintf("exp_c%d", i), math.Float64bits(1 / fact)})
	}
	consts := map[string]Mem{}
	for _, k := range list {
		consts[k.name] = GLOBL(k.name, RODATA|NOPTR)
		DATA(0, U64(k.bits))
	}
	TEXT("expAVX2", NOSPLIT, "func(dst, src *float32, n int)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("expAVX2 sets dst[i] = exp(src[i]) for i < n; n must be a multiple of 4.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	c := func(name string) reg.VecVirtual {
		r := YMM()
		VBROADCASTSD(consts[name], r)
		return r
	}
	stream("exp", n, 4, []step{{src, 16}, {dst, 16}}, func() {
		x := YMM()
		VCVTPS2PD(Mem{Base: src}, x)
		// Clamp with x as the second source operand, which max and min
		// return when either is NaN.
		VMAXPD(x, c("exp_lo"), x)
		VMINPD(x, c("exp_hi"), x)
		k := YMM()
		VMULPD(c("exp_log2e"), x, k)
		VROUNDPD(Imm(0), k, k)
		r := YMM()
		VMOVAPD(x, r)
		VFNMADD231PD(c("exp_ln2hi"), k, r)
		VFNMADD231PD(c("exp_ln2lo"), k, r)
		p := YMM()
		VBROADCASTSD(consts[fmt.Sprintf("exp_c%d", degree)], p)
		for i := degree - 1; i >= 0; i-- {
			VFMADD213PD(c(fmt.Sprintf("exp_c%d", i)), r, p)
		}
		ki := XMM()
		VCVTPD2DQY(k, ki)
		kq := YMM()
		VPMOVSXDQ(ki, kq)
		VPADDQ(c("exp_bias"), kq, kq)
		VPSLLQ(Imm(52), kq, kq)
		VMULPD(kq, p, p)
		out := XMM()
		VCVTPD2PSY(p, out)
		VMOVUPS(out, Mem{Base: dst})
	})
}

// dotTile: the 3x3 tile of dot products of rows of A and rows of B (both
// contiguous along k), kept as 9 vectors of 8 partial sums in acc
// ([9][8]float32, row-major over the tile) that are loaded, extended over
// k (a multiple of 8) and stored back.
func dotTile() {
	TEXT("dotTileAVX2", NOSPLIT, "func(k int, a *float32, lda int, b *float32, ldb int, acc *float32)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("dotTileAVX2 adds to acc[i*3+j][l] the products a[i*lda+p]*b[j*ldb+p] for p = l mod 8, p < k, i, j < 3; k must be a multiple of 8.")
	k := Load(Param("k"), GP64())
	a0 := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b0 := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	acc := Load(Param("acc"), GP64())
	SHLQ(Imm(2), lda)
	SHLQ(Imm(2), ldb)
	// Row pointers: a1 = a0+lda, a2 = a0+2lda, likewise for b.
	a1, a2, b1, b2 := GP64(), GP64(), GP64(), GP64()
	LEAQ(Mem{Base: a0, Index: lda, Scale: 1}, a1)
	LEAQ(Mem{Base: a1, Index: lda, Scale: 1}, a2)
	LEAQ(Mem{Base: b0, Index: ldb, Scale: 1}, b1)
	LEAQ(Mem{Base: b1, Index: ldb, Scale: 1}, b2)
	as := []reg.Register{a0, a1, a2}
	bs := []reg.Register{b0, b1, b2}
	var s [3][3]reg.VecVirtual
	for i := range s {
		for j := range s[i] {
			s[i][j] = YMM()
			VMOVUPS(Mem{Base: acc, Disp: 32 * (i*3 + j)}, s[i][j])
		}
	}
	off := GP64()
	XORQ(off, off)
	SHLQ(Imm(2), k)
	Label("dottile_loop")
	CMPQ(off, k)
	JGE(LabelRef("dottile_done"))
	var bv [3]reg.VecVirtual
	for j := range bv {
		bv[j] = YMM()
		VMOVUPS(Mem{Base: bs[j], Index: off, Scale: 1}, bv[j])
	}
	for i := range s {
		av := YMM()
		VMOVUPS(Mem{Base: as[i], Index: off, Scale: 1}, av)
		for j := range s[i] {
			VFMADD231PS(bv[j], av, s[i][j])
		}
	}
	ADDQ(Imm(32), off)
	JMP(LabelRef("dottile_loop"))
	Label("dottile_done")
	for i := range s {
		for j := range s[i] {
			VMOVUPS(s[i][j], Mem{Base: acc, Disp: 32 * (i*3 + j)})
		}
	}
	VZEROUPPER()
	RET()
}

// expNegConsts are the constants of expNeg (act.go): clamp bounds, log2 e,
// ln 2 in two parts, the exponent bias, one, and the Taylor coefficients
// 1/i! for i <= 7, each a float32 (the bias an int32) repeated in 8 lanes,
// read as memory operands (16 YMM registers would not hold them all).
var expNegConsts map[string]Mem

func expNegConst(name string) Mem {
	if expNegConsts == nil {
		expNegConsts = map[string]Mem{}
		lanes := func(name string, bits uint32) {
			expNegConsts[name] = GLOBL(name, RODATA|NOPTR)
			for i := 0; i < 8; i++ {
				DATA(4*i, U32(bits))
			}
		}
		f := func(name string, v float32) { lanes(name, math.Float32bits(v)) }
		f("expneg_lo", -87)
		f("expneg_hi", 88)
		f("expneg_log2e", float32(math.Log2E))
		f("expneg_ln2hi", 0.693359375)
		f("expneg_ln2lo", -2.12194440e-4)
		f("expneg_one", 1)
		fact := float32(1)
		for i := 0; i <= 7; i++ {
			if i > 1 {
				fact *= float32(i)
			}
			f(fmt.Sprintf("expneg_c%d", i), 1/fact)
		}
		lanes("expneg_bias", 127)
	}
	return expNegConsts[name]
}

// expOf returns e^t in a new register, in the float32 steps of kernel's
// expNeg: t clamped to [lo, hi] (NaN passes), k = round(t log2e), r = t -
// k ln2hi - k ln2lo, p = Horner's degree-7 Taylor polynomial of e^r, times
// 2^k. t is overwritten.
func expOf(t, lo, hi reg.VecVirtual) reg.VecVirtual {
	c := expNegConst
	VMAXPS(t, lo, t)
	VMINPS(t, hi, t)
	k := YMM()
	VMULPS(c("expneg_log2e"), t, k)
	VROUNDPS(Imm(0), k, k)
	r, q := YMM(), YMM()
	VMULPS(c("expneg_ln2hi"), k, q)
	VSUBPS(q, t, r)
	VMULPS(c("expneg_ln2lo"), k, q)
	VSUBPS(q, r, r)
	p := YMM()
	VMOVUPS(c("expneg_c7"), p)
	for i := 6; i >= 0; i-- {
		VMULPS(r, p, p)
		VADDPS(c(fmt.Sprintf("expneg_c%d", i)), p, p)
	}
	ki := YMM()
	VCVTPS2DQ(k, ki)
	VPADDD(c("expneg_bias"), ki, ki)
	VPSLLD(Imm(23), ki, ki)
	VMULPS(ki, p, p)
	return p
}

// sigmoid: dst[i] = s = 1/(1 + e^-x) (or x·s with silu) for x =
// src[i], i < n, n a multiple of 8, in the float32 steps of kernel's
// expNeg, with no fused multiply-adds: t = -x clamped to [-87, 88] (NaN
// passes, as the second source operand of max and min), k = round(t
// log2e), r = t - k ln2hi - k ln2lo, p = Horner's degree-7 Taylor
// polynomial of e^r, e = p 2^k; s is +0 where t > 88.
func sigmoid(name string, silu bool) {
	TEXT(name, NOSPLIT, "func(dst, src *float32, n int)")
	Pragma("noescape") // the kernels keep no pointer
	what := "1 / (1 + exp(-src[i]))"
	if silu {
		what = "src[i] * (1 / (1 + exp(-src[i])))"
	}
	Doc(name + " sets dst[i] = " + what + " for i < n, as kernel.expNeg computes exp; n must be a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	c := expNegConst
	one, lo, hi := YMM(), YMM(), YMM() // lo and hi in registers: memory can only be the operand max and min return for NaN
	VMOVUPS(c("expneg_one"), one)
	VMOVUPS(c("expneg_lo"), lo)
	VMOVUPS(c("expneg_hi"), hi)
	sign := YMM()
	VPCMPEQD(sign, sign, sign)
	VPSLLD(Imm(31), sign, sign) // 0x80000000 in each lane
	prefix := name[:len(name)-4]
	stream(prefix, n, 8, []step{{src, 32}, {dst, 32}}, func() {
		x, t := YMM(), YMM()
		VMOVUPS(Mem{Base: src}, x)
		VXORPS(sign, x, t) // -x
		big := YMM()
		VCMPPS(Imm(0x1e), hi, t, big) // t > 88 (ordered: false for NaN): the result is 0
		p := expOf(t, lo, hi)         // e^-x
		VADDPS(one, p, p)             // 1 + e^-x
		out := YMM()
		VDIVPS(p, one, out)
		VANDNPS(out, big, out)
		if silu {
			VMULPS(x, out, out)
		}
		VMOVUPS(out, Mem{Base: dst})
	})
}

// clip: dst[i] = min(max(src[i], lo), hi) for i < n, n a multiple of 8,
// with src as the second source operand of max and min: (lo > x) ? lo : x,
// then (hi < x) ? hi : x, so NaN passes through.
func clip() {
	TEXT("clipAVX2", NOSPLIT, "func(dst, src *float32, n int, lo, hi float32)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("clipAVX2 sets dst[i] = src[i] clamped to [lo, hi] (NaN passes) for i < n; n must be a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	lo, hi := YMM(), YMM()
	VBROADCASTSS(NewParamAddr("lo", 24), lo)
	VBROADCASTSS(NewParamAddr("hi", 28), hi)
	stream("clip", n, 8, []step{{src, 32}, {dst, 32}}, func() {
		t := YMM()
		VMOVUPS(Mem{Base: src}, t)
		VMAXPS(t, lo, t)
		VMINPS(t, hi, t)
		VMOVUPS(t, Mem{Base: dst})
	})
}

// hardSigmoid: h = alpha*x + beta (VMULPS then VADDPS, no fused
// multiply-add), clamped to [0, 1] as clip does (NaN passes); with mul
// the result is x*h.
func hardSigmoid(name string, mul bool) {
	TEXT(name, NOSPLIT, "func(dst, src *float32, n int, alpha, beta float32)")
	Pragma("noescape") // the kernels keep no pointer
	if mul {
		Doc(name + " sets dst[i] = x * HardSigmoid(x) for x = src[i], i < n, in the steps of kernel.MulHardSigmoid; n must be a multiple of 8.")
	} else {
		Doc(name + " sets dst[i] = HardSigmoid(src[i]) for i < n, in the steps of kernel.HardSigmoid; n must be a multiple of 8.")
	}
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	alpha, beta, zero, one := YMM(), YMM(), YMM(), YMM()
	VBROADCASTSS(NewParamAddr("alpha", 24), alpha)
	VBROADCASTSS(NewParamAddr("beta", 28), beta)
	VXORPS(zero, zero, zero)
	VMOVUPS(expNegConst("expneg_one"), one)
	stream(name, n, 8, []step{{src, 32}, {dst, 32}}, func() {
		x, t := YMM(), YMM()
		VMOVUPS(Mem{Base: src}, x)
		VMULPS(alpha, x, t)
		VADDPS(beta, t, t)
		VMAXPS(t, zero, t)
		VMINPS(t, one, t)
		if mul {
			VMULPS(t, x, t)
		}
		VMOVUPS(t, Mem{Base: dst})
	})
}

// axpyTaps: y[r*ldy+i] += w[t]*x[r*ldx+offs[t]+i] for r < rows, i <
// width (a multiple of 8), t < taps in order, each product rounded before
// its addition (VMULPS then VADDPS): the sum of each output element is
// held in a register over all the taps.
func axpyTaps() {
	TEXT("axpyTapsAVX2", NOSPLIT, "func(w *float32, offs *int, taps int, x *float32, ldx int, y *float32, ldy int, rows, width int, b *float32)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("axpyTapsAVX2 sets y[r*ldy+i] = s + sum of w[t]*x[r*ldx+offs[t]+i] (each product rounded, added in tap order) for r < rows, i < width, t < taps, where s is *b, or y[r*ldy+i] itself when b is nil; width must be a multiple of 8. Four vectors of outputs at a time where the row has them, so that four sums are in flight.")
	w := Load(Param("w"), GP64())
	offs := Load(Param("offs"), GP64())
	taps := Load(Param("taps"), GP64())
	x := Load(Param("x"), GP64())
	ldx := Load(Param("ldx"), GP64())
	y := Load(Param("y"), GP64())
	ldy := Load(Param("ldy"), GP64())
	rows := Load(Param("rows"), GP64())
	width := Load(Param("width"), GP64())
	b := Load(Param("b"), GP64())
	SHLQ(Imm(2), ldx)
	SHLQ(Imm(2), ldy)
	j, t, o, end := GP64(), GP64(), GP64(), GP64()
	// group writes the loop over n vectors of outputs at y+j: start them
	// from *b or y, add every tap, store them.
	group := func(label string, n int) {
		acc, tmp := make([]reg.VecVirtual, n), make([]reg.VecVirtual, n)
		for u := range acc {
			acc[u], tmp[u] = YMM(), YMM()
		}
		wv := YMM()
		Label(label)
		MOVQ(j, end)
		ADDQ(Imm(uint64(8*n)), end)
		CMPQ(end, width)
		JG(LabelRef(label + "_out"))
		TESTQ(b, b)
		JZ(LabelRef(label + "_load"))
		for u := range acc {
			VBROADCASTSS(Mem{Base: b}, acc[u])
		}
		JMP(LabelRef(label + "_taps"))
		Label(label + "_load")
		for u := range acc {
			VMOVUPS(Mem{Base: y, Index: j, Scale: 4, Disp: 32 * u}, acc[u])
		}
		Label(label + "_taps")
		XORQ(t, t)
		Label(label + "_tap")
		CMPQ(t, taps)
		JGE(LabelRef(label + "_store"))
		MOVQ(Mem{Base: offs, Index: t, Scale: 8}, o)
		ADDQ(j, o)
		VBROADCASTSS(Mem{Base: w, Index: t, Scale: 4}, wv)
		for u := range acc {
			VMULPS(Mem{Base: x, Index: o, Scale: 4, Disp: 32 * u}, wv, tmp[u])
		}
		for u := range acc {
			VADDPS(tmp[u], acc[u], acc[u])
		}
		INCQ(t)
		JMP(LabelRef(label + "_tap"))
		Label(label + "_store")
		for u := range acc {
			VMOVUPS(acc[u], Mem{Base: y, Index: j, Scale: 4, Disp: 32 * u})
		}
		MOVQ(end, j)
		JMP(LabelRef(label))
		Label(label + "_out")
	}
	Label("taps_row")
	CMPQ(rows, Imm(0))
	JE(LabelRef("taps_done"))
	XORQ(j, j)
	group("taps_four", 4)
	group("taps_one", 1)
	ADDQ(ldx, x)
	ADDQ(ldy, y)
	DECQ(rows)
	JMP(LabelRef("taps_row"))
	Label("taps_done")
	VZEROUPPER()
	RET()
}

// axpyRows: y[r*ldy+i] += a*x[r*ldx+i*stride] for r < rows, i < width,
// width a multiple of 8, stride 1 or 2, with the product rounded before
// the addition (VMULPS then VADDPS, no fused multiply-add); with stride 2
// a vector of 8 is the even lanes of 16 loaded values (VSHUFPS, VPERMPD).
func axpyRows(stride int) {
	name := fmt.Sprintf("axpyRows%dAVX2", stride)
	prefix := fmt.Sprintf("axpyrows%d", stride)
	TEXT(name, NOSPLIT, "func(a float32, x *float32, ldx int, y *float32, ldy int, rows, width int)")
	Pragma("noescape") // the kernels keep no pointer
	Doc(fmt.Sprintf("%s sets y[r*ldy+i] += a*x[r*ldx+%d*i] (product rounded first) for r < rows, i < width; width must be a multiple of 8.", name, stride))
	av := YMM()
	VBROADCASTSS(NewParamAddr("a", 0), av)
	x := Load(Param("x"), GP64())
	ldx := Load(Param("ldx"), GP64())
	y := Load(Param("y"), GP64())
	ldy := Load(Param("ldy"), GP64())
	rows := Load(Param("rows"), GP64())
	width := Load(Param("width"), GP64())
	SHLQ(Imm(2), ldx)
	SHLQ(Imm(2), ldy)
	xp, yp, n := GP64(), GP64(), GP64()
	load := func(disp int, v reg.VecVirtual) {
		if stride == 1 {
			VMOVUPS(Mem{Base: xp, Disp: disp}, v)
			return
		}
		hi := YMM()
		VMOVUPS(Mem{Base: xp, Disp: 2 * disp}, v)
		VMOVUPS(Mem{Base: xp, Disp: 2*disp + 32}, hi)
		VSHUFPS(Imm(0x88), hi, v, v) // x0 x2 x8 x10 x4 x6 x12 x14
		VPERMPD(Imm(0xd8), v, v)     // x0 x2 x4 x6 x8 x10 x12 x14
	}
	Label(prefix + "_row")
	TESTQ(rows, rows)
	JZ(LabelRef(prefix + "_done"))
	MOVQ(x, xp)
	MOVQ(y, yp)
	MOVQ(width, n)
	Label(prefix + "_wide")
	CMPQ(n, Imm(32))
	JL(LabelRef(prefix + "_one"))
	for i := 0; i < 4; i++ {
		t, u := YMM(), YMM()
		load(32*i, t)
		VMULPS(t, av, t)
		VADDPS(Mem{Base: yp, Disp: 32 * i}, t, u)
		VMOVUPS(u, Mem{Base: yp, Disp: 32 * i})
	}
	ADDQ(U32(128*stride), xp)
	ADDQ(Imm(128), yp)
	SUBQ(Imm(32), n)
	JMP(LabelRef(prefix + "_wide"))
	Label(prefix + "_one")
	CMPQ(n, Imm(8))
	JL(LabelRef(prefix + "_next"))
	t, u := YMM(), YMM()
	load(0, t)
	VMULPS(t, av, t)
	VADDPS(Mem{Base: yp}, t, u)
	VMOVUPS(u, Mem{Base: yp})
	ADDQ(Imm(uint64(32*stride)), xp)
	ADDQ(Imm(32), yp)
	SUBQ(Imm(8), n)
	JMP(LabelRef(prefix + "_one"))
	Label(prefix + "_next")
	ADDQ(ldx, x)
	ADDQ(ldy, y)
	DECQ(rows)
	JMP(LabelRef(prefix + "_row"))
	Label(prefix + "_done")
	VZEROUPPER()
	RET()
}

// maxRows: y[r*ldy+i] = x[r*ldx+i*stride] if that is greater than
// y[r*ldy+i], for r < rows, i < width, width a multiple of 8, stride 1 or
// 2; as VMAXPS with x first, (x > y) ? x : y, so a NaN in y stays and one
// in x is passed over, as a scalar max-pooling loop does. With stride 2 a
// vector of 8 is the even lanes of 16 loaded values (VSHUFPS, VPERMPD).
func maxRows(stride int) {
	name := fmt.Sprintf("maxRows%dAVX2", stride)
	prefix := fmt.Sprintf("maxrows%d", stride)
	TEXT(name, NOSPLIT, "func(x *float32, ldx int, y *float32, ldy int, rows, width int)")
	Pragma("noescape") // the kernels keep no pointer
	Doc(fmt.Sprintf("%s sets y[r*ldy+i] = x[r*ldx+%d*i] where that is greater, for r < rows, i < width; width must be a multiple of 8.", name, stride))
	x := Load(Param("x"), GP64())
	ldx := Load(Param("ldx"), GP64())
	y := Load(Param("y"), GP64())
	ldy := Load(Param("ldy"), GP64())
	rows := Load(Param("rows"), GP64())
	width := Load(Param("width"), GP64())
	SHLQ(Imm(2), ldx)
	SHLQ(Imm(2), ldy)
	xp, yp, n := GP64(), GP64(), GP64()
	Label(prefix + "_row")
	TESTQ(rows, rows)
	JZ(LabelRef(prefix + "_done"))
	MOVQ(x, xp)
	MOVQ(y, yp)
	MOVQ(width, n)
	Label(prefix + "_loop")
	CMPQ(n, Imm(8))
	JL(LabelRef(prefix + "_next"))
	v := YMM()
	if stride == 1 {
		VMOVUPS(Mem{Base: xp}, v)
	} else {
		hi := YMM()
		VMOVUPS(Mem{Base: xp}, v)
		VMOVUPS(Mem{Base: xp, Disp: 32}, hi)
		VSHUFPS(Imm(0x88), hi, v, v) // x0 x2 x8 x10 x4 x6 x12 x14
		VPERMPD(Imm(0xd8), v, v)     // x0 x2 x4 x6 x8 x10 x12 x14
	}
	VMAXPS(Mem{Base: yp}, v, v)
	VMOVUPS(v, Mem{Base: yp})
	ADDQ(Imm(uint64(32*stride)), xp)
	ADDQ(Imm(32), yp)
	SUBQ(Imm(8), n)
	JMP(LabelRef(prefix + "_loop"))
	Label(prefix + "_next")
	ADDQ(ldx, x)
	ADDQ(ldy, y)
	DECQ(rows)
	JMP(LabelRef(prefix + "_row"))
	Label(prefix + "_done")
	VZEROUPPER()
	RET()
}

// erf: dst[i] = erf(src[i]) for i < n, n a multiple of 8, in the float32
// steps of kernel's erf1 (no fused multiply-adds): z = |x|; below 0.5 the
// Taylor series z·P(z²) to z^13; from 0.5, z clamped to 4, t = 1/(1 +
// z/2) and 1 - t·e^(Q(t) - z²) with Q the degree-9 polynomial of the
// erfc approximation (Numerical Recipes' erfcc); both are computed and
// blended by z < 0.5; the sign of x is put back.
func erf() {
	TEXT("erfAVX2", NOSPLIT, "func(dst, src *float32, n int)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("erfAVX2 sets dst[i] = erf(src[i]) for i < n, as kernel.erf1 computes it; n must be a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	c := expNegConst
	erfConsts()
	lo, hi, sign := YMM(), YMM(), YMM()
	VMOVUPS(c("expneg_lo"), lo)
	VMOVUPS(c("expneg_hi"), hi)
	VPCMPEQD(sign, sign, sign)
	VPSLLD(Imm(31), sign, sign)
	stream("erf", n, 8, []step{{src, 32}, {dst, 32}}, func() {
		x, z := YMM(), YMM()
		VMOVUPS(Mem{Base: src}, x)
		VANDNPS(x, sign, z) // |x|
		// Taylor: z * P(z²).
		z2, p := YMM(), YMM()
		VMULPS(z, z, z2)
		VMOVUPS(c("erf_t6"), p)
		for i := 5; i >= 0; i-- {
			VMULPS(z2, p, p)
			VADDPS(c(fmt.Sprintf("erf_t%d", i)), p, p)
		}
		small := YMM()
		VMULPS(z, p, small)
		// erfc: zc = min(z, 4), NaN passing.
		zc, four := YMM(), YMM()
		VMOVUPS(c("erf_four"), four)
		VMOVAPS(z, zc)
		VMINPS(zc, four, zc)
		t, q := YMM(), YMM()
		VMULPS(c("erf_half"), zc, t)
		VADDPS(c("expneg_one"), t, t)
		VMOVUPS(c("expneg_one"), q)
		VDIVPS(t, q, t) // 1/(1 + z/2)
		VMOVUPS(c("erf_q9"), q)
		for i := 8; i >= 0; i-- {
			VMULPS(t, q, q)
			VADDPS(c(fmt.Sprintf("erf_q%d", i)), q, q)
		}
		VMULPS(zc, zc, zc)
		VSUBPS(zc, q, q) // Q(t) - z²
		e := expOf(q, lo, hi)
		VMULPS(t, e, e)
		large := YMM()
		VMOVUPS(c("expneg_one"), large)
		VSUBPS(e, large, large) // 1 - t e
		mask := YMM()
		VCMPPS(Imm(0x11), c("erf_half"), z, mask) // z < 0.5 (ordered, quiet: false for NaN)
		VBLENDVPS(mask, small, large, large)
		VANDPS(sign, x, x)
		VORPS(x, large, large)
		VMOVUPS(large, Mem{Base: dst})
	})
}

// erfConsts adds erf's constants to expNegConsts: the Taylor coefficients
// 2/sqrt(pi)·(-1)^k/(k!(2k+1)), k <= 6, the erfc polynomial's ten
// coefficients, 1/2 and 4 (the values of act.go's erfT and erfQ).
func erfConsts() {
	expNegConst("expneg_one")
	lanes := func(name string, v float32) {
		if _, ok := expNegConsts[name]; ok {
			return
		}
		expNegConsts[name] = GLOBL(name, RODATA|NOPTR)
		for i := 0; i < 8; i++ {
			DATA(4*i, U32(math.Float32bits(v)))
		}
	}
	fact := 1.0
	for k := 0; k <= 6; k++ {
		if k > 0 {
			fact *= float64(k)
		}
		v := 2 / math.Sqrt(math.Pi) / (fact * float64(2*k+1))
		if k%2 == 1 {
			v = -v
		}
		lanes(fmt.Sprintf("erf_t%d", k), float32(v))
	}
	for i, v := range []float64{-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277} {
		lanes(fmt.Sprintf("erf_q%d", i), float32(v))
	}
	lanes("erf_half", 0.5)
	lanes("erf_four", 4)
}

// igemmKernel: C[6x16] = A·B in int32 for int16 operands (8-bit values
// less their zero points), a the packed A panel of GemmInt16Packed (per
// pair of k steps, six int32 each holding a row's two int16 values, the
// first in the low half) and b k rows of 16 int16, ldb apart, read in
// place. Each pair of B rows is interleaved by VPUNPCKLWD/VPUNPCKHWD into
// (b[p][j], b[p+1][j]) pairs, and VPMADDWD against a row's broadcast A
// pair gives a[r][p]*b[p][j] + a[r][p+1]*b[p+1][j] exactly; VPADDD sums
// those, wrapping as GemmInt16's int32 sums do. The unpacks work within
// 128-bit lanes, so one accumulator holds columns 0-3 and 8-11, the other
// 4-7 and 12-15, put back in order by VPERM2I128 when stored. An odd k
// ends with one row paired with zeros (the A pair's high half is zero).
// Only the first rows rows of the tile are stored, and with a mask (16
// int32, -1 for the columns to store) only its columns, by VPMASKMOVD, so
// that partial tiles need no scratch copy.
func igemmKernel() {
	TEXT("igemmKernelAVX2", NOSPLIT, "func(k int, a *int32, b *int16, ldb int, c *int32, ldc int, rows int, mask *int32)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("igemmKernelAVX2 stores the int32 product of a packed 6xk A panel (int16 pairs) and the kx16 int16 matrix at b (rows ldb values apart) in the first rows rows (1 to 6) of the 6x16 tile at c (rows ldc values apart), only the columns whose mask value is -1 when mask is not nil.")
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(Imm(1), ldb) // bytes
	igemmMicro("igemm",
		func() (Mem, Mem) { return Mem{Base: b}, Mem{Base: b, Index: ldb, Scale: 1} },
		func() Mem { return Mem{Base: b} },
		func() { LEAQ(Mem{Base: b, Index: ldb, Scale: 2}, b) })
}

// igemmKernelOffsets: igemmKernel over a B given by row offsets, row p at
// b + offs[p] int16 values: a convolution's wide im2col matrix read in
// place from its padded input (as sgemmKernelOffsets reads it).
func igemmKernelOffsets() {
	TEXT("igemmKernelOffsetsAVX2", NOSPLIT, "func(k int, a *int32, b *int16, offs *int32, c *int32, ldc int, rows int, mask *int32)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("igemmKernelOffsetsAVX2 is igemmKernelAVX2 with row p of B at b + offs[p] values.")
	b := Load(Param("b"), GP64())
	offs := Load(Param("offs"), GP64())
	o0, o1 := GP64(), GP64()
	igemmMicro("igemmoffs",
		func() (Mem, Mem) {
			MOVLQSX(Mem{Base: offs}, o0)
			MOVLQSX(Mem{Base: offs, Disp: 4}, o1)
			return Mem{Base: b, Index: o0, Scale: 2}, Mem{Base: b, Index: o1, Scale: 2}
		},
		func() Mem {
			MOVLQSX(Mem{Base: offs}, o0)
			return Mem{Base: b, Index: o0, Scale: 2}
		},
		func() { ADDQ(Imm(8), offs) })
}

// igemmMicro writes the rest of an integer micro-kernel whose parameters
// k, a, c, ldc, rows and mask are as in igemmKernel: pair returns B's next
// two rows (called at the start of each pair of k steps), odd the last row
// of an odd k, advance moves past a pair. Labels start with prefix.
func igemmMicro(prefix string, pair func() (Mem, Mem), odd func() Mem, advance func()) {
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	pairs := GP64()
	MOVQ(k, pairs)
	SHRQ(Imm(1), pairs)

	var lo, hi [6]reg.VecVirtual // columns 0-3|8-11 and 4-7|12-15 of each row
	for r := range lo {
		lo[r], hi[r] = YMM(), YMM()
		VPXOR(lo[r], lo[r], lo[r])
		VPXOR(hi[r], hi[r], hi[r])
	}
	bl, bh, t, p := YMM(), YMM(), YMM(), YMM()
	// step multiplies the interleaved pairs bl, bh by each row's A pair.
	step := func() {
		for r := range lo {
			VPBROADCASTD(Mem{Base: a, Disp: 4 * r}, t)
			VPMADDWD(bl, t, p)
			VPADDD(p, lo[r], lo[r])
			VPMADDWD(bh, t, p)
			VPADDD(p, hi[r], hi[r])
		}
	}

	Label(prefix + "_loop")
	TESTQ(pairs, pairs)
	JE(LabelRef(prefix + "_odd"))
	r0, r1 := pair()
	VMOVDQU(r0, bl)
	VPUNPCKHWD(r1, bl, bh)
	VPUNPCKLWD(r1, bl, bl)
	step()
	ADDQ(Imm(24), a)
	advance()
	DECQ(pairs)
	JMP(LabelRef(prefix + "_loop"))

	Label(prefix + "_odd")
	TESTQ(U32(1), k)
	JE(LabelRef(prefix + "_store"))
	VMOVDQU(odd(), bl)
	VPXOR(p, p, p)
	VPUNPCKHWD(p, bl, bh)
	VPUNPCKLWD(p, bl, bl)
	step()

	Label(prefix + "_store")
	SHLQ(Imm(2), ldc)
	rows := Load(Param("rows"), GP64())
	mask := Load(Param("mask"), GP64())
	// store writes the tile's rows with put (given the row's two halves),
	// stopping after rows of them.
	store := func(put func(h0, h1 reg.VecVirtual)) {
		for r := range lo {
			VPERM2I128(Imm(0x20), hi[r], lo[r], t)
			VPERM2I128(Imm(0x31), hi[r], lo[r], p)
			put(t, p)
			if r < len(lo)-1 {
				DECQ(rows)
				JE(LabelRef(prefix + "_done"))
				ADDQ(ldc, c)
			}
		}
		JMP(LabelRef(prefix + "_done"))
	}
	TESTQ(mask, mask)
	JNE(LabelRef(prefix + "_masked"))
	store(func(h0, h1 reg.VecVirtual) {
		VMOVDQU(h0, Mem{Base: c})
		VMOVDQU(h1, Mem{Base: c, Disp: 32})
	})
	Label(prefix + "_masked")
	VMOVDQU(Mem{Base: mask}, bl)
	VMOVDQU(Mem{Base: mask, Disp: 32}, bh)
	store(func(h0, h1 reg.VecVirtual) {
		VPMASKMOVD(h0, bl, Mem{Base: c})
		VPMASKMOVD(h1, bh, Mem{Base: c, Disp: 32})
	})
	Label(prefix + "_done")
	VZEROUPPER()
	RET()
}

// quantConsts holds the registers of quantizeStore: the float bounds
// ±2^22, the zero point and int bounds, and the byte mask.
type quantConsts struct {
	big, negBig, zp, lo, hi, mask reg.VecVirtual
}

// loadQuantConsts broadcasts the parameters zp, lo and hi (int32, at
// the given frame offsets) and makes the other constants of
// quantizeStore.
func loadQuantConsts(zpOff, loOff, hiOff int) quantConsts {
	q := quantConsts{YMM(), YMM(), YMM(), YMM(), YMM(), YMM()}
	VBROADCASTSS(NewParamAddr("zp", zpOff), q.zp) // (VPBROADCASTD of an int32 parameter fails go vet)
	VBROADCASTSS(NewParamAddr("lo", loOff), q.lo)
	VBROADCASTSS(NewParamAddr("hi", hiOff), q.hi)
	r := GP32()
	for _, c := range []struct {
		bits uint32
		v    reg.VecVirtual
	}{{0x4a800000, q.big}, {0xca800000, q.negBig}} { // ±2^22
		MOVL(U32(c.bits), r)
		VMOVD(r, c.v.AsX())
		VPBROADCASTD(c.v.AsX(), c.v)
	}
	VPCMPEQD(q.mask, q.mask, q.mask)
	VPSRLD(Imm(24), q.mask, q.mask) // 0xff
	return q
}

// quantizeStore finishes infer's quantize on 8 float32 lanes v (no NaN):
// clamped to ±2^22, rounded half to even by VCVTPS2DQ (the rounding mode
// Go keeps), plus the zero point, saturated to [lo, hi], and stored as 8
// bytes at dst (the low byte of each: uint8 or int8 alike).
func quantizeStore(v reg.VecVirtual, q quantConsts, dst reg.Register) {
	VMINPS(q.big, v, v)
	VMAXPS(q.negBig, v, v)
	VCVTPS2DQ(v, v)
	VPADDD(q.zp, v, v)
	VPMAXSD(q.lo, v, v)
	VPMINSD(q.hi, v, v)
	VPAND(q.mask, v, v)
	h := XMM()
	VEXTRACTI128(Imm(1), v, h)
	VPACKSSDW(h, v.AsX(), h)
	VPACKUSWB(h, h, h)
	VMOVQ(h, Mem{Base: dst})
}

// requantize: the requantization of QLinearConv, dst[i] = quantize(
// float32(acc[i]+bias)*mult) in 8 lanes, with int32 sums wrapping and
// conversions and products rounded as Go's. mult must be finite (no NaN
// lane can then arise).
func requantize() {
	TEXT("requantAVX2", NOSPLIT, "func(dst *uint8, acc *int32, n int, bias int32, mult float32, zp, lo, hi int32)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("requantAVX2 sets dst[i] to the byte of min(max(round(float32(acc[i]+bias)*mult)+zp, lo), hi), the product clamped to ±2^22 and rounded half to even, for i < n; n must be a multiple of 8 and mult finite.")
	dst := Load(Param("dst"), GP64())
	acc := Load(Param("acc"), GP64())
	n := Load(Param("n"), GP64())
	bias, mult := YMM(), YMM()
	VBROADCASTSS(NewParamAddr("bias", 24), bias)
	VBROADCASTSS(NewParamAddr("mult", 28), mult)
	q := loadQuantConsts(32, 36, 40)
	stream("requant", n, 8, []step{{acc, 32}, {dst, 8}}, func() {
		v := YMM()
		VPADDD(Mem{Base: acc}, bias, v)
		VCVTDQ2PS(v, v)
		VMULPS(mult, v, v)
		quantizeStore(v, q, dst)
	})
}

// quantize: QuantizeLinear to 8 bits with one scale, dst[i] =
// quantize(src[i]/scale) in 8 lanes, NaN lanes becoming 0 before the
// zero point is added, as infer's quantize does.
func quantize() {
	TEXT("quantizeAVX2", NOSPLIT, "func(dst *uint8, src *float32, n int, scale float32, zp, lo, hi int32)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("quantizeAVX2 sets dst[i] to the byte of min(max(round(src[i]/scale)+zp, lo), hi), the quotient clamped to ±2^22 (NaN: 0) and rounded half to even, for i < n; n must be a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	scale := YMM()
	VBROADCASTSS(NewParamAddr("scale", 24), scale)
	q := loadQuantConsts(28, 32, 36)
	stream("quantize", n, 8, []step{{src, 32}, {dst, 8}}, func() {
		v, ok := YMM(), YMM()
		VMOVUPS(Mem{Base: src}, v)
		VDIVPS(scale, v, v)
		VCMPPS(Imm(0), v, v, ok) // EQ_OQ: false for NaN
		VANDPS(ok, v, v)
		quantizeStore(v, q, dst)
	})
}

// dequantizeU8: DequantizeLinear from uint8 with one scale and zero
// point, dst[i] = (float32(src[i]) - zp) * scale in 8 lanes, rounded as
// Go's two operations.
func dequantizeU8() {
	TEXT("dequantU8AVX2", NOSPLIT, "func(dst *float32, src *uint8, n int, zp, scale float32)")
	Pragma("noescape") // the kernels keep no pointer
	Doc("dequantU8AVX2 sets dst[i] = (float32(src[i]) - zp) * scale for i < n; n must be a multiple of 8.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	zp, scale := YMM(), YMM()
	VBROADCASTSS(NewParamAddr("zp", 24), zp)
	VBROADCASTSS(NewParamAddr("scale", 28), scale)
	stream("dequant", n, 8, []step{{src, 8}, {dst, 32}}, func() {
		v := YMM()
		VPMOVZXBD(Mem{Base: src}, v)
		VCVTDQ2PS(v, v)
		VSUBPS(zp, v, v)
		VMULPS(scale, v, v)
		VMOVUPS(v, Mem{Base: dst})
	})
}
