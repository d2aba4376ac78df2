package infer

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

func TestGemmHand(t *testing.T) {
	// A = [[1 2] [3 4]], B = [[5 6] [7 8]]: A*B = [[19 22] [43 50]],
	// A^T*B = [[26 30] [38 44]], A*B^T = [[17 23] [39 53]].
	a := tensor.FromFloat32([]float32{1, 2, 3, 4}, 2, 2)
	b := tensor.FromFloat32([]float32{5, 6, 7, 8}, 2, 2)
	tests := []struct {
		name  string
		opset int64
		attrs []*onnx.Attribute
		c     *tensor.Tensor
		want  []float32
	}{
		{"plain", 13, nil, nil, []float32{19, 22, 43, 50}},
		{"transA", 13, []*onnx.Attribute{aInt("transA", 1)}, nil, []float32{26, 30, 38, 44}},
		{"transB", 13, []*onnx.Attribute{aInt("transB", 1)}, nil, []float32{17, 23, 39, 53}},
		// 2*AB + 3*[1 2] per row.
		{"alpha beta vector", 9, []*onnx.Attribute{aFloat("alpha", 2), aFloat("beta", 3)}, tensor.FromFloat32([]float32{1, 2}, 2), []float32{41, 50, 89, 106}},
		{"scalar C", 11, nil, tensor.FromFloat32([]float32{10}), []float32{29, 32, 53, 60}},
		{"column C", 11, nil, tensor.FromFloat32([]float32{1, 2}, 2, 1), []float32{20, 23, 45, 52}},
		{"row C", 11, nil, tensor.FromFloat32([]float32{1, 2}, 1, 2), []float32{20, 24, 44, 52}},
		{"matrix C beta 0", 11, []*onnx.Attribute{aFloat("beta", 0)}, tensor.FromFloat32([]float32{9, 9, 9, 9}, 2, 2), []float32{19, 22, 43, 50}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins := []*tensor.Tensor{a, b}
			if tt.c != nil {
				ins = append(ins, tt.c)
			}
			got, err := runOp("Gemm", tt.opset, tt.attrs, 1, ins...)
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, "Gemm", got[0], tensor.FromFloat32(tt.want, 2, 2), 0)
		})
	}
}

func TestGemmFloat64(t *testing.T) {
	// Same as TestGemmHand's "alpha beta vector", transposed A: 2*A^T*B + 3*[1 2].
	a := &tensor.Tensor{DType: tensor.Float64, Shape: []int{2, 2}, F64: []float64{1, 2, 3, 4}}
	b := &tensor.Tensor{DType: tensor.Float64, Shape: []int{2, 2}, F64: []float64{5, 6, 7, 8}}
	c := &tensor.Tensor{DType: tensor.Float64, Shape: []int{2}, F64: []float64{1, 2}}
	got, err := runOp("Gemm", 13, []*onnx.Attribute{aFloat("alpha", 2), aFloat("beta", 3), aInt("transA", 1)}, 1, a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	want := &tensor.Tensor{DType: tensor.Float64, Shape: []int{2, 2}, F64: []float64{55, 66, 79, 94}}
	checkClose(t, "Gemm", got[0], want, 0)
}

func TestGemmErrors(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
	tests := []struct {
		name  string
		opset int64
		ins   []*tensor.Tensor
		want  string
	}{
		{"inner", 13, []*tensor.Tensor{f(2, 3), f(2, 3)}, "do not multiply"},
		{"C", 13, []*tensor.Tensor{f(2, 3), f(3, 4), f(3)}, "does not broadcast to 2x4"},
		{"rank", 13, []*tensor.Tensor{f(2, 3, 1), f(3, 4)}, "want 2-D A and B"},
		{"C required before 11", 9, []*tensor.Tensor{f(2, 3), f(3, 4)}, "want 3 inputs"},
		{"dtype", 13, []*tensor.Tensor{f(2, 3), tensor.New(tensor.Float64, 3, 4)}, "one type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runOp("Gemm", tt.opset, nil, 1, tt.ins...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), `node "n" (Gemm): `) {
				t.Errorf("Gemm error = %v, want one naming the node and containing %q", err, tt.want)
			}
		})
	}
}

// matMulRef is numpy's matmul written out: 1-D promotion, broadcast batch
// axes, and a triple loop per matrix.
func matMulRef(a, b *tensor.Tensor) *tensor.Tensor {
	as, bs := append([]int(nil), a.Shape...), append([]int(nil), b.Shape...)
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	ab, bb := as[:len(as)-2], bs[:len(bs)-2]
	rank := max(len(ab), len(bb))
	pad := func(s []int) []int { return append(ones(rank-len(s)), s...) }
	ab, bb = pad(ab), pad(bb)
	batch := make([]int, rank)
	for i := range batch {
		batch[i] = ab[i]
		if ab[i] == 1 {
			batch[i] = bb[i]
		}
	}
	var yshape []int
	yshape = append(yshape, batch...)
	if a.Rank() > 1 {
		yshape = append(yshape, m)
	}
	if b.Rank() > 1 {
		yshape = append(yshape, n)
	}
	y := tensor.New(tensor.Float32, yshape...)
	nb := prod(batch)
	for bi := 0; bi < nb; bi++ {
		// Decode bi into batch coordinates, then into A's and B's.
		pos := make([]int, rank)
		r := bi
		for i := rank - 1; i >= 0; i-- {
			pos[i] = r % batch[i]
			r /= batch[i]
		}
		ai, bj := 0, 0
		for i := 0; i < rank; i++ {
			ai = ai*ab[i] + pos[i]%ab[i]
			bj = bj*bb[i] + pos[i]%bb[i]
		}
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for p := 0; p < k; p++ {
					s += float64(a.F32[ai*m*k+i*k+p]) * float64(b.F32[bj*k*n+p*n+j])
				}
				y.F32[bi*m*n+i*n+j] = float32(s)
			}
		}
	}
	return y
}

func TestMatMulAgainstReference(t *testing.T) {
	tests := [][2][]int{
		{{3}, {3}},
		{{3}, {2, 3, 4}},
		{{2, 3}, {3}},
		{{2, 3, 4}, {4}},
		{{2, 3}, {3, 4}},
		{{5, 3, 4}, {4, 2}},       // B one matrix: A's batch folded into rows
		{{1, 3, 4}, {2, 4, 5}},    // A broadcast
		{{2, 1, 3, 4}, {5, 4, 2}}, // both broadcast
		{{2, 2, 3, 4}, {1, 1, 4, 2}},
		{{3, 4}, {2, 2, 4, 3}},
		{{0, 3, 4}, {4, 2}},
	}
	rng := rand.New(rand.NewSource(1))
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt[0], "x", tt[1]), func(t *testing.T) {
			a, b := randTensor(rng, tt[0]...), randTensor(rng, tt[1]...)
			got, err := runOp("MatMul", 13, nil, 1, a, b)
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, "MatMul", got[0], matMulRef(a, b), 1e-5)
		})
	}
}

func TestMatMulErrors(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
	for _, tt := range []struct {
		a, b *tensor.Tensor
		want string
	}{
		{f(2, 3), f(4, 5), "do not multiply"},
		{f(2, 2, 3), f(3, 3, 4), "do not broadcast"},
		{f(), f(3), "rank 1 or more"},
		{f(2, 3), tensor.New(tensor.Int64, 3, 2), "one type"},
	} {
		_, err := runOp("MatMul", 13, nil, 1, tt.a, tt.b)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("MatMul(%v, %v) error = %v, want %q", tt.a, tt.b, err, tt.want)
		}
	}
}
