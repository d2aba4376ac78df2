package infer

import (
	"errors"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestTorchOpCases runs the one-node models and the small PyTorch export in
// testdata/torch (activations, math, reductions, normalizations, on edge
// inputs such as |x| = 100 and ties at .5). Their expected outputs are
// PyTorch 1.13's, written by scripts/ops_reference.py; onnxruntime 1.30
// (scripts/ort_run.js) matches them within the same tolerance for every
// case whose op and dtype it implements (it has no float64 Elu, Selu,
// Celu, HardSigmoid, HardSwish, Softplus, Softsign).
func TestTorchOpCases(t *testing.T) {
	dirs, err := filepath.Glob("testdata/torch/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases in testdata/torch: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err != nil {
				t.Fatal(err)
			}
			// PyTorch's float32 Gelu loses the tail to cancellation (as much as
			// 4.8e-7 absolute), hence the absolute tolerance.
			runNodeCaseTol(t, dir, 1e-4, 1e-6)
		})
	}
}

func TestOpsValues(t *testing.T) {
	f := func(v ...float32) *tensor.Tensor { return tensor.FromFloat32(v, len(v)) }
	b := func(v ...bool) *tensor.Tensor { return &tensor.Tensor{DType: tensor.Bool, Shape: []int{len(v)}, B: v} }
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	tests := []struct {
		name  string
		op    string
		opset int64
		attrs []*onnx.Attribute
		in    []*tensor.Tensor
		want  *tensor.Tensor
	}{
		// numpy: np.isinf(x) & (x > 0) and & (x < 0).
		{"isinf positive", "IsInf", 10, []*onnx.Attribute{aInt("detect_negative", 0)},
			[]*tensor.Tensor{f(-inf, inf, nan, 1)}, b(false, true, false, false)},
		{"isinf negative", "IsInf", 20, []*onnx.Attribute{aInt("detect_positive", 0)},
			[]*tensor.Tensor{f(-inf, inf, nan, 1)}, b(true, false, false, false)},
		// numpy: np.isnan.
		{"isnan", "IsNaN", 13, nil, []*tensor.Tensor{f(-inf, nan, 0)}, b(false, true, false)},
		// numpy: np.logical_xor with the second input broadcast.
		{"xor bcast", "Xor", 7, nil, []*tensor.Tensor{b(true, false, true), b(true)}, b(false, true, false)},
		// numpy: np.sign.
		{"sign", "Sign", 13, nil, []*tensor.Tensor{f(-3, 0, 2.5, nan)}, f(-1, 0, 1, nan)},
		// numpy: np.eye(3)[np.argmax(x)]; the first of equal maxima, and a NaN
		// is the maximum (np.argmax([1, nan, 5]) is 1).
		{"hardmax tie", "Hardmax", 13, nil, []*tensor.Tensor{f(3, 1, 3)}, f(1, 0, 0)},
		{"hardmax nan", "Hardmax", 13, nil, []*tensor.Tensor{f(1, nan, 5)}, f(0, 1, 0)},
		// numpy: np.maximum.reduce([1, nan, 5]) is nan.
		{"reducemax nan", "ReduceMax", 18, nil, []*tensor.Tensor{f(1, nan, 5)}, tensor.FromFloat32([]float32{nan}, 1)},
		// numpy: np.left_shift(np.uint8([1, 255, 16]), [3, 1, 4]) wraps to [8, 254, 0].
		{"bitshift left", "BitShift", 11, []*onnx.Attribute{aString("direction", "LEFT")},
			[]*tensor.Tensor{{DType: tensor.Uint8, Shape: []int{3}, U8: []uint8{1, 255, 16}}, {DType: tensor.Uint8, Shape: []int{3}, U8: []uint8{3, 1, 4}}},
			&tensor.Tensor{DType: tensor.Uint8, Shape: []int{3}, U8: []uint8{8, 254, 0}}},
		// The spec: Elu(opset 1) takes consumed_inputs, which has no effect;
		// torch.nn.functional.elu([-1, 2]) = [-0.63212055, 2].
		{"elu opset 1", "Elu", 1, []*onnx.Attribute{aInts("consumed_inputs", 0)}, []*tensor.Tensor{f(-1, 2)}, f(-0.63212055, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runOp(tt.op, tt.opset, tt.attrs, 1, tt.in...)
			if err != nil {
				t.Fatalf("%s: %v", tt.op, err)
			}
			checkClose(t, tt.op, got[0], tt.want, 1e-6)
		})
	}
}

