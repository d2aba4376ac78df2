package infer

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxkit/onnxkit/internal/onnxpb"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// FuzzLoadRun feeds arbitrary bytes through the whole loading path (decode,
// plan) and, when a model loads, runs it once on small inputs made from the
// declared input shapes, with Run and then RunInto. Any input must give a
// result or an error: never a panic, a hang, or an allocation out of
// proportion to the input.
//
// Seeds: the PyTorch LeNet5 (250 KB; the MLP and CNN exports are MB-sized
// and left out), onnx's small test models, hand-built models whose output
// sizes come from values (Expand, ConstantOfShape, Range, Tile, Reshape,
// Concat, Gemm on declared shapes), the LSTM, GRU and RNN nodes of
// testdata/rnn, the one-node models of testdata/torch (activations, math,
// reductions, normalizations), and, where the libonnx-testdata package is
// installed, the official node tests of those ops.
func FuzzLoadRun(f *testing.F) {
	for _, p := range []string{"../testdata/pytorch/lenet5/model.onnx", "../onnx/testdata/small.onnx", "../onnx/testdata/nested.onnx"} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, m := range fuzzModels() {
		data, err := onnx.Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	recurrent, _ := filepath.Glob("testdata/rnn/ort_*/model.onnx") // LSTM, GRU and RNN nodes
	torch, _ := filepath.Glob("testdata/torch/*/model.onnx")
	for _, p := range append(recurrent, torch...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, pat := range []string{"pad", "expand", "constantofshape", "range", "tile", "reshape", "concat", "gemm", "slice"} {
		seeds, _ := filepath.Glob("/usr/share/libonnx-testdata/data/node/test_" + pat + "*/model.onnx")
		for _, p := range seeds[:min(len(seeds), 4)] {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	maxElements = 1 << 20 // outputs sized by values: at most 4 MiB of float32
	opts := onnx.DecodeOptions{MaxTensorBytes: 1 << 24, MaxGraphDepth: 8}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := opts.Decode(data)
		if err != nil {
			return
		}
		s, err := NewSession(m)
		if err != nil {
			return
		}
		feeds := map[string]*tensor.Tensor{}
		for _, vi := range s.Inputs() {
			x := fuzzInput(vi)
			if x == nil {
				return
			}
			feeds[vi.Name] = x
		}
		if _, err := s.Run(feeds); err != nil {
			return // an error is fine; a panic fails the fuzz run
		}
		outs := map[string]*tensor.Tensor{}
		for _, vi := range s.Outputs() {
			outs[vi.Name] = &tensor.Tensor{}
		}
		if err := s.RunInto(feeds, outs); err != nil {
			t.Fatalf("Run succeeded, RunInto on the same inputs = %v", err)
		}
	})
}

// fuzzInput makes a small input for a declared graph input: symbolic or
// unknown dims are 1, and nothing larger than 64 Ki elements is made.
func fuzzInput(vi *onnx.ValueInfo) *tensor.Tensor {
	if vi.DType == tensor.Invalid || !vi.HasShape || len(vi.Shape) > 8 {
		return nil
	}
	shape := make([]int, len(vi.Shape))
	n := 1
	for i, d := range vi.Shape {
		shape[i] = 1
		if d.Value > 0 {
			if d.Value > 1<<16 {
				return nil
			}
			shape[i] = int(d.Value)
		}
		n *= shape[i]
		if n > 1<<16 {
			return nil
		}
	}
	x := tensor.New(vi.DType, shape...)
	for i := range x.Len() {
		switch x.DType {
		case tensor.Float32:
			x.F32[i] = float32(i%7) - 3
		case tensor.Int64:
			x.I64[i] = int64(i % 3)
		}
	}
	return x
}

// fuzzModels are tiny hand-built models whose output sizes come from tensor
// values or from the product of declared input sizes: the places where a
// few bytes of model could ask for gigabytes.
func fuzzModels() []*onnx.Model {
	f32 := func(name string, dims ...int64) *onnx.ValueInfo {
		vi := &onnx.ValueInfo{Name: name, DType: tensor.Float32, HasShape: true}
		for _, d := range dims {
			vi.Shape = append(vi.Shape, onnx.Dim{Value: d})
		}
		return vi
	}
	untyped := func(name string) *onnx.ValueInfo { return &onnx.ValueInfo{Name: name, DType: tensor.Float32} }
	i64 := func(name string, v ...int64) *onnx.Initializer {
		t := tensor.New(tensor.Int64, len(v))
		copy(t.I64, v)
		return &onnx.Initializer{Name: name, Tensor: t}
	}
	node := func(op string, in []string, out string, attrs ...*onnx.Attribute) *onnx.Node {
		return &onnx.Node{Name: op, OpType: op, Inputs: in, Outputs: []string{out}, Attrs: attrs}
	}
	model := func(g *onnx.Graph) *onnx.Model {
		g.Name = "fuzz"
		return &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: g}
	}
	return []*onnx.Model{
		// Expand [1,4] to a shape from an initializer.
		model(&onnx.Graph{
			Nodes:        []*onnx.Node{node("Expand", []string{"x", "shape"}, "y")},
			Initializers: []*onnx.Initializer{i64("shape", 3, 4)},
			Inputs:       []*onnx.ValueInfo{f32("x", 1, 4)},
			Outputs:      []*onnx.ValueInfo{untyped("y")},
		}),
		// ConstantOfShape, Range, Tile and Reshape, chained.
		model(&onnx.Graph{
			Nodes: []*onnx.Node{
				node("ConstantOfShape", []string{"shape"}, "c"),
				node("Add", []string{"c", "x"}, "s"),
				node("Tile", []string{"s", "reps"}, "t"),
				node("Reshape", []string{"t", "flat"}, "r"),
				node("Range", []string{"start", "limit", "delta"}, "y"),
			},
			Initializers: []*onnx.Initializer{
				i64("shape", 2, 3), i64("reps", 2, 2), i64("flat", -1),
				{Name: "start", Tensor: tensor.New(tensor.Int64)},
				{Name: "limit", Tensor: &tensor.Tensor{DType: tensor.Int64, I64: []int64{10}}},
				{Name: "delta", Tensor: &tensor.Tensor{DType: tensor.Int64, I64: []int64{3}}},
			},
			Inputs:  []*onnx.ValueInfo{f32("x", 2, 3)},
			Outputs: []*onnx.ValueInfo{untyped("r"), {Name: "y", DType: tensor.Int64}},
		}),
		// Concat doubling its input several times.
		model(&onnx.Graph{
			Nodes: []*onnx.Node{
				node("Concat", []string{"x", "x"}, "a", &onnx.Attribute{Name: "axis", Type: onnx.AttrInt}),
				node("Concat", []string{"a", "a"}, "b", &onnx.Attribute{Name: "axis", Type: onnx.AttrInt}),
				node("Concat", []string{"b", "b"}, "y", &onnx.Attribute{Name: "axis", Type: onnx.AttrInt}),
			},
			Inputs:  []*onnx.ValueInfo{f32("x", 2, 2)},
			Outputs: []*onnx.ValueInfo{untyped("y")},
		}),
		// Gemm: [m,1] x [1,n] is m*n elements from m+n input elements.
		model(&onnx.Graph{
			Nodes:   []*onnx.Node{node("Gemm", []string{"a", "b"}, "y")},
			Inputs:  []*onnx.ValueInfo{f32("a", 4, 1), f32("b", 1, 5)},
			Outputs: []*onnx.ValueInfo{untyped("y")},
		}),
	}
}

// TestLoadHugeTensor checks that Load rejects a model file whose
// initializer claims 10^12 float32 elements (4 TB) over 64 bytes of data,
// naming the file and the tensor, without allocating anything near that.
func TestLoadHugeTensor(t *testing.T) {
	mp := &onnxpb.ModelProto{
		IrVersion:   8,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: 13}},
		Graph: &onnxpb.GraphProto{
			Name: "huge",
			Initializer: []*onnxpb.TensorProto{{Name: "w", DataType: 1,
				Dims: []int64{1000000, 1000000}, RawData: make([]byte, 64)}},
			Output: []*onnxpb.ValueInfoProto{{Name: "w"}},
		},
	}
	data, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "huge.onnx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := Load(path)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatalf("Load(10^12-element initializer) = %v, want an error", s)
	}
	for _, want := range []string{"huge.onnx", `"w"`, "1000000000000 elements"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Load(10^12-element initializer) = %v, want mention of %s", err, want)
		}
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("Load(10^12-element initializer) allocated %d bytes, want under 1 MiB", n)
	}
}

