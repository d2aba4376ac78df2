package infer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestRecurrentReferences runs the cases of testdata/rnn, made by
// scripts/make_rnn_reference.py, at rtol 1e-4, atol 1e-5. Expected outputs:
//   - lstm2_*, gru_bidirectional_*, rnn_relu_*: torch.onnx.export of
//     torch.nn.LSTM (2 layers, batch_first), a bidirectional torch.nn.GRU
//     and a ReLU torch.nn.RNN at opsets 11 and 14, with PyTorch's outputs
//     for two inputs of different batch and sequence sizes;
//   - stacked_lstm_gru_opset17: an export of Linear, a 2-layer
//     bidirectional LSTM, a GRU and Linear with dynamic axes and no
//     initial states (the exporter builds them from the input's shape);
//   - *_sequence_lens: one LSTM, GRU or RNN node (layout 0 and 1) with
//     the weights of a torch module and the outputs of that module on a
//     packed sequence of the same lengths (the layout-0 LSTM also matches
//     onnxruntime: scripts/ort_run.js);
//   - ort_*: nodes with the other activations, activation_alpha/beta,
//     clip, peepholes, input_forget, reverse, zero lengths, absent
//     optional inputs and outputs and opset 7, with onnxruntime's outputs.
func TestRecurrentReferences(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "rnn", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 19 {
		t.Fatalf("found %d cases under testdata/rnn, want 19", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m, err := onnx.ReadFile(filepath.Join(dir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			recurrent := 0
			for _, n := range m.Graph.Nodes {
				switch n.OpType {
				case "LSTM", "GRU", "RNN":
					recurrent++
				}
			}
			if recurrent == 0 {
				t.Fatal("model has no LSTM, GRU or RNN node")
			}
			runNodeCaseTol(t, dir, 1e-4, 1e-5)
		})
	}
}

// recurrentNodeTests are the official ONNX node test cases of LSTM, GRU
// and RNN (their expected outputs come from ONNX's reference code).
var recurrentNodeTests = []string{
	"test_gru_batchwise", "test_gru_defaults", "test_gru_seq_length", "test_gru_with_initial_bias",
	"test_lstm_batchwise", "test_lstm_defaults", "test_lstm_with_initial_bias", "test_lstm_with_peepholes",
	"test_rnn_seq_length", "test_simple_rnn_batchwise", "test_simple_rnn_defaults",
	"test_simple_rnn_with_initial_bias",
}

func TestRecurrentNodeCases(t *testing.T) {
	ran := 0
	for i, root := range nodeTestDirs {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			for _, name := range recurrentNodeTests {
				dir := filepath.Join(root, name)
				if _, err := os.Stat(dir); err != nil {
					continue
				}
				ran++
				t.Run(strings.TrimPrefix(name, "test_"), func(t *testing.T) { runNodeCase(t, dir) })
			}
		})
	}
	if ran == 0 {
		t.Skip("ONNX node test cases not installed")
	}
}

func rnnStr(name, v string) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: []byte(v)}
}

func rnnStrs(name string, v ...string) *onnx.Attribute {
	a := &onnx.Attribute{Name: name, Type: onnx.AttrStrings}
	for _, s := range v {
		a.Strings = append(a.Strings, []byte(s))
	}
	return a
}

func rnnFloats(name string, v ...float32) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrFloats, Floats: v}
}

