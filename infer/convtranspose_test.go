package infer

import (
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// upsampleFixtures returns the folders under testdata/upsample whose names
// start with prefix: PyTorch layers exported to ONNX with PyTorch's outputs,
// made by scripts/make_upsample_reference.py.
func upsampleFixtures(t *testing.T, prefix string) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "upsample", prefix+"*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures testdata/upsample/%s*: %v", prefix, err)
	}
	return dirs
}

// nodeSuiteCases returns the official ONNX node test folders whose names
// start with prefix, from every suite present.
func nodeSuiteCases(t *testing.T, prefix string) []string {
	var dirs []string
	for _, root := range nodeTestDirs {
		d, _ := filepath.Glob(filepath.Join(root, prefix+"*"))
		dirs = append(dirs, d...)
	}
	if len(dirs) == 0 {
		t.Skip("ONNX node test cases not installed")
	}
	return dirs
}

// TestConvTransposePyTorch checks ConvTranspose1d/2d/3d exports (strides,
// padding, output_padding, groups, dilation, bias or none, constant weights
// or weights as a graph input) against PyTorch's outputs, at rtol 1e-4,
// atol 1e-5.
// With splitCol2im 0, col2im splits the channels of each sample between
// goroutines (as it does for large layers).
func TestConvTransposePyTorch(t *testing.T) {
	for _, split := range []int{splitCol2im, 0} {
		defer func(v int) { splitCol2im = v }(splitCol2im)
		splitCol2im = split
		for _, dir := range upsampleFixtures(t, "convtranspose") {
			t.Run(filepath.Base(dir)+"/split"+itoa(split), func(t *testing.T) { runNodeCaseTol(t, dir, 1e-4, 1e-5) })
		}
	}
}

// TestConvTransposeNodeCases runs the official test_convtranspose_* cases
// (expected outputs from the ONNX node suites 1.12 and 1.22).
func TestConvTransposeNodeCases(t *testing.T) {
	for _, dir := range nodeSuiteCases(t, "test_convtranspose") {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(dir)))+"/"+filepath.Base(dir), func(t *testing.T) { runNodeCase(t, dir) })
	}
}

// loadOp builds a session of one node whose inputs from index constFrom
// on are initializers, and returns NewSession's error.
func loadOp(constFrom int, opType string, opset int64, attrs []*onnx.Attribute, ins ...*tensor.Tensor) error {
	n := &onnx.Node{Name: "n", OpType: opType, Attrs: attrs, Outputs: []string{"y"}}
	g := &onnx.Graph{Nodes: []*onnx.Node{n}, Outputs: []*onnx.ValueInfo{{Name: "y"}}}
	for i, t := range ins {
		name := string(rune('a' + i))
		n.Inputs = append(n.Inputs, name)
		if i >= constFrom {
			g.Initializers = append(g.Initializers, &onnx.Initializer{Name: name, Tensor: t})
		} else {
			g.Inputs = append(g.Inputs, &onnx.ValueInfo{Name: name, DType: t.DType})
		}
	}
	_, err := NewSession(model(opset, g))
	return err
}