func TestOpsErrors(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
	i32 := func(v ...int32) *tensor.Tensor {
		return &tensor.Tensor{DType: tensor.Int32, Shape: []int{len(v)}, I32: v}
	}
	tests := []struct {
		op          string
		opset       int64
		attrs       []*onnx.Attribute
		in          []*tensor.Tensor
		unsupported bool // want an UnsupportedOpsError
		want        string
	}{
		{"Gelu", 20, []*onnx.Attribute{aString("approximate", "fast")}, []*tensor.Tensor{f(2)}, true, `"approximate": "fast"`},
		{"LayerNormalization", 17, []*onnx.Attribute{aInt("stash_type", 16)}, []*tensor.Tensor{f(2, 4), f(4)}, true, `"stash_type": 16`},
		{"LayerNormalization", 17, nil, []*tensor.Tensor{f(2, 4), f(3)}, false, `input Scale float32[3] does not broadcast to X float32[2x4]`},
		{"LayerNormalization", 17, []*onnx.Attribute{aInt("axis", 2)}, []*tensor.Tensor{f(2, 4), f(4)}, false, `"axis": 2 out of range`},
		{"RMSNormalization", 23, []*onnx.Attribute{aInt("stash_type", 16)}, []*tensor.Tensor{f(2, 4), f(4)}, true, `"stash_type": 16`},
		{"RMSNormalization", 23, nil, []*tensor.Tensor{f(2, 4), f(3)}, false, `input scale float32[3] does not broadcast to X float32[2x4]`},
		{"RMSNormalization", 23, nil, []*tensor.Tensor{f(2, 4), i32(4)}, false, `input scale is int32[1], want float32 like X`},
		{"LpNormalization", 22, nil, []*tensor.Tensor{i32(4)}, false, `want a float input`},
		{"GroupNormalization", 21, nil, []*tensor.Tensor{f(1, 4, 2), f(4), f(4)}, false, `attribute "num_groups" is required`},
		{"GroupNormalization", 21, []*onnx.Attribute{aInt("num_groups", 3)}, []*tensor.Tensor{f(1, 4, 2), f(4), f(4)}, false, `4 channels do not divide into num_groups 3`},
		{"GroupNormalization", 18, []*onnx.Attribute{aInt("num_groups", 2)}, []*tensor.Tensor{f(1, 4, 2), f(4), f(4)}, false, `input scale is float32[4], want float32[2]`},
		{"InstanceNormalization", 6, nil, []*tensor.Tensor{f(3), f(3), f(3)}, false, `want X of rank 2 or more`},
		{"Mod", 13, nil, []*tensor.Tensor{f(2), f(2)}, false, `attribute "fmod" must be 1 for float32 inputs`},
		{"Mod", 13, nil, []*tensor.Tensor{i32(1, 2), i32(1, 0)}, false, `integer modulo by zero`},
		{"BitShift", 11, []*onnx.Attribute{aString("direction", "UP")}, []*tensor.Tensor{i32(1), i32(1)}, false, `attribute "direction": want "LEFT" or "RIGHT", got "UP"`},
		{"BitShift", 11, []*onnx.Attribute{aString("direction", "LEFT")}, []*tensor.Tensor{i32(1), i32(1)}, false, `unsupported dtype int32`},
		{"CumSum", 14, nil, []*tensor.Tensor{f(2, 2), i32(2)}, false, `axis 2 out of range for rank 2`},
		{"CumSum", 14, nil, []*tensor.Tensor{f(2, 2), i32(0, 1)}, false, `input axis: want one value, got 2`},
		{"ReduceMax", 13, []*onnx.Attribute{aInts("axes", 1, -1)}, []*tensor.Tensor{f(2, 2)}, false, `axis -1 repeated`},
		{"ReduceL2", 18, nil, []*tensor.Tensor{{DType: tensor.Bool, Shape: []int{1}, B: []bool{true}}}, false, `unsupported dtype bool`},
		{"Hardmax", 13, []*onnx.Attribute{aInt("axis", -3)}, []*tensor.Tensor{f(2, 2)}, false, `axis -3 out of range for rank 2`},
		{"IsNaN", 13, nil, []*tensor.Tensor{i32(1)}, false, `unsupported dtype int32`},
		{"And", 7, nil, []*tensor.Tensor{f(1), f(1)}, false, `want bool inputs, got float32 and float32`},
		{"PRelu", 16, nil, []*tensor.Tensor{f(2, 3), f(2)}, false, `input slope float32[2] does not broadcast to X float32[2x3]`},
		{"Elu", 6, nil, []*tensor.Tensor{i32(1)}, false, `unsupported dtype int32`},
		{"MeanVarianceNormalization", 13, []*onnx.Attribute{aInts("axes", 0, 4)}, []*tensor.Tensor{f(1, 2, 3, 4)}, false, `axis 4 out of range for rank 4`},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			_, err := runOp(tt.op, tt.opset, tt.attrs, 1, tt.in...)
			if err == nil {
				t.Fatalf("%s: no error, want %q", tt.op, tt.want)
			}
			var ue *UnsupportedOpsError
			if errors.As(err, &ue) != tt.unsupported {
				t.Errorf("%s: error %v: UnsupportedOpsError is %v, want %v", tt.op, err, !tt.unsupported, tt.unsupported)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `node "n" (`+tt.op) {
				t.Errorf("%s: error %q, want it to name the node and contain %q", tt.op, err, tt.want)
			}
		})
	}
}