// TestRecurrentLoadErrors checks that malformed or unsupported attributes
// are refused at load with the node named.
func TestRecurrentLoadErrors(t *testing.T) {
	tests := []struct {
		name, op    string
		opset       int64
		attrs       []*onnx.Attribute
		nin, nout   int
		want        string
		unsupported bool
	}{
		{"direction", "LSTM", 14, []*onnx.Attribute{rnnStr("direction", "sideways")}, 3, 1, `attribute "direction": want forward, reverse or bidirectional, got "sideways"`, false},
		{"hidden_size zero", "GRU", 14, []*onnx.Attribute{ewInt("hidden_size", 0)}, 3, 1, `attribute "hidden_size": want a positive value, got 0`, false},
		{"hidden_size huge", "RNN", 14, []*onnx.Attribute{ewInt("hidden_size", 1<<40)}, 3, 1, `attribute "hidden_size"`, false},
		{"clip", "RNN", 14, []*onnx.Attribute{ewFloat("clip", -1)}, 3, 1, `attribute "clip": want a positive threshold`, false},
		{"layout value", "LSTM", 14, []*onnx.Attribute{ewInt("layout", 2)}, 3, 1, `attribute "layout": want 0 or 1, got 2`, false},
		{"layout before 14", "LSTM", 13, []*onnx.Attribute{ewInt("layout", 1)}, 3, 1, `attribute "layout" is not defined before opset 14`, false},
		{"unknown activation", "GRU", 14, []*onnx.Attribute{rnnStrs("activations", "Sigmoid", "Swish")}, 3, 1, `function "Swish"`, true},
		{"activation count", "LSTM", 14, []*onnx.Attribute{rnnStrs("activations", "Sigmoid", "Tanh")}, 3, 1, `attribute "activations": want 3 functions, got 2`, false},
		{"activation count bidirectional", "GRU", 14, []*onnx.Attribute{rnnStr("direction", "bidirectional"), rnnStrs("activations", "Sigmoid", "Tanh", "Tanh")}, 3, 1, `want 4 functions, got 3`, false},
		{"activations type", "RNN", 14, []*onnx.Attribute{ewInts("activations", 1)}, 3, 1, `attribute "activations": want type`, false},
		{"extra alpha", "RNN", 14, []*onnx.Attribute{rnnStrs("activations", "Tanh"), rnnFloats("activation_alpha", 0.5)}, 3, 1, `1 and 0 values more than the activations take`, false},
		{"input_forget on GRU", "GRU", 14, []*onnx.Attribute{ewInt("input_forget", 1)}, 3, 1, `attribute "input_forget": not an attribute of GRU`, false},
		{"input_forget value", "LSTM", 14, []*onnx.Attribute{ewInt("input_forget", 3)}, 3, 1, `attribute "input_forget": want 0 or 1, got 3`, false},
		{"linear_before_reset on LSTM", "LSTM", 14, []*onnx.Attribute{ewInt("linear_before_reset", 1)}, 3, 1, `not an attribute of LSTM`, false},
		{"too many inputs", "RNN", 14, nil, 7, 1, `want 3 to 6 inputs, got 7`, false},
		{"too few inputs", "LSTM", 7, nil, 2, 1, `want 3 to 8 inputs, got 2`, false},
		{"too many outputs", "GRU", 14, nil, 3, 3, `want 1 to 2 outputs, got 3`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &onnx.Node{Name: "r", OpType: tt.op, Attrs: tt.attrs}
			for i := range tt.nin {
				n.Inputs = append(n.Inputs, "x"+strconv.Itoa(i))
			}
			for i := range tt.nout {
				n.Outputs = append(n.Outputs, "y"+strconv.Itoa(i))
			}
			b := lookup(tt.op, tt.opset)
			if b == nil {
				t.Fatalf("%s-%d is not registered", tt.op, tt.opset)
			}
			_, err := b(n, tt.opset)
			prefix := `node "r" (` + tt.op + `): `
			if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("build(%s) = %v, want an error starting %q containing %q", tt.name, err, prefix, tt.want)
			}
			var ue *unsupportedError
			if errors.As(err, &ue) != tt.unsupported {
				t.Errorf("build(%s) = %v: unsupported %v, want %v", tt.name, err, !tt.unsupported, tt.unsupported)
			}
		})
	}
}

