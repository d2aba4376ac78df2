package infer

import (
	"fmt"

	"github.com/onnxkit/onnxkit/internal/kernel"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// gemmOp is Gemm (opsets 1, 6, 7, 9, 11, 13; float32, float64):
// Y = alpha * op(A) * op(B) + beta * C, with C broadcast to Y's shape
// (unidirectionally) and optional from opset 11. Before opset 7 C is
// broadcast only with the attribute broadcast=1; otherwise it must be
// M x N.
type gemmOp struct {
	alpha, beta    float32
	transA, transB bool
	exactC         bool            // opset < 7 without broadcast=1
	act            *unaryOp        // a fused activation, or nil
	bpack          *kernel.PackedB // B packed at load (a constant B, not transposed), or nil
}

func buildGemm(n *onnx.Node, opset int64) (op, error) {
	minIn := 3
	if opset >= 11 {
		minIn = 2
	}
	if err := checkArity(n, minIn, 3, 1); err != nil {
		return nil, err
	}
	a := attrs{n: n}
	o := &gemmOp{alpha: a.float("alpha", 1), beta: a.float("beta", 1)}
	for _, t := range []struct {
		name string
		dst  *bool
	}{{"transA", &o.transA}, {"transB", &o.transB}} {
		switch v := a.int(t.name, 0); v {
		case 0, 1:
			*t.dst = v == 1
		default:
			a.fail("attribute %q: want 0 or 1, got %d", t.name, v)
		}
	}
	if opset < 7 {
		switch v := a.int("broadcast", 0); v {
		case 0, 1:
			o.exactC = v == 0
		default:
			a.fail("attribute \"broadcast\": want 0 or 1, got %d", v)
		}
	}
	if a.err != nil {
		return nil, a.err
	}
	return o, nil
}

func (o *gemmOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	a, b := in[0], in[1]
	var c *tensor.Tensor
	if len(in) > 2 {
		c = in[2]
	}
	dt := a.DType
	if (dt != tensor.Float32 && dt != tensor.Float64) || b.DType != dt || (c != nil && c.DType != dt) {
		return fmt.Errorf("want float32 or float64 inputs of one type, got A %v, B %v", a, b)
	}
	if a.Rank() != 2 || b.Rank() != 2 {
		return fmt.Errorf("want 2-D A and B, got A %v, B %v", a, b)
	}
	m, k := a.Shape[0], a.Shape[1]
	if o.transA {
		m, k = k, m
	}
	kb, n := b.Shape[0], b.Shape[1]
	if o.transB {
		kb, n = n, kb
	}
	if k != kb {
		return fmt.Errorf("A %v and B %v do not multiply (transA=%v, transB=%v)", a, b, o.transA, o.transB)
	}
	// C broadcasts to m x n: its row stride is 0 when it has one row, and
	// its column stride 0 when it has one column.
	var cRow, cCol int
	if c != nil {
		cm, cn := 1, 1
		switch c.Rank() {
		case 0:
		case 1:
			cn = c.Shape[0]
		case 2:
			cm, cn = c.Shape[0], c.Shape[1]
		default:
			return fmt.Errorf("C is %v, want rank 0 to 2", c)
		}
		if (cm != 1 && cm != m) || (cn != 1 && cn != n) {
			return fmt.Errorf("C %v does not broadcast to %dx%d", c, m, n)
		}
		if o.exactC && (c.Rank() != 2 || cm != m || cn != n) {
			return fmt.Errorf("C is %v, want %dx%d (broadcast is 0)", c, m, n)
		}
		if cn != 1 {
			cCol = 1
		}
		if cm != 1 {
			cRow = cn
		}
	}
	lda, ldb := k, n
	if o.transA {
		lda = m
	}
	if o.transB {
		ldb = k
	}
	if err := checkAlloc(m, n); err != nil {
		return err
	}
	y := out[0]
	resize(y, dt, m, n)
	useC := c != nil && o.beta != 0 && m*n > 0
	if dt == tensor.Float64 {
		var cs []float64
		if useC {
			cs = c.F64
		}
		gemm64(o, m, n, k, a.F64, lda, b.F64, ldb, cs, cRow, cCol, y.F64)
		applyAct64(o.act, y.F64)
		return nil
	}
	var beta float32
	// A bias (C one row, beta 1) is added after the product, which then
	// stores its first block instead of reading C.
	bias := useC && o.beta == 1 && cRow == 0 && cCol == 1
	if useC && !bias {
		for i := 0; i < m; i++ {
			row := y.F32[i*n : (i+1)*n]
			if o.beta == 1 && cCol == 1 {
				copy(row, c.F32[i*cRow:])
				continue
			}
			for j := range row {
				row[j] = o.beta * c.F32[i*cRow+j*cCol]
			}
		}
		beta = 1
	}
	if p := o.bpack; p != nil && !o.transB && p.K() == k && p.N() == n {
		p.Sgemm(o.transA, m, o.alpha, a.F32, lda, beta, y.F32, n)
	} else {
		kernel.Sgemm(o.transA, o.transB, m, n, k, o.alpha, a.F32, lda, b.F32, ldb, beta, y.F32, n)
	}
	if !bias {
		applyAct(o.act, y.F32)
		return nil
	}
	for i := range m { // the bias, then the activation, a row at a time
		row := y.F32[i*n : (i+1)*n]
		kernel.AddBias(row, c.F32[:n], 1)
		applyAct(o.act, row)
	}
	return nil
}

// gemm64 is Gemm for float64, computed directly.
func gemm64(o *gemmOp, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, cRow, cCol int, y []float64) {
	alpha, beta := float64(o.alpha), float64(o.beta)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				av, bv := a[i*lda+p], b[p*ldb+j]
				if o.transA {
					av = a[p*lda+i]
				}
				if o.transB {
					bv = b[j*ldb+p]
				}
				s += av * bv
			}
			s *= alpha
			if c != nil {
				s += beta * c[i*cRow+j*cCol]
			}
			y[i*n+j] = s
		}
	}
}

