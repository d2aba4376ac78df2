package infer

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// indexOps are the ops of index.go, layout.go and einsum.go.
var indexOps = []string{
	"Split", "Tile", "DepthToSpace", "SpaceToDepth", "Trilu", "EyeLike", "Size", "Compress",
	"ReverseSequence", "OneHot", "NonZero", "Mean", "ArgMax", "ArgMin", "TopK", "GatherElements",
	"GatherND", "ScatterElements", "Scatter", "ScatterND", "Einsum", "CenterCropPad", "TensorScatter", "Unique",
	"NonMaxSuppression",
}

// TestIndexOpsNoPanic runs the index and layout ops on combinations of odd
// inputs (empty, scalar, huge or negative indices, mismatched dtypes) and
// attributes and checks that each run succeeds or fails with an error
// naming the node, never panics.
func TestIndexOpsNoPanic(t *testing.T) {
	pool := []*tensor.Tensor{
		ewF32(nil, 2),
		ewF32([]int{0}),
		ewF32([]int{2, 3}, 1, -2, 3, -4, 5, math.NaN()),
		ewI64([]int{2}, 0, -1),
		ewI64([]int{3}, -9e18, 9e18, 1),
		ewI64([]int{1}, 3e9),
		ewT(tensor.Int32, []int{2, 1, 2}, 0, 1, -2, 3),
		ewBool([]int{2}, true, false),
		ewI64([]int{0, 2}),
		ewIota(1, 4, 2, 2),
	}
	str := func(name, v string) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: []byte(v)}
	}
	attrSets := [][]*onnx.Attribute{
		nil,
		{ewInt("axis", -1), ewInt("k", 1), ewInt("keepdims", 0), ewInt("select_last_index", 1), ewInt("batch_dims", 1),
			ewInt("blocksize", 2), ewInt("num_outputs", 2), ewInt("largest", 0), ewInt("upper", 0), ewInt("dtype", 7),
			str("reduction", "add"), str("mode", "CRD"), str("equation", "...i,i")},
		{ewInt("axis", 0), ewInt("blocksize", 1<<15), ewInts("split", 1, 1), ewInt("k", -5), str("reduction", "max"),
			str("equation", "ii->i"), ewInt("time_axis", 1), ewInt("batch_axis", 0), ewInt("dtype", 1)},
	}
	runs := 0
	for _, op := range indexOps {
		for _, opset := range []int64{9, 13, 18, 24} {
			if ewBuilder(op, opset) == nil {
				continue
			}
			for nin := 0; nin <= 3; nin++ {
				combos := 1
				for range nin {
					combos *= len(pool)
				}
				for c := range combos {
					in := make([]*tensor.Tensor, nin)
					for k, cc := 0, c; k < nin; k++ {
						in[k] = pool[cc%len(pool)]
						cc /= len(pool)
					}
					for _, attrs := range attrSets {
						runs++
						func() {
							defer func() {
								if r := recover(); r != nil {
									t.Fatalf("%s-%d on %v with %d attributes: panic: %v", op, opset, in, len(attrs), r)
								}
							}()
							out, err := ewRun(ewCase{op: op, opset: opset, attrs: attrs, in: in}, 2)
							if err != nil {
								if !strings.Contains(err.Error(), "node \"n_"+op+"\"") {
									t.Errorf("%s-%d: error %q does not name the node", op, opset, err)
								}
								return
							}
							for i, o := range out {
								if !o.Valid() {
									t.Errorf("%s-%d on %v: invalid output %d %v", op, opset, in, i, o)
								}
							}
						}()
					}
				}
			}
		}
	}
	t.Logf("%d runs", runs)
}

// TestSplitArgMaxNoAllocs checks that Split (on PyTorch exports' hot path:
// chunk, GLU) and ArgMax allocate nothing once their outputs are warm.
func TestSplitArgMaxNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	cases := []ewCase{
		{op: "Split", attrs: []*onnx.Attribute{ewInt("axis", 1)}, in: []*tensor.Tensor{ewIota(2, 8, 4), ewI64([]int{2}, 3, 5)}},
		{op: "ArgMax", in: []*tensor.Tensor{ewIota(2, 8)}},
	}
	for _, c := range cases {
		n := &onnx.Node{Name: c.op, OpType: c.op, Attrs: c.attrs, Outputs: []string{"y0"}}
		if c.op == "Split" {
			n.Outputs = append(n.Outputs, "y1")
		}
		for range c.in {
			n.Inputs = append(n.Inputs, "x")
		}
		o, err := ewBuilder(c.op, 17)(n, 17)
		if err != nil {
			t.Fatal(err)
		}
		sc, out := &scratch{}, []*tensor.Tensor{{}, {}}
		if err := o.run(sc, c.in, out); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(10, func() {
			if err := o.run(sc, c.in, out); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run, want 0", c.op, allocs)
		}
	}
}