// TestRecurrentRunErrors checks that inputs inconsistent with each other
// or the attributes fail with an error naming the node and the input,
// before anything sized by them is allocated.
func TestRecurrentRunErrors(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
	i32 := func(v ...int64) *tensor.Tensor {
		t := tensor.New(tensor.Int32, len(v))
		for i, x := range v {
			t.I32[i] = int32(x)
		}
		return t
	}
	h2 := []*onnx.Attribute{ewInt("hidden_size", 2)}
	// A valid LSTM: seq 3, batch 1, input 4, hidden 2.
	x, w, r := f(3, 1, 4), f(1, 8, 4), f(1, 8, 2)
	tests := []struct {
		name  string
		op    string
		attrs []*onnx.Attribute
		ins   []*tensor.Tensor
		want  string
	}{
		{"X rank", "LSTM", h2, []*tensor.Tensor{f(3, 4), w, r}, "input X: want rank 3"},
		{"X dtype", "LSTM", h2, []*tensor.Tensor{tensor.New(tensor.Float64, 3, 1, 4), w, r}, "input X: want float32"},
		{"W input size", "LSTM", h2, []*tensor.Tensor{x, f(1, 8, 5), r}, "input W: want [1, 8, 4], got"},
		{"R gates", "LSTM", h2, []*tensor.Tensor{x, w, f(1, 6, 2)}, "input R: want [1, 4*hidden_size, hidden_size]"},
		{"R directions", "LSTM", []*onnx.Attribute{rnnStr("direction", "bidirectional")}, []*tensor.Tensor{x, w, r}, "input R: want [2, 4*hidden_size"},
		{"hidden_size", "LSTM", []*onnx.Attribute{ewInt("hidden_size", 1<<30)}, []*tensor.Tensor{x, w, r}, "does not match hidden_size 1073741824"},
		{"B", "LSTM", h2, []*tensor.Tensor{x, w, r, f(1, 8)}, "input B: want [1, 16]"},
		{"sequence_lens length", "LSTM", h2, []*tensor.Tensor{x, w, r, nil, i32(3, 3)}, "input sequence_lens: want [1]"},
		{"sequence_lens too long", "LSTM", h2, []*tensor.Tensor{x, w, r, nil, i32(4)}, "input sequence_lens: entry 0 is 4, want 0 to 3"},
		{"sequence_lens negative", "GRU", h2, []*tensor.Tensor{x, f(1, 6, 4), f(1, 6, 2), nil, i32(-1)}, "entry 0 is -1"},
		{"sequence_lens dtype", "RNN", h2, []*tensor.Tensor{x, f(1, 2, 4), f(1, 2, 2), nil, f(1)}, "input sequence_lens: want int32"},
		{"initial_h", "LSTM", h2, []*tensor.Tensor{x, w, r, nil, nil, f(1, 2, 2)}, "input initial_h: want [1 1 2]"},
		{"initial_h layout 1", "GRU", []*onnx.Attribute{ewInt("layout", 1)}, []*tensor.Tensor{x, f(1, 6, 4), f(1, 6, 2), nil, nil, f(1, 1, 2)}, "input initial_h: want [3 1 2]"},
		{"initial_c", "LSTM", h2, []*tensor.Tensor{x, w, r, nil, nil, nil, f(1, 1, 3)}, "input initial_c"},
		{"P", "LSTM", h2, []*tensor.Tensor{x, w, r, nil, nil, nil, nil, f(1, 8)}, "input P: want [1, 6]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runOp(tt.op, 14, tt.attrs, 2, tt.ins...)
			prefix := `node "n" (` + tt.op + `): `
			if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s error = %v, want one starting %q containing %q", tt.name, err, prefix, tt.want)
			}
		})
	}
}

