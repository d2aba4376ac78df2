package train_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
	"github.com/onnxkit/onnxkit/train"
	"github.com/onnxkit/onnxkit/verify"
)

// Exports must be accepted by the reference tools: onnx.checker (Debian's
// python3-onnx) and onnxruntime (onnxruntime-node), with onnxruntime's and
// infer's outputs equal to train's own. The tools are looked for as .ci/run
// installs them; without them the test skips, except under CI (CI=true),
// where a missing tool is a failure.
func TestExportInReferenceRuntimes(t *testing.T) {
	python := findTool(t, "python3-onnx", pythonWithONNX)
	ortModules := findTool(t, "onnxruntime-node", ortNodeModules)
	x := crossCheckImages(t)
	for _, kind := range train.Models {
		for _, opset := range []int64{11, 13, 18} {
			t.Run(fmt.Sprintf("%s/opset%d", kind, opset), func(t *testing.T) {
				m, err := train.New(kind, 7)
				if err != nil {
					t.Fatal(err)
				}
				m.SetTraining(false)
				logits, err := m.Forward(x)
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				if err := m.WriteONNX(filepath.Join(dir, "model.onnx"), train.ExportOptions{Opset: opset}); err != nil {
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

				check := exec.Command(python, "-c",
					"import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)",
					filepath.Join(dir, "model.onnx"))
				if out, err := check.CombinedOutput(); err != nil {
					t.Errorf("onnx.checker.check_model: %v\n%s", err, out)
				}
				ort := exec.Command("node", "../scripts/ort_run.js", "--ort", ortModules,
					"--rtol", "1e-4", "--atol", "1e-5", dir)
				if out, err := ort.CombinedOutput(); err != nil {
					t.Errorf("onnxruntime: %v\n%s", err, out)
				}
				if r := verify.Case(dir, verify.Tolerance{Rtol: 1e-4, Atol: 1e-5}); !r.Passed() {
					t.Errorf("infer: %v", r.Err)
				}
			})
		}
	}
}

// crossCheckImages returns 8 MNIST test images in [0, 1], or a fixed
// pattern when MNIST is not found.
func crossCheckImages(t *testing.T) *tensor.Tensor {
	x := tensor.New(tensor.Float32, 8, 1, 28, 28)
	if _, test, err := mnist.Load(""); err == nil {
		for i := range x.F32 {
			x.F32[i] = float32(test.Images[i]) / 255
		}
		return x
	}
	for i := range x.F32 {
		x.F32[i] = float32((i*37)%256) / 255
	}
	return x
}

// findTool returns what find locates, or skips the test (fails it under CI).
func findTool(t *testing.T, what string, find func() (string, error)) string {
	t.Helper()
	p, err := find()
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is needed under CI (.ci/run installs it): %v", what, err)
	}
	t.Skipf("%s not found (.ci/run installs it): %v", what, err)
	return ""
}

// pythonWithONNX finds a python3 that can import onnx: Debian's
// /usr/bin/python3 first (the python3 first on PATH may be another one).
func pythonWithONNX() (string, error) {
	var last error
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if err := exec.Command(p, "-c", "import onnx.checker").Run(); err != nil {
			last = err
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("no python3 imports onnx: %v", last)
}

// ortNodeModules finds a node_modules folder holding onnxruntime-node:
// $ONNXKIT_ORT, then .tools/node_modules in the repository (.ci/run's).
func ortNodeModules() (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", err
	}
	for _, d := range []string{os.Getenv("ONNXKIT_ORT"), "../.tools/node_modules"} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "onnxruntime-node")); err == nil {
			return filepath.Abs(d)
		}
	}
	return "", fmt.Errorf("no onnxruntime-node in $ONNXKIT_ORT or .tools/node_modules")
}
