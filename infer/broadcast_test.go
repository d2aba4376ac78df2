package infer

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Test helpers for the elementwise, activation and shape ops (prefix ew so
// that they do not collide with other tests of the package).

// ewT builds a tensor of dtype dt from float64 values (converted like Cast).
func ewT(dt tensor.DType, shape []int, vals ...float64) *tensor.Tensor {
	if tensor.NumElements(shape) != len(vals) {
		panic(fmt.Sprintf("ewT: %d values for shape %v", len(vals), shape))
	}
	t := tensor.New(dt, shape...)
	castFloat64(t, vals)
	return t
}

func ewF32(shape []int, vals ...float64) *tensor.Tensor { return ewT(tensor.Float32, shape, vals...) }
func ewI64(shape []int, vals ...float64) *tensor.Tensor { return ewT(tensor.Int64, shape, vals...) }

func ewBool(shape []int, vals ...bool) *tensor.Tensor {
	return &tensor.Tensor{DType: tensor.Bool, Shape: shape, B: vals}
}

func ewInt(name string, v int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInt, I: v}
}

func ewInts(name string, v ...int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
}

func ewFloat(name string, v float32) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrFloat, F: v}
}

func ewTensorAttr(name string, t *tensor.Tensor) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrTensor, T: t}
}

// ewBuilder finds the registry's builder for op at opset.
func ewBuilder(op string, opset int64) builder {
	for _, v := range registry[op] {
		if opset >= v.since && (v.until == 0 || opset <= v.until) {
			return v.build
		}
	}
	return nil
}

// ewCase is one run of one op: nil entries of in are absent optional
// inputs; err, when set, is a substring of the expected error.
type ewCase struct {
	name  string
	op    string
	opset int64
	attrs []*onnx.Attribute
	in    []*tensor.Tensor
	want  []*tensor.Tensor
	err   string
}

// ewRun builds the op's node and runs it, with nout outputs.
func ewRun(c ewCase, nout int) (out []*tensor.Tensor, err error) {
	n := &onnx.Node{Name: "n_" + c.op, OpType: c.op, Attrs: c.attrs}
	for i, t := range c.in {
		name := ""
		if t != nil {
			name = fmt.Sprintf("x%d", i)
		}
		n.Inputs = append(n.Inputs, name)
	}
	for i := range nout {
		n.Outputs = append(n.Outputs, fmt.Sprintf("y%d", i))
		out = append(out, &tensor.Tensor{})
	}
	b := ewBuilder(c.op, c.opset)
	if b == nil {
		return nil, fmt.Errorf("no builder for %s-%d", c.op, c.opset)
	}
	o, err := b(n, c.opset)
	if err != nil {
		return nil, err
	}
	return out, o.run(&scratch{}, c.in, out)
}

func ewRunCases(t *testing.T, cases []ewCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.opset == 0 {
				c.opset = 17
			}
			nout := max(len(c.want), 1)
			got, err := ewRun(c, nout)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("%s-%d: error = %v, want one containing %q", c.op, c.opset, err, c.err)
				}
				if !strings.Contains(err.Error(), `node "n_`+c.op+`"`) {
					t.Errorf("error %q does not name the node", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s-%d: %v", c.op, c.opset, err)
			}
			for i, w := range c.want {
				if msg := ewDiff(got[i], w); msg != "" {
					t.Errorf("%s-%d output %d: %s", c.op, c.opset, i, msg)
				}
			}
		})
	}
}

