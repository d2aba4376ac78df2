package infer

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Test helpers for building models in Go.

func aInts(name string, v ...int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
}
func aInt(name string, v int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInt, I: v}
}
func aFloat(name string, v float32) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrFloat, F: v}
}
func aString(name, v string) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: []byte(v)}
}

// model returns a model importing the given default-domain opset.
func model(opset int64, g *onnx.Graph) *onnx.Model {
	return &onnx.Model{IRVersion: 8, OpsetImports: []onnx.OpsetImport{{Version: opset}}, Graph: g}
}

// runOp runs one node of the given op type on ins (nil: absent input) fed as
// graph inputs without declared shapes, and returns its nout outputs.
func runOp(opType string, opset int64, attrs []*onnx.Attribute, nout int, ins ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	return runOpConst(len(ins), opType, opset, attrs, nout, ins...)
}

// runOpConst is runOp with the inputs from index constFrom on given as
// initializers: constants, as a model's weights are.
func runOpConst(constFrom int, opType string, opset int64, attrs []*onnx.Attribute, nout int, ins ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	n := &onnx.Node{Name: "n", OpType: opType, Attrs: attrs}
	g := &onnx.Graph{Nodes: []*onnx.Node{n}}
	feeds := make(map[string]*tensor.Tensor)
	for i, t := range ins {
		if t == nil {
			n.Inputs = append(n.Inputs, "")
			continue
		}
		name := fmt.Sprintf("x%d", i)
		n.Inputs = append(n.Inputs, name)
		if i >= constFrom {
			g.Initializers = append(g.Initializers, &onnx.Initializer{Name: name, Tensor: t})
			continue
		}
		g.Inputs = append(g.Inputs, &onnx.ValueInfo{Name: name, DType: t.DType})
		feeds[name] = t
	}
	for i := 0; i < nout; i++ {
		name := fmt.Sprintf("y%d", i)
		n.Outputs = append(n.Outputs, name)
		g.Outputs = append(g.Outputs, &onnx.ValueInfo{Name: name})
	}
	s, err := NewSession(model(opset, g))
	if err != nil {
		return nil, err
	}
	res, err := s.Run(feeds)
	if err != nil {
		return nil, err
	}
	outs := make([]*tensor.Tensor, nout)
	for i := range outs {
		outs[i] = res[fmt.Sprintf("y%d", i)]
	}
	return outs, nil
}

// randTensor returns a float32 tensor of values in [-1, 1).
func randTensor(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32 {
		t.F32[i] = rng.Float32()*2 - 1
	}
	return t
}

// checkClose fails t unless got has want's shape and values within tol.
func checkClose(t *testing.T, what string, got *tensor.Tensor, want *tensor.Tensor, tol float64) {
	t.Helper()
	if msg := compareTensors(got, want, tol, tol); msg != "" {
		t.Errorf("%s: %s", what, msg)
	}
}

func dims(v ...any) []onnx.Dim {
	var ds []onnx.Dim
	for _, x := range v {
		switch x := x.(type) {
		case int:
			ds = append(ds, onnx.Dim{Value: int64(x)})
		case string:
			ds = append(ds, onnx.Dim{Value: -1, Param: x})
		}
	}
	return ds
}

