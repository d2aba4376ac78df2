package train_test

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
	"github.com/onnxkit/onnxkit/train"
	"github.com/onnxkit/onnxkit/verify"
)

// A PyTorch ResNet export (BatchNorm folded into its convolutions, residual
// Adds, a padded MaxPool, strided convolutions, GlobalAveragePool, Flatten,
// Gemm) becomes a trainable graph whose outputs are PyTorch's; with a new
// 10-class head and everything before a named node frozen it trains a few
// steps (the loss on the batch falls), and its re-export passes
// onnx.checker and gives onnxruntime's and infer's outputs equal to
// train's own. resnet_small comes from scripts/make_resnet_small.py; the
// zoo's ResNet-18 (scripts/make_zoo.py, not committed) is used when
// present.
func TestFineTuneResNet(t *testing.T) {
	for _, tc := range []struct {
		name, dir, freeze string
		rtol, atol, lr    float64
	}{
		{"resnet_small", "../testdata/pytorch/resnet_small", "/layer2/conv1/Conv", 1e-4, 1e-5, 1e-3},
		{"resnet18", "../testdata/zoo/resnet18-op13", "/layer4/layer4.1/conv1/Conv", 1e-3, 1e-4, 1e-4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(tc.dir, "model.onnx")); errors.Is(err, fs.ErrNotExist) {
				t.Skipf("no %s (make it with the script named above)", tc.dir)
			}
			om, err := onnx.ReadFile(filepath.Join(tc.dir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := train.FromONNX(om)
			if err != nil {
				t.Fatal(err)
			}
			_, x, err := onnx.ReadTensorFile(filepath.Join(tc.dir, "test_data_set_0", "input_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			_, want, err := onnx.ReadTensorFile(filepath.Join(tc.dir, "test_data_set_0", "output_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			closeTo(t, "Forward vs PyTorch", got, want, tc.rtol, tc.atol)

			if err := m.ReplaceHead(10, 1); err != nil {
				t.Fatal(err)
			}
			if err := m.Freeze(tc.freeze); err != nil {
				t.Fatal(err)
			}
			if out := m.OutputShape(); len(out) != 1 || out[0] != 10 {
				t.Fatalf("OutputShape() after ReplaceHead(10) = %v", out)
			}
			tr, err := train.NewTrainerFor(m, train.Recipe{Optimizer: "adam", LR: tc.lr}, 1)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			in := m.InputShape()
			batch := tensor.New(tensor.Float32, 4, in[0], in[1], in[2])
			for i := range batch.F32 {
				batch.F32[i] = rng.Float32()
			}
			labels := []int{3, 1, 4, 1}
			var first, last float64
			for step := range 4 {
				l, err := tr.Step(batch, labels)
				if err != nil {
					t.Fatal(err)
				}
				if step == 0 {
					first = l
				}
				last = l
				t.Logf("step %d: loss %.4f", step, l)
			}
			if !(last < first) {
				t.Errorf("loss after 4 Adam steps on one batch = %.4f, first %.4f: want it lower", last, first)
			}
			t.Logf("loss %.4f -> %.4f over 4 steps", first, last)

			m.SetTraining(false)
			logits, err := m.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			checkExport(t, func(path string) error { return m.WriteONNX(path, train.ExportOptions{}) }, x, logits)
		})
	}
}

// A graph with every layer and join (BatchNorm, a residual Add, Concat, a
// depthwise dilated and a grouped convolution, padded MaxPool, global
// average pooling), after a training step, exports to a file that
// onnx.checker accepts, that onnxruntime and infer run to train's outputs,
// and that FromONNX reads back to the same outputs.
func TestGraphExportRoundTrip(t *testing.T) {
	conv := func(name string, in, out int, o train.ConvOptions) train.Layer {
		return train.NewConv2dOpts(name, in, out, o)
	}
	m, err := train.NewGraph("graph", []int{3, 12, 12},
		train.Apply(conv("stem", 3, 8, train.ConvOptions{Kernel: 3, Pad: 1, NoBias: true})),
		train.Apply(train.NewBatchNorm2d("bn", 8)),
		train.Apply(train.NewReLU("relu")),
		train.Apply(train.NewMaxPool2dPad("pool", 3, 2, 1)), // [8,6,6]
		train.Apply(conv("dw", 8, 8, train.ConvOptions{Kernel: 3, Pad: 2, Dilation: 2, Groups: 8})),
		train.Apply(conv("g", 8, 8, train.ConvOptions{Kernel: 3, Pad: 1, Groups: 2})),
		train.Combine(train.NewAdd("add"), "g", "pool"),
		train.Combine(train.NewConcat("cat"), "add", "pool"), // [16,6,6]
		train.Apply(train.NewGlobalAvgPool("gap")),
		train.Apply(train.NewFlatten("flat")),
		train.Apply(train.NewLinear("fc", 16, 4)),
	)
	if err != nil {
		t.Fatal(err)
	}
	m.InitDefault(2)
	rng := rand.New(rand.NewPCG(3, 4))
	x := tensor.New(tensor.Float32, 5, 3, 12, 12)
	for i := range x.F32 {
		x.F32[i] = rng.Float32()
	}
	tr, err := train.NewTrainerFor(m, train.Recipe{Optimizer: "sgd", LR: 0.1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(x, []int{0, 1, 2, 3, 0}); err != nil {
		t.Fatal(err)
	}
	m.SetTraining(false)
	logits, err := m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	logits = logits.Clone()
	em, err := m.Export(train.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back, err := train.FromONNX(em)
	if err != nil {
		t.Fatal(err)
	}
	again, err := back.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "FromONNX(Export) vs Forward", again, logits, 1e-5, 1e-6)

	checkExport(t, func(path string) error { return onnx.WriteFile(path, em) }, x, logits)
}

// checkExport writes a model with write into a test case folder with x
// and the logits train computed for it, and checks that infer,
// onnx.checker and onnxruntime accept it and agree with train.
func checkExport(t *testing.T, write func(path string) error, x, logits *tensor.Tensor) {
	t.Helper()
	dir := t.TempDir()
	if err := write(filepath.Join(dir, "model.onnx")); err != nil {
		t.Fatal(err)
	}
	set := filepath.Join(dir, "test_data_set_0")
	if err := os.Mkdir(set, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := onnx.WriteTensorFile(filepath.Join(set, "input_0.pb"), "input", x); err != nil {
		t.Fatal(err)
	}
	if err := onnx.WriteTensorFile(filepath.Join(set, "output_0.pb"), "logits", logits); err != nil {
		t.Fatal(err)
	}
	if r := verify.Case(dir, verify.Tolerance{Rtol: 1e-4, Atol: 1e-5}); !r.Passed() {
		t.Errorf("infer: %v", r.Err)
	}
	python := findTool(t, "python3-onnx", pythonWithONNX)
	check := exec.Command(python, "-c",
		"import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)",
		filepath.Join(dir, "model.onnx"))
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("onnx.checker.check_model: %v\n%s", err, out)
	}
	ortModules := findTool(t, "onnxruntime-node", ortNodeModules)
	ort := exec.Command("node", "../scripts/ort_run.js", "--ort", ortModules, "--rtol", "1e-4", "--atol", "1e-5", dir)
	if out, err := ort.CombinedOutput(); err != nil {
		t.Errorf("onnxruntime: %v\n%s", err, out)
	}
}