// TestRecurrentEmpty runs sizes of zero: outputs of the right (empty)
// shapes, and with no steps Y_h is initial_h (no step changes the state).
func TestRecurrentEmpty(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
	h0 := tensor.FromFloat32([]float32{1, 2}, 1, 1, 2)
	tests := []struct {
		name        string
		ins         []*tensor.Tensor
		wantY, wanH []int
	}{
		{"no steps", []*tensor.Tensor{f(0, 1, 3), f(1, 8, 3), f(1, 8, 2), nil, nil, h0}, []int{0, 1, 1, 2}, []int{1, 1, 2}},
		{"no batch", []*tensor.Tensor{f(2, 0, 3), f(1, 8, 3), f(1, 8, 2)}, []int{2, 1, 0, 2}, []int{1, 0, 2}},
		{"no input features", []*tensor.Tensor{f(2, 1, 0), f(1, 8, 0), f(1, 8, 2)}, []int{2, 1, 1, 2}, []int{1, 1, 2}},
		{"no hidden units", []*tensor.Tensor{f(2, 1, 3), f(1, 0, 3), f(1, 0, 0)}, []int{2, 1, 1, 0}, []int{1, 1, 0}},
		{"no hidden units, 2^30 empty steps", []*tensor.Tensor{f(1<<20, 1<<10, 0), f(1, 0, 0), f(1, 0, 0)}, []int{1 << 20, 1, 1 << 10, 0}, []int{1, 1 << 10, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runOp("LSTM", 14, nil, 3, tt.ins...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out[0].Shape, tt.wantY) || !slices.Equal(out[1].Shape, tt.wanH) || !slices.Equal(out[2].Shape, tt.wanH) {
				t.Errorf("LSTM(%s) = %v, %v, %v, want shapes %v, %v, %v", tt.name, out[0], out[1], out[2], tt.wantY, tt.wanH, tt.wanH)
			}
		})
	}
	out, err := runOp("LSTM", 14, nil, 2, f(0, 1, 3), f(1, 8, 3), f(1, 8, 2), nil, nil, h0)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "LSTM Y_h after no steps", out[1], h0, 0)

	// 2^30 steps of an empty input with 2 hidden units: Y would hold 2^31
	// elements.
	_, err = runOp("LSTM", 14, nil, 1, f(1<<20, 1<<10, 0), f(1, 8, 0), f(1, 8, 2))
	if err == nil || !strings.Contains(err.Error(), "output would hold more than") {
		t.Errorf("LSTM over 2^30 empty steps = %v, want the output size refused", err)
	}
}

// A node may leave out every output (all are optional).
func TestRecurrentNoOutputs(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
	n := &onnx.Node{Name: "n", OpType: "GRU", Inputs: []string{"x", "w", "r"}}
	o, err := buildGRU(n, 14)
	if err != nil {
		t.Fatalf("GRU without outputs: %v", err)
	}
	if err := o.run(&scratch{}, []*tensor.Tensor{f(2, 1, 3), f(1, 6, 3), f(1, 6, 2)}, nil); err != nil {
		t.Errorf("GRU without outputs: run: %v", err)
	}
}

