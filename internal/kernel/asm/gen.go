//go:build ignore

// gen.go writes the AVX2/FMA micro-kernels of package kernel with avo.
// Run from this folder (its own module, so avo stays out of the main go.mod):
//
//	go run gen.go -out ../sgemm_amd64.s -stubs ../sgemm_stub_amd64.go -pkg kernel
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm")
	sgemmKernel()
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
