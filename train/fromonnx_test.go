package train_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
	"github.com/onnxkit/onnxkit/train"
)

// A PyTorch export becomes a trainable model whose outputs, before any
// step, are PyTorch's logits (test_data_set_1, written by
// scripts/make_reference.py) and infer's; after a step it exports again
// and infer reproduces its new outputs.
func TestFromONNXPyTorchExports(t *testing.T) {
	for _, name := range []string{"lenet5", "mlp", "cnn"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("../testdata/pytorch", name)
			om, err := onnx.ReadFile(filepath.Join(dir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := train.FromONNX(om)
			if err != nil {
				t.Fatal(err)
			}
			_, x, err := onnx.ReadTensorFile(filepath.Join(dir, "test_data_set_1", "input_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			_, want, err := onnx.ReadTensorFile(filepath.Join(dir, "test_data_set_1", "output_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			closeTo(t, "Forward vs PyTorch", got, want, 1e-4, 1e-5)

			// One SGD step on the batch, then export and run in infer.
			labels := make([]int, x.Shape[0])
			for i := range labels {
				labels[i] = i % 10
			}
			tr := &train.Trainer{Model: m, Optimizer: &train.SGD{LR: 0.01}}
			if _, err := tr.Step(x, labels); err != nil {
				t.Fatal(err)
			}
			m.SetTraining(false)
			after, err := m.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			after = after.Clone()
			em, err := m.Export(train.ExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s, err := infer.NewSession(em)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Run(map[string]*tensor.Tensor{"input": x})
			if err != nil {
				t.Fatal(err)
			}
			closeTo(t, "infer on the re-export vs Forward", res["logits"], after, 1e-4, 1e-5)
			names := map[string]bool{}
			for _, in := range em.Graph.Initializers {
				names[in.Name] = true
			}
			for _, in := range om.Graph.Initializers {
				if strings.HasSuffix(in.Name, ".weight") && !names[in.Name] {
					t.Errorf("re-export lost the parameter name %q", in.Name)
				}
			}
		})
	}
}

func closeTo(t *testing.T, what string, got, want *tensor.Tensor, rtol, atol float64) {
	t.Helper()
	if got == nil || got.Len() != want.Len() {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range want.F32 {
		g, w := float64(got.F32[i]), float64(want.F32[i])
		if math.Abs(g-w) > atol+rtol*math.Abs(w) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, g, w)
		}
	}
}

// A graph with ops that have no trainable layer is refused with every such
// node named.
func TestFromONNXRefusesUnknownOps(t *testing.T) {
	f32 := onnx.ElemTypeOf(tensor.Float32)
	m := &onnx.Model{
		IRVersion:    7,
		OpsetImports: []onnx.OpsetImport{{Version: 13}},
		Graph: &onnx.Graph{
			Inputs: []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, ElemType: f32, HasShape: true,
				Shape: []onnx.Dim{{Param: "N"}, {Value: 1}, {Value: 4}, {Value: 4}}}},
			Nodes: []*onnx.Node{
				{Name: "bn", OpType: "BatchNormalization", Inputs: []string{"x", "s", "b", "m", "v"}, Outputs: []string{"y"}},
				{Name: "sig", OpType: "Sigmoid", Inputs: []string{"y"}, Outputs: []string{"z"}},
			},
			Outputs: []*onnx.ValueInfo{{Name: "z"}},
		},
	}
	_, err := train.FromONNX(m)
	if err == nil || !strings.Contains(err.Error(), `node "bn" (BatchNormalization)`) || !strings.Contains(err.Error(), `node "sig" (Sigmoid)`) {
		t.Errorf("FromONNX(BatchNormalization, Sigmoid) error = %v, want both nodes named", err)
	}
}