// smallCNN is Conv(3x3, pad 1, bias) -> BatchNormalization -> MaxPool(2) ->
// GlobalAveragePool -> Pad, on input "input" float32[N x 1 x 28 x 28].
func smallCNN(rng *rand.Rand) *onnx.Model {
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{{Name: "input", DType: tensor.Float32, ElemType: 1, HasShape: true, Shape: dims("N", 1, 28, 28)}},
		Outputs: []*onnx.ValueInfo{{Name: "out", DType: tensor.Float32}},
		Initializers: []*onnx.Initializer{
			{Name: "w", Tensor: randTensor(rng, 4, 1, 3, 3)},
			{Name: "b", Tensor: randTensor(rng, 4)},
			{Name: "scale", Tensor: randTensor(rng, 4)},
			{Name: "bias", Tensor: randTensor(rng, 4)},
			{Name: "mean", Tensor: randTensor(rng, 4)},
			{Name: "var", Tensor: tensor.FromFloat32([]float32{1, 2, 3, 4}, 4)},
			{Name: "pads", Tensor: tensor.FromInt64([]int64{0, 1, 0, 0, 0, 0, 0, 0}, 8)},
		},
		Nodes: []*onnx.Node{
			{Name: "/conv/Conv", OpType: "Conv", Inputs: []string{"input", "w", "b"}, Outputs: []string{"c"}, Attrs: []*onnx.Attribute{aInts("pads", 1, 1, 1, 1)}},
			{Name: "/bn/BatchNormalization", OpType: "BatchNormalization", Inputs: []string{"c", "scale", "bias", "mean", "var"}, Outputs: []string{"bn"}},
			{Name: "/pool/MaxPool", OpType: "MaxPool", Inputs: []string{"bn"}, Outputs: []string{"p"}, Attrs: []*onnx.Attribute{aInts("kernel_shape", 2, 2), aInts("strides", 2, 2)}},
			{Name: "/gap/GlobalAveragePool", OpType: "GlobalAveragePool", Inputs: []string{"p"}, Outputs: []string{"gap"}},
			{Name: "/pad/Pad", OpType: "Pad", Inputs: []string{"gap", "pads"}, Outputs: []string{"out"}},
		},
	}
	return model(13, g)
}

func TestSessionSmallCNN(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	s, err := NewSession(smallCNN(rng))
	if err != nil {
		t.Fatal(err)
	}
	x := randTensor(rng, 3, 1, 28, 28)
	res, err := s.Run(map[string]*tensor.Tensor{"input": x})
	if err != nil {
		t.Fatal(err)
	}
	// Shape: Conv keeps 28x28, MaxPool halves it, GlobalAveragePool makes
	// it 1x1, Pad adds one channel in front.
	if got := res["out"]; tensor.ShapeString(got.Shape) != "3x5x1x1" || got.F32[0] != 0 || got.F32[5] != 0 {
		t.Errorf("Run: out = %v %v, want float32[3x5x1x1] with zero channel 0", got, got.F32)
	}
	if got, want := len(s.Inputs()), 1; got != want {
		t.Errorf("len(Inputs()) = %d, want %d", got, want)
	}
	if got := s.Outputs(); len(got) != 1 || got[0].Name != "out" {
		t.Errorf("Outputs() = %v, want [out]", got)
	}
}

func TestRunIntoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	rng := rand.New(rand.NewSource(2))
	s, err := NewSession(smallCNN(rng))
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]*tensor.Tensor{"input": randTensor(rng, 1, 1, 28, 28)}
	out := map[string]*tensor.Tensor{"out": {}}
	if err := s.RunInto(in, out); err != nil {
		t.Fatal(err)
	}
	want, err := s.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "RunInto", out["out"], want["out"], 0)
	allocs := testing.AllocsPerRun(20, func() {
		if err := s.RunInto(in, out); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("RunInto: %v allocations per run, want 0", allocs)
	}
}

func TestRunConcurrent(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	s, err := NewSession(smallCNN(rng))
	if err != nil {
		t.Fatal(err)
	}
	const workers = 6
	inputs := make([]*tensor.Tensor, workers)
	wants := make([]*tensor.Tensor, workers)
	for i := range inputs {
		inputs[i] = randTensor(rng, 1+i%3, 1, 28, 28)
		res, err := s.Run(map[string]*tensor.Tensor{"input": inputs[i]})
		if err != nil {
			t.Fatal(err)
		}
		wants[i] = res["out"]
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := map[string]*tensor.Tensor{"out": {}}
			for r := 0; r < 5; r++ {
				if err := s.RunInto(map[string]*tensor.Tensor{"input": inputs[w]}, out); err != nil {
					errs[w] = err
					return
				}
				if msg := compareTensors(out["out"], wants[w], 0, 0); msg != "" {
					errs[w] = errors.New(msg)
					return
				}
			}
		}()
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", w, err)
		}
	}
}