// ewDiff describes how got differs from want ("" if equal; floats within
// a relative 1e-6, NaN equal to NaN).
func ewDiff(got, want *tensor.Tensor) string {
	if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) {
		return fmt.Sprintf("got %v, want %v", got, want)
	}
	if !got.Valid() {
		return fmt.Sprintf("got invalid tensor %v", got)
	}
	if want.DType == tensor.String {
		if g, w := tensor.Data[string](got), tensor.Data[string](want); !slices.Equal(g, w) {
			return fmt.Sprintf("got %q, want %q", g, w)
		}
		return ""
	}
	for i := range want.Len() {
		g, w := got.Float64At(i), want.Float64At(i)
		if g == w || (math.IsNaN(g) && math.IsNaN(w)) {
			continue
		}
		if isFloat(want.DType) && math.Abs(g-w) <= 1e-6*max(1, math.Abs(w)) {
			continue
		}
		return fmt.Sprintf("element %d = %v, want %v (got %v, want %v)", i, g, w, ewVals(got), ewVals(want))
	}
	return ""
}

func ewVals(t *tensor.Tensor) []float64 {
	v := make([]float64, t.Len())
	for i := range v {
		v[i] = t.Float64At(i)
	}
	return v
}

func TestBroadcastShape(t *testing.T) {
	tests := []struct {
		in   [][]int
		want []int // nil: error
	}{
		{[][]int{{2, 3}, {2, 3}}, []int{2, 3}},
		{[][]int{{2, 3}, {}}, []int{2, 3}},
		{[][]int{{1, 3, 4, 4}, {3, 1, 1}}, []int{1, 3, 4, 4}},
		{[][]int{{2, 1}, {1, 3}}, []int{2, 3}},
		{[][]int{{5, 1, 2}, {4, 1}, {1}}, []int{5, 4, 2}},
		{[][]int{{0, 3}, {1, 3}}, []int{0, 3}},
		{[][]int{{2, 3}, {3, 2}}, nil},
		{[][]int{{0}, {2}}, nil},
	}
	for _, tt := range tests {
		got, err := broadcastShape(tt.in...)
		if tt.want == nil {
			if err == nil {
				t.Errorf("broadcastShape(%v) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("broadcastShape(%v) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestBroadcastBinaryRandom checks the planned walk (dimension merging and
// the three block kernels) against a direct index computation on random
// broadcastable shapes.
func TestBroadcastBinaryRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	sub := subKernel[float64]()
	for iter := range 300 {
		rank := rng.Intn(5)
		out := make([]int, rank)
		for i := range out {
			out[i] = 1 + rng.Intn(4)
		}
		mk := func() []int {
			r := rng.Intn(rank + 1)
			s := append([]int(nil), out[rank-r:]...)
			for i := range s {
				if rng.Intn(2) == 0 {
					s[i] = 1
				}
			}
			return s
		}
		as, bs := mk(), mk()
		shape, err := broadcastShape(as, bs)
		if err != nil {
			t.Fatal(err)
		}
		a := make([]float64, tensor.NumElements(as))
		b := make([]float64, tensor.NumElements(bs))
		for i := range a {
			a[i] = float64(rng.Intn(100))
		}
		for i := range b {
			b[i] = float64(rng.Intn(100)) / 1000
		}
		d := make([]float64, tensor.NumElements(shape))
		broadcastBinary(&sub, d, shape, a, as, b, bs)
		for i := range d {
			want := a[ewBcastIndex(i, shape, as)] - b[ewBcastIndex(i, shape, bs)]
			if d[i] != want {
				t.Fatalf("iteration %d: %v - %v -> %v: element %d = %v, want %v", iter, as, bs, shape, i, d[i], want)
			}
		}
	}
}

// TestBroadcastManyDims checks the largest walk a plan holds (planDims+1
// dimensions that cannot be merged) and that one more is an error.
func TestBroadcastManyDims(t *testing.T) {
	const r = planDims + 1
	as, bs, out := make([]int, r), make([]int, r), make([]int, r)
	for i := range out {
		out[i], as[i], bs[i] = 2, 1+i%2, 2-i%2 // a = [1 2 1 2 ...], b = [2 1 2 1 ...]
	}
	a := make([]float64, tensor.NumElements(as))
	b := make([]float64, tensor.NumElements(bs))
	for i := range a {
		a[i] = float64(i)
	}
	for i := range b {
		b[i] = float64(i) * 1e-6
	}
	shape, err := broadcastShape(as, bs)
	if err != nil {
		t.Fatalf("broadcastShape(%v, %v): %v", as, bs, err)
	}
	k := addKernel[float64]()
	d := make([]float64, tensor.NumElements(shape))
	broadcastBinary(&k, d, shape, a, as, b, bs)
	for i := range d {
		if want := a[ewBcastIndex(i, shape, as)] + b[ewBcastIndex(i, shape, bs)]; d[i] != want {
			t.Fatalf("element %d = %v, want %v", i, d[i], want)
		}
	}
	if _, err := broadcastShape(append(as, 2), append(bs, 1)); err == nil {
		t.Errorf("broadcastShape with %d dimensions of size 2: no error", r+1)
	}
}

// ewBcastIndex maps flat index i of out to the flat index of an input of
// shape in that broadcasts to out.
func ewBcastIndex(i int, out, in []int) int {
	idx := 0
	stride := 1
	for k := len(out) - 1; k >= 0; k-- {
		c := i % out[k]
		i /= out[k]
		j := k - (len(out) - len(in))
		if j < 0 {
			continue
		}
		if in[j] != 1 {
			idx += c * stride
		}
		stride *= in[j]
	}
	return idx
}

// ewOps is the op types of elementwise.go, activation.go and shape.go, and
// a few others, run by TestOpsNoPanic.
var ewOps = []string{
	"Add", "Sub", "Mul", "Div", "Pow", "Sum", "Max", "Min", "Equal", "Less", "Greater",
	"LessOrEqual", "GreaterOrEqual", "Where", "Cast", "CastLike", "ReduceSum", "ReduceMean",
	"Relu", "LeakyRelu", "Tanh", "Sigmoid", "Exp", "Log", "Sqrt", "Erf", "Neg", "Abs", "Clip",
	"Softmax", "LogSoftmax", "Identity", "Dropout", "Constant", "ConstantOfShape", "Shape",
	"Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Gather", "Concat", "Slice",
	"Expand", "Range",
	"RMSNormalization", "LpNormalization", "NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss",
	"CumProd", "BitwiseAnd", "BitwiseNot",
}

// TestOpsNoPanic runs every op, at an old and a new opset, on many
// combinations of odd inputs (empty, scalar, mismatched dtypes, huge or
// negative values) and checks that each either succeeds or returns an
// error naming the node - never panics.
func TestOpsNoPanic(t *testing.T) {
	pool := []*tensor.Tensor{
		ewF32(nil, 2),
		ewF32([]int{0}),
		ewF32([]int{2, 3}, 1, -2, 3, -4, 5, math.NaN()),
		ewT(tensor.Float64, []int{3, 1}, 1, 2, 3),
		ewI64([]int{2}, 0, -1),
		ewI64([]int{3}, -9e18, 9e18, 1),
		ewI64([]int{1}, 3e9),
		ewT(tensor.Int32, []int{2, 1, 2}, 0, 1, 2, 3),
		ewT(tensor.Uint8, []int{2}, 0, 255),
		ewT(tensor.Int8, []int{2}, -128, 0),
		ewBool([]int{2}, true, false),
		ewI64([]int{0, 2}),
		ewF32([]int{1, 0, 3}),
	}
	ops := 0
	for _, op := range ewOps {
		if registry[op] == nil {
			t.Errorf("op %s is not registered", op)
			continue
		}
		for _, opset := range []int64{9, 12, 18, 26} {
			if ewBuilder(op, opset) == nil {
				continue
			}
			for nin := 0; nin <= 3; nin++ {
				// Every combination of pool entries for the inputs.
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
					for _, attrs := range [][]*onnx.Attribute{nil, {ewInt("axis", -1), ewInt("to", 7), ewInts("axes", 0)}} {
						ew := ewCase{op: op, opset: opset, attrs: attrs, in: in}
						ops++
						func() {
							defer func() {
								if r := recover(); r != nil {
									t.Fatalf("%s-%d on %v with %d attributes: panic: %v", op, opset, in, len(attrs), r)
								}
							}()
							out, err := ewRun(ew, 2)
							if err != nil {
								if !strings.Contains(err.Error(), "node \"n_"+op+"\"") {
									t.Errorf("%s-%d: error %q does not name the node", op, opset, err)
								}
								return
							}
							if !out[0].Valid() {
								t.Errorf("%s-%d on %v: invalid output %v", op, opset, in, out[0])
							}
						}()
					}
				}
			}
		}
	}
	t.Logf("%d runs", ops)
}

// TestOpsNoAllocs checks that the ops on the hot path of typical PyTorch
// exports allocate nothing once their outputs are warm, so that
// Session.RunInto can be allocation-free.
func TestOpsNoAllocs(t *testing.T) {
	s := func(v ...int) []int { return v }
	x := ewIota(2, 3, 4)
	ts := func(v ...*tensor.Tensor) []*tensor.Tensor { return v }
	cases := []ewCase{
		{name: "add same shape", op: "Add", in: ts(x, x)},
		{name: "mul scalar", op: "Mul", in: ts(x, ewF32(nil, 2))},
		{name: "div scalar left", op: "Div", in: ts(ewF32(s(1), 2), x)},
		{name: "add per channel", op: "Add", in: ts(ewIota(1, 4, 8, 8), ewIota(4, 1, 1))},
		{name: "where", op: "Where", in: ts(ewBool(s(4), true, false, true, false), ewF32(nil, 1), ewIota(3, 1))},
		{name: "relu", op: "Relu", in: ts(x)},
		{name: "tanh", op: "Tanh", in: ts(x)},
		{name: "sigmoid", op: "Sigmoid", in: ts(x)},
		{name: "clip", op: "Clip", in: ts(x, ewF32(nil, 0), ewF32(nil, 6))},
		{name: "softmax", op: "Softmax", in: ts(x)},
		{name: "logsoftmax", op: "LogSoftmax", opset: 11, in: ts(x)},
		{name: "identity", op: "Identity", in: ts(x)},
		{name: "dropout", op: "Dropout", in: ts(x)},
		{name: "constant", op: "Constant", attrs: []*onnx.Attribute{ewInts("value_ints", 1, 2)}},
		{name: "flatten", op: "Flatten", in: ts(x)},
		{name: "reshape", op: "Reshape", in: ts(x, ewI64(s(2), 0, -1))},
		{name: "shape", op: "Shape", in: ts(x)},
		{name: "gather", op: "Gather", in: ts(ewI64(s(4), 1, 2, 3, 4), ewI64(nil, 0))},
		{name: "unsqueeze", op: "Unsqueeze", in: ts(ewI64(nil, 2), ewI64(s(1), 0))},
		{name: "squeeze", op: "Squeeze", in: ts(ewIota(1, 3, 1), ewI64(s(1), 0))},
		{name: "concat", op: "Concat", attrs: []*onnx.Attribute{ewInt("axis", 0)}, in: ts(ewI64(s(1), 1), ewI64(s(1), -1))},
		{name: "cast", op: "Cast", attrs: []*onnx.Attribute{ewInt("to", 7)}, in: ts(x)},
	}
	for _, c := range cases {
		if c.opset == 0 {
			c.opset = 17
		}
		n := &onnx.Node{Name: c.name, OpType: c.op, Attrs: c.attrs, Outputs: []string{"y"}}
		for range c.in {
			n.Inputs = append(n.Inputs, "x")
		}
		o, err := ewBuilder(c.op, c.opset)(n, c.opset)
		if err != nil {
			t.Fatal(err)
		}
		sc, out := &scratch{}, []*tensor.Tensor{{}}
		if err := o.run(sc, c.in, out); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(10, func() {
			if err := o.run(sc, c.in, out); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run, want 0", c.name, allocs)
		}
	}
}