// TestRecurrentNoAllocs checks that a warm LSTM run allocates nothing, with
// every optional input (the first testdata case's sizes do not matter).
func TestRecurrentNoAllocs(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor {
		t := tensor.New(tensor.Float32, shape...)
		for i := range t.F32 {
			t.F32[i] = float32(i%7) * 0.1
		}
		return t
	}
	lens := tensor.New(tensor.Int32, 2)
	lens.I32[0], lens.I32[1] = 3, 1
	for _, dir := range []string{"forward", "bidirectional"} {
		d := 1
		if dir == "bidirectional" {
			d = 2
		}
		n := &onnx.Node{Name: "n", OpType: "LSTM", Attrs: []*onnx.Attribute{rnnStr("direction", dir), ewInt("hidden_size", 4)},
			Inputs: []string{"x", "w", "r", "b", "l", "h", "c", "p"}, Outputs: []string{"y", "yh", "yc"}}
		o, err := buildLSTM(n, 14)
		if err != nil {
			t.Fatal(err)
		}
		in := []*tensor.Tensor{f(3, 2, 5), f(d, 16, 5), f(d, 16, 4), f(d, 32), lens, f(d, 2, 4), f(d, 2, 4), f(d, 12)}
		sc, out := &scratch{}, []*tensor.Tensor{{}, {}, {}}
		if err := o.run(sc, in, out); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(10, func() {
			if err := o.run(sc, in, out); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("LSTM %s: %v allocations per run, want 0", dir, allocs)
		}
	}
}

// benchRecurrent times one node of op over seq 32, batch 8, input 64,
// hidden 128, with the weights as initializers (as in an export).
func benchRecurrent(b *testing.B, op, dir string) {
	gates := map[string]int{"RNN": 1, "GRU": 3, "LSTM": 4}[op]
	d := 1
	if dir == "bidirectional" {
		d = 2
	}
	const seq, batch, input, hidden = 32, 8, 64, 128
	rnd := func(shape ...int) *tensor.Tensor {
		t := tensor.New(tensor.Float32, shape...)
		for i := range t.F32 {
			t.F32[i] = float32((i*7919)%201-100) / 1000
		}
		return t
	}
	n := &onnx.Node{Name: "n", OpType: op, Inputs: []string{"x", "w", "r", "b"}, Outputs: []string{"y", "yh"},
		Attrs: []*onnx.Attribute{ewInt("hidden_size", hidden), rnnStr("direction", dir)}}
	g := &onnx.Graph{Nodes: []*onnx.Node{n},
		Inputs:  []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32}},
		Outputs: []*onnx.ValueInfo{{Name: "y"}, {Name: "yh"}},
		Initializers: []*onnx.Initializer{
			{Name: "w", Tensor: rnd(d, gates*hidden, input)},
			{Name: "r", Tensor: rnd(d, gates*hidden, hidden)},
			{Name: "b", Tensor: rnd(d, 2*gates*hidden)},
		}}
	s, err := NewSession(model(14, g))
	if err != nil {
		b.Fatal(err)
	}
	feeds := map[string]*tensor.Tensor{"x": rnd(seq, batch, input)}
	outs := map[string]*tensor.Tensor{"y": {}, "yh": {}}
	b.ResetTimer()
	for range b.N {
		if err := s.RunInto(feeds, outs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLSTM(b *testing.B)             { benchRecurrent(b, "LSTM", "forward") }
func BenchmarkGRUBidirectional(b *testing.B) { benchRecurrent(b, "GRU", "bidirectional") }
func BenchmarkRNN(b *testing.B)              { benchRecurrent(b, "RNN", "forward") }

// TestRecurrentBidirectionalSplit checks that a bidirectional LSTM large
// enough for its directions to run in parallel gives, bit for bit, what a
// forward and a reverse node with each direction's weights give.
func TestRecurrentBidirectionalSplit(t *testing.T) {
	const seq, batch, input, hidden = 20, 8, 16, 32
	rnd := func(seed int, shape ...int) *tensor.Tensor {
		t := tensor.New(tensor.Float32, shape...)
		for i := range t.F32 {
			t.F32[i] = float32((i*7919+seed*104729)%201-100) / 400
		}
		return t
	}
	half := func(t *tensor.Tensor, d int) *tensor.Tensor {
		n := t.Len() / 2
		shape := append([]int{1}, t.Shape[1:]...)
		return tensor.FromFloat32(t.F32[d*n:(d+1)*n], shape...)
	}
	x, w, r, b := rnd(1, seq, batch, input), rnd(2, 2, 4*hidden, input), rnd(3, 2, 4*hidden, hidden), rnd(4, 2, 8*hidden)
	h0, c0, p := rnd(5, 2, batch, hidden), rnd(6, 2, batch, hidden), rnd(7, 2, 3*hidden)
	both, err := runOp("LSTM", 14, []*onnx.Attribute{rnnStr("direction", "bidirectional")}, 3, x, w, r, b, nil, h0, c0, p)
	if err != nil {
		t.Fatal(err)
	}
	for d, dir := range []string{"forward", "reverse"} {
		one, err := runOp("LSTM", 14, []*onnx.Attribute{rnnStr("direction", dir)}, 3,
			x, half(w, d), half(r, d), half(b, d), nil, half(h0, d), half(c0, d), half(p, d))
		if err != nil {
			t.Fatal(err)
		}
		for step := range seq {
			n := batch * hidden
			got := tensor.FromFloat32(both[0].F32[(step*2+d)*n:(step*2+d+1)*n], n)
			want := tensor.FromFloat32(one[0].F32[step*n:(step+1)*n], n)
			checkClose(t, dir+": Y step "+strconv.Itoa(step), got, want, 0)
		}
		for k := 1; k < 3; k++ {
			checkClose(t, dir+": output "+strconv.Itoa(k), half(both[k], d), one[k], 0)
		}
	}
}

// TestRecurrentNoPanic runs LSTM, GRU and RNN on random picks of odd
// inputs (empty, scalar, wrong ranks and types, sizes that almost fit, out
// of range sequence lengths) and checks that each run either succeeds with
// valid outputs or fails naming the node - never panics.
func TestRecurrentNoPanic(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor {
		t := tensor.New(tensor.Float32, shape...)
		for i := range t.F32 {
			t.F32[i] = float32(i%5) - 2
		}
		return t
	}
	i32 := func(v ...int32) *tensor.Tensor {
		t := tensor.New(tensor.Int32, len(v))
		copy(t.I32, v)
		return t
	}
	// X, W and R from shapes that fit some of the others; the optional
	// inputs from everything.
	xs := []*tensor.Tensor{f(2, 1, 3), f(1, 2, 3), f(0, 1, 3), f(2, 0, 3), f(3, 2, 3), f(), f(2, 3)}
	ws := []*tensor.Tensor{f(1, 1, 3), f(1, 2, 3), f(1, 3, 3), f(1, 4, 3), f(1, 6, 3), f(1, 8, 3), f(2, 8, 3), f(2, 4, 3), f(1, 8, 2)}
	rs := []*tensor.Tensor{f(1, 1, 1), f(1, 2, 2), f(1, 3, 1), f(1, 4, 1), f(1, 6, 2), f(1, 8, 2), f(2, 8, 2), f(2, 4, 1), f(1, 0, 0)}
	pool := []*tensor.Tensor{
		nil, nil, nil, nil, nil, nil, f(), f(0), f(1, 2), f(1, 4), f(1, 6), f(1, 8), f(1, 12), f(1, 16), f(2, 8), f(2, 16),
		f(1, 3), f(1, 6), f(1, 1, 1), f(1, 1, 2), f(2, 1, 2), f(1, 2, 2), f(2, 1, 1), i32(2), i32(3), i32(0), i32(-1), i32(1, 1),
		tensor.New(tensor.Float64, 2, 1, 3), tensor.New(tensor.Int64, 1),
	}
	attrSets := [][]*onnx.Attribute{
		nil,
		{ewInt("hidden_size", 2)},
		{ewInt("hidden_size", 1), rnnStr("direction", "bidirectional")},
		{ewInt("layout", 1), rnnStr("direction", "reverse"), ewFloat("clip", 1)},
	}
	state := uint64(1)
	pick := func(n int) int { // xorshift: a fixed, reproducible sequence
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		return int(state % uint64(n))
	}
	runs, ok := 0, 0
	for _, op := range []string{"LSTM", "GRU", "RNN"} {
		nin := map[string]int{"LSTM": 8, "GRU": 6, "RNN": 6}[op]
		for _, attrs := range attrSets {
			for range 1000 {
				ins := make([]*tensor.Tensor, 3+pick(nin-2))
				ins[0], ins[1], ins[2] = xs[pick(len(xs))], ws[pick(len(ws))], rs[pick(len(rs))]
				for i := 3; i < len(ins); i++ {
					ins[i] = pool[pick(len(pool))]
				}
				nout := 1 + pick(map[string]int{"LSTM": 3, "GRU": 2, "RNN": 2}[op])
				runs++
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("%s %v on %v: panic: %v", op, attrs, ins, r)
						}
					}()
					out, err := runOp(op, 14, attrs, nout, ins...)
					if err != nil {
						if !strings.HasPrefix(err.Error(), `node "n" (`+op+`)`) {
							t.Errorf("%s on %v: error %q does not name the node", op, ins, err)
						}
						return
					}
					ok++
					for i, o := range out {
						if !o.Valid() {
							t.Errorf("%s on %v: output %d is %v", op, ins, i, o)
						}
					}
				}()
			}
		}
	}
	if ok == 0 {
		t.Errorf("none of %d runs succeeded: the pool exercises only errors", runs)
	}
	t.Logf("%d runs, %d succeeded", runs, ok)
}