func TestSessionInputErrors(t *testing.T) {
	s, err := NewSession(smallCNN(rand.New(rand.NewSource(4))))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		inputs map[string]*tensor.Tensor
		want   string
	}{
		{"rank", map[string]*tensor.Tensor{"input": tensor.New(tensor.Float32, 1, 28, 28)},
			`infer: input "input": want float32[N x 1 x 28 x 28], got float32[1x28x28]`},
		{"dim", map[string]*tensor.Tensor{"input": tensor.New(tensor.Float32, 1, 2, 28, 28)},
			`infer: input "input": want float32[N x 1 x 28 x 28], got float32[1x2x28x28]`},
		{"dtype", map[string]*tensor.Tensor{"input": tensor.New(tensor.Float64, 1, 1, 28, 28)},
			`infer: input "input": want float32[N x 1 x 28 x 28], got float64[1x1x28x28]`},
		{"missing", map[string]*tensor.Tensor{},
			`infer: missing input "input": want float32[N x 1 x 28 x 28]`},
		{"unknown", map[string]*tensor.Tensor{"input": tensor.New(tensor.Float32, 1, 1, 28, 28), "x": tensor.New(tensor.Float32)},
			`infer: unknown input "x" (inputs: "input")`},
		{"nil", map[string]*tensor.Tensor{"input": nil}, `infer: input "input": nil tensor`},
		{"short data", map[string]*tensor.Tensor{"input": {DType: tensor.Float32, Shape: []int{1, 1, 28, 28}, F32: make([]float32, 5)}},
			`infer: input "input": tensor float32[1x1x28x28] does not hold 784 elements`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Run(tt.inputs)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Run() error = %v, want %s", err, tt.want)
			}
		})
	}
	if err := s.RunInto(map[string]*tensor.Tensor{"input": tensor.New(tensor.Float32, 1, 1, 28, 28)},
		map[string]*tensor.Tensor{"nope": {}}); err == nil || !strings.Contains(err.Error(), `"nope" is not a graph output`) {
		t.Errorf("RunInto(unknown output) error = %v", err)
	}
}