// matMulOp is MatMul (opsets 1, 9, 13; float32, float64) with numpy
// semantics: batched over leading axes with broadcasting, and a 1-D operand
// promoted to a matrix and its axis removed from the result.
type matMulOp struct{}

func buildMatMul(n *onnx.Node, opset int64) (op, error) {
	if err := checkArity(n, 2, 2, 1); err != nil {
		return nil, err
	}
	return matMulOp{}, nil
}

func (matMulOp) run(_ *scratch, in, out []*tensor.Tensor) error {
	a, b := in[0], in[1]
	dt := a.DType
	if (dt != tensor.Float32 && dt != tensor.Float64) || b.DType != dt {
		return fmt.Errorf("want float32 or float64 inputs of one type, got A %v, B %v", a, b)
	}
	if a.Rank() < 1 || b.Rank() < 1 {
		return fmt.Errorf("want A and B of rank 1 or more, got A %v, B %v", a, b)
	}
	var m, k, kb, n int
	aBatch, bBatch := a.Shape[:max(0, a.Rank()-2)], b.Shape[:max(0, b.Rank()-2)]
	if a.Rank() == 1 {
		m, k = 1, a.Shape[0]
	} else {
		m, k = a.Shape[a.Rank()-2], a.Shape[a.Rank()-1]
	}
	if b.Rank() == 1 {
		kb, n = b.Shape[0], 1
	} else {
		kb, n = b.Shape[b.Rank()-2], b.Shape[b.Rank()-1]
	}
	if k != kb {
		return fmt.Errorf("A %v and B %v do not multiply", a, b)
	}
	rank := max(len(aBatch), len(bBatch))
	var buf [16]int
	yshape := buf[:0]
	if rank+2 > len(buf) {
		yshape = make([]int, 0, rank+2)
	}
	for i := 0; i < rank; i++ {
		da, db := dimFromEnd(aBatch, rank-1-i), dimFromEnd(bBatch, rank-1-i)
		switch {
		case da == db || db == 1:
			yshape = append(yshape, da)
		case da == 1:
			yshape = append(yshape, db)
		default:
			return fmt.Errorf("batch axes of A %v and B %v do not broadcast", a, b)
		}
	}
	batch := prod(yshape)
	if a.Rank() > 1 {
		yshape = append(yshape, m)
	}
	if b.Rank() > 1 {
		yshape = append(yshape, n)
	}
	if err := checkAlloc(yshape...); err != nil {
		return err
	}
	y := out[0]
	resize(y, dt, yshape...)
	if batch == 0 || m == 0 || n == 0 {
		return nil
	}
	mm := func(ai, bi, yi, rows int) {
		if dt == tensor.Float64 {
			matMul64(rows, n, k, a.F64[ai*m*k:], b.F64[bi*k*n:], y.F64[yi*m*n:])
			return
		}
		kernel.Sgemm(false, false, rows, n, k, 1, a.F32[ai*m*k:], k, b.F32[bi*k*n:], n, 0, y.F32[yi*m*n:], n)
	}
	if len(bBatch) == 0 || prod(bBatch) == 1 && len(aBatch) >= len(bBatch) {
		// B is one matrix: fold A's batch into its rows.
		mm(0, 0, 0, batch*m)
		return nil
	}
	// Odometer over the batch axes, tracking the offsets into A and B.
	var ibuf [8]int
	pos := ibuf[:0]
	if rank > len(ibuf) {
		pos = make([]int, 0, rank)
	}
	pos = pos[:rank]
	clear(pos)
	for yi := 0; yi < batch; yi++ {
		ai, bi := 0, 0
		for i := 0; i < rank; i++ {
			da, db := dimFromEnd(aBatch, rank-1-i), dimFromEnd(bBatch, rank-1-i)
			ai = ai*da + min(pos[i], da-1)
			bi = bi*db + min(pos[i], db-1)
		}
		mm(ai, bi, yi, m)
		for i := rank - 1; i >= 0; i-- {
			pos[i]++
			if pos[i] < yshape[i] {
				break
			}
			pos[i] = 0
		}
	}
	return nil
}

// dimFromEnd returns shape[len(shape)-1-i], or 1 beyond the shape's rank.
func dimFromEnd(shape []int, i int) int {
	if i >= len(shape) {
		return 1
	}
	return shape[len(shape)-1-i]
}

func matMul64(m, n, k int, a, b, y []float64) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[p*n+j]
			}
			y[i*n+j] = s
		}
	}
}
