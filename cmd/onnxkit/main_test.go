package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/onnx"
)

// onnxkit runs the command line in-process and returns stdout, stderr and
// the exit status.
func onnxkit(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{nil, "Commands:"},
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"verify"}, "no test folder given"},
		{[]string{"verify", "-rtol", "x", "dir"}, "invalid value"},
		{[]string{"train", "-model", "resnet"}, `-model "resnet"`},
		{[]string{"train", "-opset", "9"}, "-opset 9"},
		{[]string{"train", "-normalize", "0"}, "want MEAN,STD"},
		{[]string{"run"}, "-model is required"},
		{[]string{"inspect"}, "want one model file"},
		{[]string{"show"}, "-out is required"},
	}
	for _, tt := range tests {
		_, stderr, code := onnxkit(t, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.wantErr) {
			t.Errorf("onnxkit %q = exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.wantErr)
		}
	}
}

func TestFailures(t *testing.T) {
	dir := t.TempDir()
	notONNX := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(notONNX, []byte("this is not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"inspect", filepath.Join(dir, "missing.onnx")}, "missing.onnx"},
		{[]string{"inspect", notONNX}, "model.onnx"},
		{[]string{"eval", notONNX}, "model.onnx"},
		{[]string{"verify", filepath.Join(dir, "nope")}, "nope"},
	}
	for _, tt := range tests {
		_, stderr, code := onnxkit(t, tt.args...)
		if code != 1 || !strings.Contains(stderr, tt.wantErr) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("onnxkit %q = exit %d, stderr %q; want exit 1 and one line naming %q", tt.args, code, stderr, tt.wantErr)
		}
	}
}

func TestVerifyPyTorchExports(t *testing.T) {
	stdout, stderr, code := onnxkit(t, "verify", "-rtol", "1e-4", "../../testdata/pytorch")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || lines[len(lines)-1] != "3 passed, 0 failed" {
		t.Fatalf("onnxkit verify testdata/pytorch = exit %d, stdout %q, stderr %q; want exit 0 ending in 3 passed, 0 failed", code, stdout, stderr)
	}
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "ok ") || !strings.Contains(l, "max abs") {
			t.Errorf("verify line %q: want ok with the worst errors", l)
		}
	}
}

func TestVerifyReportsMismatch(t *testing.T) {
	// A copy of the LeNet5 case whose expected first logit is off by 0.01.
	src := "../../testdata/pytorch/lenet5"
	dir := t.TempDir()
	model, err := os.ReadFile(filepath.Join(src, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "model.onnx"), model, 0o644)
	set := filepath.Join(dir, "test_data_set_0")
	os.Mkdir(set, 0o755)
	for _, f := range []string{"input_0.pb", "output_0.pb"} {
		name, x, err := onnx.ReadTensorFile(filepath.Join(src, "test_data_set_0", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "output_0.pb" {
			x.F32[0] += 0.01
		}
		if err := onnx.WriteTensorFile(filepath.Join(set, f), name, x); err != nil {
			t.Fatal(err)
		}
	}
	stdout, _, code := onnxkit(t, "verify", dir)
	if code != 1 || !strings.HasSuffix(stdout, "0 passed, 1 failed\n") || !strings.Contains(stdout, "FAIL") || !strings.Contains(stdout, "element 0") {
		t.Errorf("verify of a wrong output = exit %d, stdout %q; want exit 1 and a FAIL line naming element 0", code, stdout)
	}
}

func TestEvalPyTorchLeNet5(t *testing.T) {
	if _, err := mnist.Find(""); err != nil {
		t.Skip(err)
	}
	// PyTorch measured 97.63% for this export (testdata/pytorch/README.md).
	stdout, stderr, code := onnxkit(t, "eval", "../../testdata/pytorch/lenet5/model.onnx")
	if code != 0 || stdout != "test accuracy 97.63% (9763/10000)\n" {
		t.Errorf("onnxkit eval = exit %d, %q %q; want test accuracy 97.63%% (9763/10000)", code, stdout, stderr)
	}
}

func TestInspect(t *testing.T) {
	stdout, _, code := onnxkit(t, "inspect", "../../testdata/pytorch/lenet5/model.onnx")
	for _, want := range []string{"opsets:    ai.onnx 13", "input:     input float32[N x 1 x 28 x 28]",
		"output:    logits float32[N x 10]", "params:    61706", "runnable:  yes"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("onnxkit inspect: exit %d, output lacks %q:\n%s", code, want, stdout)
		}
	}
}

func TestRunWritesOutputs(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := onnxkit(t, "run", "-model", "../../testdata/pytorch/lenet5/model.onnx",
		"-input", "input=../../testdata/pytorch/lenet5/test_data_set_1/input_0.pb", "-output", dir)
	if code != 0 || stdout != "logits: float32[64x10]\n" {
		t.Fatalf("onnxkit run = exit %d, %q %q", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "output_0.pb")); err != nil {
		t.Error(err)
	}
}
