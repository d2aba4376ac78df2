package train_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
	"github.com/onnxkit/onnxkit/train"
)

// The node sequences torch.onnx.export writes for the tutorial models
// (shared/ENVIRONMENT.md), except that AvgPool2d with padding 0 needs no
// Pad, the MLP's Constant+Reshape is a Flatten, and Dropout is dropped.
var wantOps = map[string]string{
	train.MLP:    "Flatten Gemm Relu Gemm",
	train.CNN:    "Conv Relu MaxPool Flatten Gemm Relu Gemm",
	train.LeNet5: "Conv Tanh AveragePool Conv Tanh AveragePool Conv Tanh Flatten Gemm Tanh Gemm",
	// Best keeps its BatchNormalization nodes (PyTorch's export folds
	// them into the convolutions) and pools globally with an AveragePool.
	train.Best: "Conv BatchNormalization Relu MaxPool Conv BatchNormalization Relu Conv BatchNormalization Relu MaxPool " +
		"Conv BatchNormalization Relu Conv BatchNormalization Relu AveragePool Flatten Gemm",
}

func TestExport(t *testing.T) {
	for _, kind := range train.Models {
		t.Run(kind, func(t *testing.T) {
			m, err := train.New(kind, 1)
			if err != nil {
				t.Fatal(err)
			}
			m.Normalize = &train.Normalize{Mean: 0.1307, Std: 0.3081}
			om, err := m.Export(train.ExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := onnx.Check(om); err != nil {
				t.Fatalf("onnx.Check: %v", err)
			}
			var ops []string
			for _, n := range om.Graph.Nodes {
				ops = append(ops, n.OpType)
			}
			if got := strings.Join(ops, " "); got != wantOps[kind] {
				t.Errorf("nodes %q, want %q", got, wantOps[kind])
			}
			if v, _ := om.Opset(""); v != 13 || om.IRVersion != 7 || om.ProducerName != "onnxkit" || om.ProducerVersion == "" {
				t.Errorf("opset %d, IR %d, producer %q %q; want 13, 7, onnxkit and a version", v, om.IRVersion, om.ProducerName, om.ProducerVersion)
			}
			for key, want := range map[string]string{onnx.MetaModel: kind, onnx.MetaScale: "1/255", onnx.MetaMean: "0.1307", onnx.MetaStd: "0.3081"} {
				if got, _ := om.MetadataValue(key); got != want {
					t.Errorf("metadata %s = %q, want %q", key, got, want)
				}
			}
			g := om.Graph
			in, out := g.Inputs[0], g.Outputs[0]
			if len(g.Inputs) != 1 || in.Name != "input" || in.DType != tensor.Float32 ||
				!reflect.DeepEqual(in.Shape, []onnx.Dim{{Param: "N"}, {Value: 1}, {Value: 28}, {Value: 28}}) {
				t.Errorf("graph input %+v, want input float32 [N,1,28,28]", in)
			}
			if len(g.Outputs) != 1 || out.Name != "logits" || !reflect.DeepEqual(out.Shape, []onnx.Dim{{Param: "N"}, {Value: 10}}) {
				t.Errorf("graph output %+v, want logits [N,10]", out)
			}
			for i, p := range m.Params() {
				if in := g.Initializers[i]; in.Name != p.Name || !reflect.DeepEqual(in.Tensor.F32, p.Value.F32) {
					t.Errorf("initializer %d is %q, want %q with the model's values", i, in.Name, p.Name)
				}
			}

			// Written and read back, the model decodes to the same graph.
			path := filepath.Join(t.TempDir(), kind+".onnx")
			if err := m.WriteONNX(path, train.ExportOptions{}); err != nil {
				t.Fatal(err)
			}
			back, err := onnx.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(back.Graph.Nodes) != len(g.Nodes) || len(back.Graph.Initializers) != len(g.Initializers) {
				t.Errorf("read back %d nodes, %d initializers; wrote %d, %d", len(back.Graph.Nodes), len(back.Graph.Initializers), len(g.Nodes), len(g.Initializers))
			}

			// onnxkit's own runtime gives the same logits as Forward.
			s, err := infer.NewSession(om)
			if err != nil {
				t.Fatalf("infer.NewSession: %v", err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			x := tensor.New(tensor.Float32, 3, 1, 28, 28)
			for i := range x.F32 {
				x.F32[i] = rng.Float32()
			}
			m.SetTraining(false)
			want, err := m.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Run(map[string]*tensor.Tensor{"input": x})
			if err != nil {
				t.Fatalf("infer Run: %v", err)
			}
			got := res["logits"]
			if got == nil || !reflect.DeepEqual(got.Shape, want.Shape) {
				t.Fatalf("infer logits %v, want %v", got, want)
			}
			for i := range want.F32 {
				if math.Abs(float64(got.F32[i]-want.F32[i])) > 1e-4 {
					t.Fatalf("infer logits[%d] = %v, Forward %v", i, got.F32[i], want.F32[i])
				}
			}
		})
	}
}

func TestExportOpsets(t *testing.T) {
	m, _ := train.New(train.LeNet5, 1)
	for _, tt := range []struct {
		opset, ir int64
		ok        bool
	}{{11, 6, true}, {13, 7, true}, {14, 7, true}, {15, 8, true}, {18, 8, true}, {10, 0, false}, {19, 0, false}} {
		om, err := m.Export(train.ExportOptions{Opset: tt.opset})
		if !tt.ok {
			if err == nil || !strings.Contains(err.Error(), "opset") {
				t.Errorf("Export(opset %d) error = %v, want an opset error", tt.opset, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Export(opset %d): %v", tt.opset, err)
			continue
		}
		if v, _ := om.Opset(""); v != tt.opset || om.IRVersion != tt.ir {
			t.Errorf("Export(opset %d) = opset %d, IR %d; want IR %d", tt.opset, v, om.IRVersion, tt.ir)
		}
		if err := onnx.Check(om); err != nil {
			t.Errorf("Export(opset %d): onnx.Check: %v", tt.opset, err)
		}
	}
	// Without Normalize the metadata says mean 0, std 1.
	om, _ := m.Export(train.ExportOptions{})
	if mean, _ := om.MetadataValue(onnx.MetaMean); mean != "0" {
		t.Errorf("mean without Normalize = %q, want 0", mean)
	}
}