// TestFromONNXRefusesBadGeometry checks attributes that used to panic in
// Forward (stride 0, kernel 0) or were silently taken (negative pads, a
// kernel_shape that contradicts the weight): each is refused with its node
// named.
func TestFromONNXRefusesBadGeometry(t *testing.T) {
	f32 := onnx.ElemTypeOf(tensor.Float32)
	ints := func(name string, v ...int64) *onnx.Attribute {
		return &onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
	}
	w := tensor.New(tensor.Float32, 2, 1, 3, 3)
	for _, tc := range []struct {
		name string
		node *onnx.Node
		want string
	}{
		{"conv stride 0", &onnx.Node{Name: "c", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{ints("strides", 0, 0)}}, `node "c" (Conv): kernel 3, stride 0 and pad 0`},
		{"conv negative pads", &onnx.Node{Name: "c", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{ints("pads", -1, -1, -1, -1)}}, `node "c" (Conv): kernel 3, stride 1 and pad -1`},
		{"conv huge pads", &onnx.Node{Name: "c", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{ints("pads", 1<<40, 1<<40, 1<<40, 1<<40)}}, `node "c" (Conv): kernel 3, stride 1 and pad 1099511627776`},
		{"conv kernel_shape", &onnx.Node{Name: "c", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{ints("kernel_shape", 5, 5)}}, `node "c" (Conv): attribute kernel_shape [5 5] does not match the weight's 3x3 kernel`},
		{"pool kernel 0", &onnx.Node{Name: "p", OpType: "MaxPool", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{ints("kernel_shape", 0, 0)}}, `node "p" (MaxPool): kernel 0 and stride 1`},
		{"pool stride 0", &onnx.Node{Name: "p", OpType: "AveragePool", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{ints("kernel_shape", 2, 2), ints("strides", 0, 0)}}, `node "p" (AveragePool): kernel 2 and stride 0`},
	} {
		m := &onnx.Model{
			IRVersion:    7,
			OpsetImports: []onnx.OpsetImport{{Version: 13}},
			Graph: &onnx.Graph{
				Inputs: []*onnx.ValueInfo{{Name: "x", DType: tensor.Float32, ElemType: f32, HasShape: true,
					Shape: []onnx.Dim{{Param: "N"}, {Value: 1}, {Value: 8}, {Value: 8}}}},
				Initializers: []*onnx.Initializer{{Name: "w", Tensor: w}},
				Nodes:        []*onnx.Node{tc.node},
				Outputs:      []*onnx.ValueInfo{{Name: "y"}},
			},
		}
		_, err := train.FromONNX(m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: FromONNX error = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// fromONNXCases are the cases of the ONNX 1.12 backend test data (Debian's
// libonnx-testdata) that FromONNX builds: depthwise, dilated, strided and
// padded convolutions, BatchNormalization, padded MaxPool, global average
// pooling. Each must build and give the case's outputs. (Of the package's
// 1,072 cases these 27 build; the others use ops or forms with no
// trainable layer.)
var fromONNXCases = []string{
	"node/test_averagepool_2d_default",
	"node/test_averagepool_2d_precomputed_strides",
	"node/test_averagepool_2d_strides",
	"node/test_flatten_axis1",
	"node/test_flatten_default_axis",
	"node/test_globalaveragepool",
	"node/test_globalaveragepool_precomputed",
	"node/test_maxpool_2d_default",
	"node/test_maxpool_2d_precomputed_pads",
	"node/test_maxpool_2d_precomputed_strides",
	"node/test_maxpool_2d_strides",
	"pytorch-converted/test_AvgPool2d",
	"pytorch-converted/test_AvgPool2d_stride",
	"pytorch-converted/test_BatchNorm2d_eval",
	"pytorch-converted/test_BatchNorm2d_momentum_eval",
	"pytorch-converted/test_Conv2d_depthwise",
	"pytorch-converted/test_Conv2d_depthwise_padded",
	"pytorch-converted/test_Conv2d_depthwise_strided",
	"pytorch-converted/test_Conv2d_depthwise_with_multiplier",
	"pytorch-converted/test_Conv2d_dilated",
	"pytorch-converted/test_Conv2d_padding",
	"pytorch-converted/test_Conv2d_strided",
	"pytorch-converted/test_MaxPool2d",
	"pytorch-converted/test_ReLU",
	"pytorch-converted/test_Tanh",
	"pytorch-operator/test_operator_conv",
	"pytorch-operator/test_operator_flatten",
}

func TestFromONNXConformance(t *testing.T) {
	const root = "/usr/share/libonnx-testdata/data"
	for _, c := range fromONNXCases {
		t.Run(c, func(t *testing.T) {
			dir := filepath.Join(root, c)
			om, err := onnx.ReadFile(filepath.Join(dir, "model.onnx"))
			if err != nil {
				t.Skip(err) // apt-get install libonnx-testdata
			}
			m, err := train.FromONNX(om)
			if err != nil {
				t.Fatal(err)
			}
			_, x, err := onnx.ReadTensorFile(filepath.Join(dir, "test_data_set_0", "input_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			_, want, err := onnx.ReadTensorFile(filepath.Join(dir, "test_data_set_0", "output_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			closeTo(t, "Forward vs the case's output", got, want, 1e-4, 1e-5)
		})
	}
}