// TestLayerNormRunIntoAllocs checks that the PyTorch export with
// LayerNormalization and HardSwish allocates nothing in RunInto once warm.
func TestLayerNormRunIntoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	modelPath, sets, err := onnx.LoadTestCase("testdata/torch/layernorm_mlp")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]*tensor.Tensor{s.Inputs()[0].Name: sets[0].Inputs[0].Tensor}
	out := map[string]*tensor.Tensor{s.Outputs()[0].Name: {}}
	if err := s.RunInto(in, out); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(20, func() { _ = s.RunInto(in, out) }); n != 0 {
		t.Errorf("RunInto allocates %v times per run, want 0", n)
	}
}

// BenchmarkActivations times each float32 activation on 64Ki elements
// through its float32 loop ("f32") and through its float64 function per
// element ("f64"), the path the float32 loop replaces, on one goroutine;
// "f32par" splits the elements across the workers as a Session does.
func BenchmarkActivations(b *testing.B) {
	x := tensor.New(tensor.Float32, 1<<16)
	for i := range x.F32 {
		x.F32[i] = float32(i%2001-1000) / 100
	}
	for _, c := range []struct {
		op    string
		attrs []*onnx.Attribute
	}{
		{"HardSwish", nil}, {"HardSigmoid", nil}, {"Elu", nil}, {"Selu", nil}, {"Mish", nil},
		{"Softplus", nil}, {"Gelu", []*onnx.Attribute{aString("approximate", "tanh")}}, {"Gelu", nil}, {"Erf", nil},
	} {
		n := &onnx.Node{Name: "n", OpType: c.op, Attrs: c.attrs, Inputs: []string{"x"}, Outputs: []string{"y"}}
		o, err := lookup(c.op, 20)(n, 20)
		if err != nil {
			b.Fatal(err)
		}
		u := o.(*unaryOp)
		slow := *u
		slow.f32 = nil
		for _, v := range []struct {
			name string
			o    *unaryOp
			s    *scratch // nil: one goroutine
		}{{"f32", u, nil}, {"f64", &slow, nil}, {"f32par", u, new(scratch)}} {
			name := c.op
			if len(c.attrs) > 0 {
				name += "_" + string(c.attrs[0].S)
			}
			b.Run(name+"/"+v.name, func(b *testing.B) {
				out := []*tensor.Tensor{{}}
				b.SetBytes(int64(4 * x.Len()))
				for i := 0; i < b.N; i++ {
					if err := v.o.run(v.s, []*tensor.Tensor{x}, out); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestUnaryParallel checks that a unary op on a tensor large enough to be
// split across goroutines gives, bit for bit, the values of one pass over
// the whole tensor.
func TestUnaryParallel(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	x := randTensor(rng, 5, unaryBlock+3) // 5 blocks and a partial one
	for i := range x.F32 {
		x.F32[i] *= 10
	}
	for _, op := range []string{"Elu", "Sin", "Relu"} {
		got, err := runOp(op, 13, nil, 1, x)
		if err != nil {
			t.Fatal(err)
		}
		n := &onnx.Node{Name: "n", OpType: op, Inputs: []string{"x"}, Outputs: []string{"y"}}
		o, err := lookup(op, 13)(n, 13)
		if err != nil {
			t.Fatal(err)
		}
		want := tensor.New(tensor.Float32, x.Shape...)
		o.(*unaryOp).apply32(want.F32, x.F32)
		for i := range want.F32 {
			if math.Float32bits(got[0].F32[i]) != math.Float32bits(want.F32[i]) {
				t.Fatalf("%s: element %d = %v, want %v", op, i, got[0].F32[i], want.F32[i])
			}
		}
	}
}

// TestLayerNormParallel checks that a LayerNormalization with enough rows
// to split across goroutines gives, bit for bit, each row's result when
// that row is normalized alone (one goroutine), with the Mean and
// InvStdDev outputs.
func TestLayerNormParallel(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	const rows, size = 70, 1000
	x, scale, bias := randTensor(rng, rows, size), randTensor(rng, size), randTensor(rng, size)
	got, err := runOp("LayerNormalization", 17, nil, 3, x, scale, bias)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 34, 35, 69} {
		row := tensor.FromFloat32(x.F32[i*size:(i+1)*size], 1, size)
		want, err := runOp("LayerNormalization", 17, nil, 3, row, scale, bias)
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range want[0].F32 {
			if g := got[0].F32[i*size+j]; math.Float32bits(g) != math.Float32bits(v) {
				t.Fatalf("row %d, element %d = %v, want %v", i, j, g, v)
			}
		}
		if got[1].F32[i] != want[1].F32[0] || got[2].F32[i] != want[2].F32[0] {
			t.Errorf("row %d: Mean, InvStdDev = %v, %v; want %v, %v", i, got[1].F32[i], got[2].F32[i], want[1].F32[0], want[2].F32[0])
		}
	}
}

// TestActivationRunIntoAllocs checks that the activations with a float32
// loop allocate nothing in RunInto once warm, alone and split across
// goroutines.
func TestActivationRunIntoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	rng := rand.New(rand.NewSource(3))
	for _, size := range []int{100, 5 * unaryBlock} {
		x := randTensor(rng, size)
		for _, op := range []string{"Elu", "Selu", "Celu", "Mish", "Softplus", "HardSwish", "Gelu"} {
			n := &onnx.Node{Name: "n", OpType: op, Inputs: []string{"x"}, Outputs: []string{"y"}}
			if op == "Gelu" {
				n.Attrs = []*onnx.Attribute{aString("approximate", "tanh")}
			}
			g := &onnx.Graph{Nodes: []*onnx.Node{n}, Inputs: []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32}}, Outputs: []*onnx.ValueInfo{{Name: "y"}}}
			s, err := NewSession(model(20, g))
			if err != nil {
				t.Fatal(err)
			}
			in := map[string]*tensor.Tensor{"x": x}
			out := map[string]*tensor.Tensor{"y": {}}
			if err := s.RunInto(in, out); err != nil {
				t.Fatal(err)
			}
			if n := testing.AllocsPerRun(20, func() { _ = s.RunInto(in, out) }); n != 0 {
				t.Errorf("%s on %d elements: RunInto allocates %v times per run, want 0", op, size, n)
			}
		}
	}
}

// TestSoftmaxParallel checks that Softmax and LogSoftmax over enough rows
// to split across goroutines give, bit for bit, each row's result when
// that row is computed alone.
func TestSoftmaxParallel(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	const rows, size = 64, 600
	x := randTensor(rng, rows, size)
	for i := range x.F32 {
		x.F32[i] *= 30
	}
	for _, op := range []string{"Softmax", "LogSoftmax"} {
		got, err := runOp(op, 13, nil, 1, x)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 31, 32, 63} {
			want, err := runOp(op, 13, nil, 1, tensor.FromFloat32(x.F32[i*size:(i+1)*size], 1, size))
			if err != nil {
				t.Fatal(err)
			}
			for j, v := range want[0].F32 {
				if g := got[0].F32[i*size+j]; math.Float32bits(g) != math.Float32bits(v) {
					t.Fatalf("%s: row %d, element %d = %v, want %v", op, i, j, g, v)
				}
			}
		}
	}
}

// TestGroupNormParallel checks that InstanceNormalization and
// GroupNormalization on an input large enough to split across goroutines
// give, bit for bit, each sample's result when that sample is normalized
// alone (one goroutine).
func TestGroupNormParallel(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	x := randTensor(rng, 2, 8, 64, 64)
	scale, bias := randTensor(rng, 8), randTensor(rng, 8)
	for _, c := range []struct {
		op    string
		opset int64
		attrs []*onnx.Attribute
	}{
		{"InstanceNormalization", 6, nil},
		{"GroupNormalization", 21, []*onnx.Attribute{aInt("num_groups", 2)}},
	} {
		got, err := runOp(c.op, c.opset, c.attrs, 1, x, scale, bias)
		if err != nil {
			t.Fatal(err)
		}
		per := x.Len() / 2
		for i := 0; i < 2; i++ {
			want, err := runOp(c.op, c.opset, c.attrs, 1, tensor.FromFloat32(x.F32[i*per:(i+1)*per], 1, 8, 64, 64), scale, bias)
			if err != nil {
				t.Fatal(err)
			}
			for j, v := range want[0].F32 {
				if g := got[0].F32[i*per+j]; math.Float32bits(g) != math.Float32bits(v) {
					t.Fatalf("%s: sample %d, element %d = %v, want %v", c.op, i, j, g, v)
				}
			}
		}
	}
}
