package infer

import (
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

func eq(e string) []*onnx.Attribute {
	return []*onnx.Attribute{{Name: "equation", Type: onnx.AttrString, S: []byte(e)}}
}

// Expected values: torch.einsum in scripts/ref_index_ops.py on the same
// iota inputs.
func TestEinsum(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	iota := func(dt tensor.DType, shape ...int) *tensor.Tensor {
		d := tensor.New(dt, shape...)
		castInto(d, ewIota(shape...))
		return d
	}
	cases := []ewCase{
		{name: "matmul float32", op: "Einsum", attrs: eq("ij,jk->ik"), in: ts(ewIota(2, 3), ewIota(3, 4)),
			want: ts(ewF32(s(2, 4), 20, 23, 26, 29, 56, 68, 80, 92))},
		{name: "both operands read transposed", op: "Einsum", attrs: eq("ji,kj->ik"), in: ts(ewIota(3, 2), ewIota(4, 3)),
			want: ts(ewF32(s(2, 4), 10, 28, 46, 64, 13, 40, 67, 94))},
		{name: "ellipsis broadcast implicit", op: "Einsum", attrs: eq("...ij,...jk"), in: ts(ewIota(2, 1, 2, 3), ewIota(3, 3, 2)),
			want: ts(ewF32(s(2, 3, 2, 2), 10, 13, 28, 40, 28, 31, 100, 112, 46, 49, 172, 184, 46, 67, 64, 94, 172, 193, 244, 274, 298, 319, 424, 454))},
		{name: "diagonal", op: "Einsum", attrs: eq("ii->i"), in: ts(ewIota(3, 3)), want: ts(ewF32(s(3), 0, 4, 8))},
		{name: "trace implicit", op: "Einsum", attrs: eq("ii"), in: ts(ewIota(3, 3)), want: ts(ewF32(nil, 12))},
		{name: "batch matmul int64", op: "Einsum", attrs: eq("bij, bjk -> bik"), in: ts(iota(tensor.Int64, 2, 2, 3), iota(tensor.Int64, 2, 3, 2)),
			want: ts(ewI64(s(2, 2, 2), 10, 13, 28, 40, 172, 193, 244, 274))},
		{name: "outer float64", op: "Einsum", attrs: eq("i,j->ij"), in: ts(iota(tensor.Float64, 2), ewT(tensor.Float64, s(3), 1, 2, 3)),
			want: ts(ewT(tensor.Float64, s(2, 3), 0, 0, 0, 1, 2, 3))},
		{name: "repeated in one operand", op: "Einsum", attrs: eq("iij,jk->ik"), in: ts(ewIota(2, 2, 3), ewIota(3, 2)),
			want: ts(ewF32(s(2, 2), 10, 13, 64, 94))},
		{name: "implicit reorders", op: "Einsum", attrs: eq("ba,cb"), in: ts(ewIota(2, 3), ewIota(4, 2)),
			want: ts(ewF32(s(3, 4), 3, 9, 15, 21, 4, 14, 24, 34, 5, 19, 33, 47))},
		{name: "sum all", op: "Einsum", attrs: eq("ijk->"), in: ts(ewIota(2, 3, 4)), want: ts(ewF32(nil, 276))},
		{name: "ellipsis int32", op: "Einsum", attrs: eq("i...,...->..."), in: ts(iota(tensor.Int32, 2, 3), iota(tensor.Int32, 3)),
			want: ts(ewT(tensor.Int32, s(3), 0, 5, 14))},
	}
	ewRunCases(t, cases)
}

func TestEinsumErrors(t *testing.T) {
	s := func(v ...int) []int { return v }
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	x := ewIota(2, 3)
	cases := []ewCase{
		{name: "operand count", op: "Einsum", attrs: eq("ij,jk->ik"), in: ts(x), err: "2 operands for 1 inputs"},
		{name: "bad character", op: "Einsum", attrs: eq("i1->i"), in: ts(x), err: "invalid term"},
		{name: "stray dot", op: "Einsum", attrs: eq("i.j->ij"), in: ts(x), err: "invalid term"},
		{name: "two ellipses", op: "Einsum", attrs: eq("......->"), in: ts(x), err: "invalid term"},
		{name: "output not in input", op: "Einsum", attrs: eq("ij->k"), in: ts(x), err: "is in no input"},
		{name: "output repeated", op: "Einsum", attrs: eq("ij->ii"), in: ts(x), err: "repeated"},
		{name: "no equation", op: "Einsum", in: ts(x), err: "\"equation\" is required"},
		{name: "rank mismatch", op: "Einsum", attrs: eq("ijk->i"), in: ts(x), err: "does not match term"},
		{name: "size mismatch", op: "Einsum", attrs: eq("ij,ij->i"), in: ts(x, ewIota(3, 2)), err: "sizes 2 and 3"},
		{name: "ellipsis mismatch", op: "Einsum", attrs: eq("...,...->..."), in: ts(ewIota(2), ewIota(3)), err: "sizes 2 and 3"},
		{name: "dtypes differ", op: "Einsum", attrs: eq("i,i"), in: ts(ewIota(2), ewI64(s(2), 1, 2)), err: "dtypes differ"},
		{name: "bool", op: "Einsum", attrs: eq("i"), in: ts(ewBool(s(1), true)), err: "unsupported dtype"},
		{name: "huge outer product", op: "Einsum", attrs: eq("i,j,k->ijk"), in: ts(ewIota(1<<11), ewIota(1<<11), ewIota(1<<11)), err: "more than"},
	}
	ewRunCases(t, cases)
}

// benchOp runs op on in once per iteration.
func benchOp(b *testing.B, c ewCase) {
	n := &onnx.Node{Name: c.op, OpType: c.op, Attrs: c.attrs, Outputs: []string{"y"}}
	for range c.in {
		n.Inputs = append(n.Inputs, "x")
	}
	o, err := ewBuilder(c.op, 17)(n, 17)
	if err != nil {
		b.Fatal(err)
	}
	sc, out := &scratch{}, []*tensor.Tensor{{}}
	for b.Loop() {
		if err := o.run(sc, c.in, out); err != nil {
			b.Fatal(err)
		}
	}
}

// Attention scores q·kᵀ over 8 heads of 128 positions by 64: Einsum
// (which transposes k, then runs Sgemm per head) against MatMul on a k
// already transposed. Compare the two in the same run.
func BenchmarkEinsumAttention(b *testing.B) {
	benchOp(b, ewCase{op: "Einsum", attrs: eq("bhqd,bhkd->bhqk"), in: []*tensor.Tensor{ewIota(1, 8, 128, 64), ewIota(1, 8, 128, 64)}})
}

func BenchmarkMatMulAttention(b *testing.B) {
	benchOp(b, ewCase{op: "MatMul", in: []*tensor.Tensor{ewIota(1, 8, 128, 64), ewIota(1, 8, 64, 128)}})
}