// TestRunOutputCap checks that outputs whose size is the product of input
// sizes (Gemm of [m,1] and [1,n]) or comes from values (Expand) are refused
// past maxElements instead of being allocated: a 4 KB model with 64 Ki
// element inputs must not ask for 2^32 elements.
func TestRunOutputCap(t *testing.T) {
	defer func(n int) { maxElements = n }(maxElements)
	maxElements = 1 << 20
	f32 := func(name string, dims ...int64) *onnx.ValueInfo {
		vi := &onnx.ValueInfo{Name: name, DType: tensor.Float32, HasShape: true}
		for _, d := range dims {
			vi.Shape = append(vi.Shape, onnx.Dim{Value: d})
		}
		return vi
	}
	shape := tensor.New(tensor.Int64, 2)
	shape.I64[0], shape.I64[1] = 1<<16, 1<<16
	for _, tc := range []struct {
		name string
		g    *onnx.Graph
	}{
		{"Gemm", &onnx.Graph{
			Nodes:   []*onnx.Node{{Name: "g", OpType: "Gemm", Inputs: []string{"a", "b"}, Outputs: []string{"y"}}},
			Inputs:  []*onnx.ValueInfo{f32("a", 1<<16, 1), f32("b", 1, 1<<16)},
			Outputs: []*onnx.ValueInfo{{Name: "y"}},
		}},
		{"MatMul", &onnx.Graph{
			Nodes:   []*onnx.Node{{Name: "g", OpType: "MatMul", Inputs: []string{"a", "b"}, Outputs: []string{"y"}}},
			Inputs:  []*onnx.ValueInfo{f32("a", 1<<16, 1), f32("b", 1, 1<<16)},
			Outputs: []*onnx.ValueInfo{{Name: "y"}},
		}},
		{"Expand", &onnx.Graph{
			Nodes:        []*onnx.Node{{Name: "g", OpType: "Expand", Inputs: []string{"a", "shape"}, Outputs: []string{"y"}}},
			Initializers: []*onnx.Initializer{{Name: "shape", Tensor: shape}},
			Inputs:       []*onnx.ValueInfo{f32("a", 1, 1)},
			Outputs:      []*onnx.ValueInfo{{Name: "y"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.g.Name = "cap"
			m := &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: 13}}, Graph: tc.g}
			s, err := NewSession(m)
			if err != nil {
				t.Fatal(err)
			}
			feeds := map[string]*tensor.Tensor{}
			for _, vi := range s.Inputs() {
				feeds[vi.Name] = fuzzInput(vi)
			}
			_, err = s.Run(feeds)
			if err == nil || !strings.Contains(err.Error(), "elements") || !strings.Contains(err.Error(), `node "g"`) {
				t.Errorf("Run = %v, want an error naming node \"g\" and the element limit", err)
			}
		})
	}
}