func TestSessionLoadErrors(t *testing.T) {
	conv := func(name string, in ...string) *onnx.Node {
		return &onnx.Node{Name: name, OpType: "Relu", Inputs: in, Outputs: []string{name + "_out"}}
	}
	in := []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32}}
	tests := []struct {
		name string
		m    *onnx.Model
		want string
	}{
		{"no graph", &onnx.Model{}, "infer: model has no graph"},
		{"no opset", &onnx.Model{Graph: &onnx.Graph{}, OpsetImports: []onnx.OpsetImport{{Domain: "com.x", Version: 1}}},
			"infer: model does not import the default ONNX opset"},
		{"order", model(13, &onnx.Graph{Inputs: in, Nodes: []*onnx.Node{conv("a", "b_out"), conv("b", "x")}}),
			`node "a" (Relu): input "b_out" is produced by node "b", which comes later (graph is not topologically sorted)`},
		{"undefined", model(13, &onnx.Graph{Inputs: in, Nodes: []*onnx.Node{conv("a", "zz")}}),
			`node "a" (Relu): input "zz" is not defined by any initializer, graph input or earlier node`},
		{"redefined", model(13, &onnx.Graph{Inputs: in, Nodes: []*onnx.Node{{Name: "a", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"x"}}}}),
			`node "a" (Relu): output "x" is already defined`},
		{"no output", model(13, &onnx.Graph{Inputs: in, Outputs: []*onnx.ValueInfo{{Name: "q"}}}),
			`infer: graph output "q" is not computed by any node`},
		{"bad attribute", model(13, &onnx.Graph{Inputs: in, Nodes: []*onnx.Node{{Name: "p", OpType: "MaxPool", Inputs: []string{"x"}, Outputs: []string{"y"},
			Attrs: []*onnx.Attribute{aInts("kernel_shape", 2, 2), aInts("pads", 1, 1, 1)}}}}),
			`node "p" (MaxPool): attribute "pads": want 4 values, got 3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSession(tt.m)
			if err == nil || err.Error() != tt.want {
				t.Errorf("NewSession() error = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestUnsupportedOps(t *testing.T) {
	g := &onnx.Graph{
		Inputs: []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32}},
		Nodes: []*onnx.Node{
			{Name: "f", OpType: "FancyOp", Inputs: []string{"x"}, Outputs: []string{"a"}},
			{Name: "c", OpType: "MyConv", Domain: "com.example", Inputs: []string{"a"}, Outputs: []string{"b"}},
			{Name: "g", OpType: "Where", Inputs: []string{"b", "b", "b"}, Outputs: []string{"c"}}, // Where starts at opset 9
			// Training mode: is_test=0 before opset 7, training_mode=1 from 14.
			{Name: "bn", OpType: "BatchNormalization", Inputs: []string{"c", "x", "x", "x", "x"}, Outputs: []string{"d"},
				Attrs: []*onnx.Attribute{aInt("is_test", 0), aInt("training_mode", 1)}},
		},
	}
	m := model(6, g)
	m.OpsetImports = append(m.OpsetImports, onnx.OpsetImport{Domain: "com.example", Version: 3})
	_, err := NewSession(m)
	var ue *UnsupportedOpsError
	if !errors.As(err, &ue) {
		t.Fatalf("NewSession() error = %v, want an *UnsupportedOpsError", err)
	}
	// Where is not registered before opset 9; BatchNormalization's training
	// mode is reported with its reason.
	want := `infer: 4 unsupported nodes: node "f" (FancyOp, domain ai.onnx, opset 6); ` +
		`node "c" (MyConv, domain com.example, opset 3); node "g" (Where, domain ai.onnx, opset 6); ` +
		`node "bn" (BatchNormalization, domain ai.onnx, opset 6): is_test=0 (training mode)`
	if err.Error() != want {
		t.Errorf("NewSession() error =\n%v\nwant\n%s", err, want)
	}
	// At opset 15 BatchNormalization exists, but not its training mode.
	m.OpsetImports[0].Version = 15
	_, err = NewSession(m)
	if !errors.As(err, &ue) || len(ue.Ops) != 3 || ue.Ops[2].Reason != "training_mode=1" {
		t.Errorf("NewSession(opset 15) error = %v, want FancyOp, MyConv and BatchNormalization training_mode=1", err)
	}
}

// TestNewerVersionsRefused checks that a model from the future is refused
// rather than run as if nothing had changed (before: ir_version 99 and
// opset 30 ran silently).
func TestNewerVersionsRefused(t *testing.T) {
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32}},
		Nodes:   []*onnx.Node{{Name: "r", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}},
		Outputs: []*onnx.ValueInfo{{Name: "y"}},
	}
	if _, err := NewSession(model(MaxOpset, g)); err != nil {
		t.Fatalf("NewSession(opset %d) = %v, want it to load", MaxOpset, err)
	}
	_, err := NewSession(model(MaxOpset+3, g))
	var ue *UnsupportedOpsError
	want := fmt.Sprintf(`infer: 1 unsupported node: node "r" (Relu, domain ai.onnx, opset %d): opset %d is newer than %d, the newest this package implements`, MaxOpset+3, MaxOpset+3, MaxOpset)
	if !errors.As(err, &ue) || err.Error() != want {
		t.Errorf("NewSession(opset %d) error = %v, want %s", MaxOpset+3, err, want)
	}
	m := model(13, g)
	m.IRVersion = 99
	var oe *onnx.UnsupportedError
	if _, err := NewSession(m); !errors.As(err, &oe) || !strings.Contains(err.Error(), "ir_version 99 is newer than 13") {
		t.Errorf("NewSession(ir_version 99) error = %v, want an *onnx.UnsupportedError naming the version", err)
	}
}

func TestInitializerOverride(t *testing.T) {
	// y = MatMul(x, w) where w is an initializer also listed as an input.
	g := &onnx.Graph{
		Inputs:       []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32}, {Name: "w", DType: tensor.Float32}},
		Initializers: []*onnx.Initializer{{Name: "w", Tensor: tensor.FromFloat32([]float32{2}, 1, 1)}},
		Outputs:      []*onnx.ValueInfo{{Name: "y"}},
		Nodes:        []*onnx.Node{{Name: "mm", OpType: "MatMul", Inputs: []string{"x", "w"}, Outputs: []string{"y"}}},
	}
	s, err := NewSession(model(13, g))
	if err != nil {
		t.Fatal(err)
	}
	if ins := s.Inputs(); len(ins) != 1 || ins[0].Name != "x" {
		t.Errorf("Inputs() = %v, want only x", ins)
	}
	x := tensor.FromFloat32([]float32{3}, 1, 1)
	for _, tt := range []struct {
		feeds map[string]*tensor.Tensor
		want  float32
	}{
		{map[string]*tensor.Tensor{"x": x}, 6}, // 3 * initializer 2
		{map[string]*tensor.Tensor{"x": x, "w": tensor.FromFloat32([]float32{5}, 1, 1)}, 15},
		{map[string]*tensor.Tensor{"x": x}, 6}, // the override does not stick
	} {
		res, err := s.Run(tt.feeds)
		if err != nil {
			t.Fatal(err)
		}
		if got := res["y"].F32[0]; got != tt.want {
			t.Errorf("Run(%v) = %v, want %v", tt.feeds, got, tt.want)
		}
	}
}

// panicOp panics when run, standing in for a buggy op.
type panicOp struct{}

func (panicOp) run(*scratch, []*tensor.Tensor, []*tensor.Tensor) error { panic("boom") }

func TestRunErrorsNameNode(t *testing.T) {
	registry["TestPanic"] = []opVersion{{1, 0, func(*onnx.Node, int64) (op, error) { return panicOp{}, nil }}}
	defer delete(registry, "TestPanic")
	_, err := runOp("TestPanic", 13, nil, 1, tensor.New(tensor.Float32, 1))
	if want := `node "n" (TestPanic): internal error: boom`; err == nil || err.Error() != want {
		t.Errorf("Run(panicking op) error = %v, want %s", err, want)
	}
	// An op's own error is wrapped with the node.
	_, err = runOp("Conv", 13, nil, 1, tensor.New(tensor.Float32, 1, 3, 5, 5), tensor.New(tensor.Float32, 2, 2, 3, 3))
	if want := `node "n" (Conv): X float32[1x3x5x5] and W float32[2x2x3x3] do not match group 1`; err == nil || err.Error() != want {
		t.Errorf("Run(bad Conv) error = %v, want %s", err, want)
	}
}

// TestRunContext: a canceled context stops the run before its first node,
// and the session still runs afterwards (its state went back to the pool).
func TestRunContext(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	s, err := NewSession(smallCNN(rng))
	if err != nil {
		t.Fatal(err)
	}
	x := randTensor(rng, 2, 1, 28, 28)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if out, err := s.RunContext(ctx, map[string]*tensor.Tensor{"input": x}); !errors.Is(err, context.Canceled) || out != nil {
		t.Errorf("RunContext(canceled) = %v, %v; want nil, %v", out, err, context.Canceled)
	}
	if out, err := s.RunContext(context.Background(), map[string]*tensor.Tensor{"input": x}); err != nil || out["out"] == nil {
		t.Errorf("RunContext(background) = %v, %v; want the output", out, err)
	}
}