func TestConvTransposeErrors(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
	x, w := f(1, 4, 5, 5), f(4, 2, 3, 3)
	tests := []struct {
		name  string
		attrs []*onnx.Attribute
		ins   []*tensor.Tensor
		load  bool // refused at load, the weights being constant
		want  string
	}{
		{"group", []*onnx.Attribute{aInt("group", 0)}, []*tensor.Tensor{x, w}, true, `attribute "group": want a positive value`},
		{"strides", []*onnx.Attribute{aInts("strides", 0, 1)}, []*tensor.Tensor{x, w}, true, `attribute "strides": value 0 out of range`},
		{"negative stride", []*onnx.Attribute{aInts("strides", -2, 1)}, []*tensor.Tensor{x, w}, true, `attribute "strides": value -2 out of range`},
		{"dilations", []*onnx.Attribute{aInts("dilations", 1, 0)}, []*tensor.Tensor{x, w}, true, `attribute "dilations": value 0 out of range`},
		{"negative pads", []*onnx.Attribute{aInts("pads", 0, -1, 0, 0)}, []*tensor.Tensor{x, w}, true, `attribute "pads": value -1 out of range`},
		{"output_padding", []*onnx.Attribute{aInts("strides", 2, 2), aInts("output_padding", 2, 0)}, []*tensor.Tensor{x, w}, true, `attribute "output_padding": value 2 on axis 0 is not less than the stride 2`},
		{"axes disagree", []*onnx.Attribute{aInts("strides", 2, 2), aInts("output_padding", 1, 1, 1)}, []*tensor.Tensor{x, w}, true, `attribute "output_padding": 3 spatial axes, other attributes have 2`},
		{"auto_pad", []*onnx.Attribute{aString("auto_pad", "SAME")}, []*tensor.Tensor{x, w}, true, `unknown value "SAME"`},
		{"group vs W", []*onnx.Attribute{aInt("group", 3)}, []*tensor.Tensor{x, w}, true, "4 input channels are not divisible by group 3"},
		{"kernel_shape vs W", []*onnx.Attribute{aInts("kernel_shape", 2, 2)}, []*tensor.Tensor{x, w}, true, `attribute "kernel_shape" [2 2] does not match W float32[4x2x3x3]`},
		{"strides vs W", []*onnx.Attribute{aInts("strides", 1, 1, 1)}, []*tensor.Tensor{x, w}, true, "W float32[4x2x3x3] has 2 spatial axes, attributes have 3"},
		{"bias vs W", nil, []*tensor.Tensor{x, w, f(3)}, true, "input B is float32[3], want float32[2]"},
		{"W rank", nil, []*tensor.Tensor{x, f(4, 2)}, true, "input W"},
		{"empty kernel", nil, []*tensor.Tensor{x, f(4, 2, 0, 3)}, true, "input W float32[4x2x0x3]: kernel size 0 on axis 0"},
		{"X channels", nil, []*tensor.Tensor{f(1, 3, 5, 5), w}, false, "want 3 input channels, as X has"},
		{"X rank", nil, []*tensor.Tensor{f(4, 5), w}, false, "input X: want rank 3 to 10"},
		{"dtype", nil, []*tensor.Tensor{tensor.New(tensor.Float64, 1, 4, 5, 5), w}, false, "want float32 inputs"},
		{"pads too large", []*onnx.Attribute{aInts("pads", 4, 0, 4, 0)}, []*tensor.Tensor{x, w}, false, "pads 4+4 are larger than the output size 7"},
		{"huge output_shape", []*onnx.Attribute{aInts("output_shape", 1<<24, 1<<24)}, []*tensor.Tensor{x, w}, false, "more than"},
		{"huge strides", []*onnx.Attribute{aInts("strides", 1<<24, 1<<24)}, []*tensor.Tensor{x, w}, false, "more than"},
		{"unknown attribute", []*onnx.Attribute{aInt("ceil_mode", 1)}, []*tensor.Tensor{x, w}, true, `attribute "ceil_mode" is not defined for ConvTranspose-22`},
		{"arity", nil, []*tensor.Tensor{x}, true, "want 2 to 3 inputs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := `node "n" (ConvTranspose): `
			if tt.load {
				err := loadOp(1, "ConvTranspose", 22, tt.attrs, tt.ins...)
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), prefix) {
					t.Errorf("NewSession error = %v, want one naming the node and containing %q", err, tt.want)
				}
			}
			_, err := runOp("ConvTranspose", 22, tt.attrs, 1, tt.ins...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("ConvTranspose error = %v, want one naming the node and containing %q", err, tt.want)
			}
		})
	}
}

// TestConvTransposeConstMatchesInput checks that constant weights (packed
// at load) and the same weights fed at run time give the same output,
// within float32 rounding, on the fixtures' DCGAN-like layer.
func TestConvTransposeConstMatchesInput(t *testing.T) {
	dir := upsampleFixtures(t, "convtranspose2d_dcgan_op13")[0]
	m, err := onnx.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var w *tensor.Tensor
	for _, init := range m.Graph.Initializers {
		w = init.Tensor
	}
	_, sets, err := onnx.LoadTestCase(dir)
	if err != nil {
		t.Fatal(err)
	}
	x := sets[0].Inputs[0].Tensor
	packed, err := runOpConst(1, "ConvTranspose", 13, []*onnx.Attribute{aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1)}, 1, x, w)
	if err != nil {
		t.Fatal(err)
	}
	fed, err := runOp("ConvTranspose", 13, []*onnx.Attribute{aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1)}, 1, x, w)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "ConvTranspose packed vs fed", packed[0], fed[0], 1e-5)
	checkClose(t, "ConvTranspose vs PyTorch", fed[0], sets[0].Outputs[0].Tensor, 1e-4)
}

// BenchmarkConvTransposeDCGAN times a DCGAN generator layer,
// ConvTranspose2d(256, 128, 4, stride 2, padding 1) on 16x16 inputs,
// with constant weights.
func BenchmarkConvTransposeDCGAN(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(itoa(n), func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			x, w, bias := randTensor(rng, n, 256, 16, 16), randTensor(rng, 256, 128, 4, 4), randTensor(rng, 128)
			node := &onnx.Node{Name: "ct", OpType: "ConvTranspose", Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"},
				Attrs: []*onnx.Attribute{aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1)}}
			g := &onnx.Graph{Nodes: []*onnx.Node{node}, Inputs: []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32}},
				Initializers: []*onnx.Initializer{{Name: "w", Tensor: w}, {Name: "b", Tensor: bias}}, Outputs: []*onnx.ValueInfo{{Name: "y"}}}
			s, err := NewSession(model(13, g))
			if err != nil {
				b.Fatal(err)
			}
			feeds := map[string]*tensor.Tensor{"x": x}
			outs := map[string]*tensor.Tensor{"y": {}}
			for b.Loop() {
				if err := s.RunInto(feeds, outs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
