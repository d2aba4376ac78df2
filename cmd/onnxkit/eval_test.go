package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/onnx"
)

func TestEvalPictures(t *testing.T) {
	if _, err := mnist.Find(""); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	cm, errs := filepath.Join(dir, "cm.png"), filepath.Join(dir, "errors.png")
	stdout, stderr, code := onnxkit(t, "eval", "-confusion", cm, "-errors", errs, "-max-errors", "16", lenet5)
	if code != 0 || stderr != "" {
		t.Fatalf("onnxkit eval -confusion -errors = exit %d, stderr %q", code, stderr)
	}
	// PyTorch's predictions for this export (lenet5/predictions.pb) give
	// 9763 right; its confusion matrix row for 1 was checked against them:
	// 1124 right, 5 taken for 8.
	for _, want := range []string{
		"test accuracy 97.63% (9763/10000)\n",
		"true \\ predicted    0    1    2    3    4    5    6    7    8    9   correct\n",
		"               1    0 1124    2    1    0    1    2    0    5    0    99.03%\n",
		"wrote " + cm + "\n",
		"wrote " + errs + ": 16 of the 237 misclassified digits\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("onnxkit eval -confusion: output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{cm, errs} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestEvalJSON(t *testing.T) {
	if _, err := mnist.Find(""); err != nil {
		t.Skip(err)
	}
	stdout, _, code := onnxkit(t, "eval", "-json", lenet5)
	var got struct {
		Accuracy       float64
		Correct, Total int
		Confusion      [][]int
		Misclassified  []struct{ Index, Predicted, True int }
	}
	if err := json.Unmarshal([]byte(stdout), &got); code != 0 || err != nil {
		t.Fatalf("onnxkit eval -json = exit %d, %v", code, err)
	}
	sum, diag := 0, 0
	for i, row := range got.Confusion {
		for _, v := range row {
			sum += v
		}
		diag += row[i]
	}
	if got.Correct != 9763 || got.Total != 10000 || got.Accuracy != 0.9763 || len(got.Confusion) != 10 || sum != 10000 ||
		diag != 9763 || len(got.Misclassified) != 237 {
		t.Errorf("eval -json = accuracy %v, %d/%d, confusion of %d rows summing to %d (diagonal %d), %d misclassified; want 0.9763, 9763/10000, 10 rows summing to 10000, 237",
			got.Accuracy, got.Correct, got.Total, len(got.Confusion), sum, diag, len(got.Misclassified))
	}
	// The first test image PyTorch gets wrong: index and classes must agree
	// with the confusion matrix's row.
	if m := got.Misclassified[0]; m.Predicted == m.True || got.Confusion[m.True][m.Predicted] == 0 {
		t.Errorf("eval -json: misclassified %+v not in the confusion matrix", m)
	}
}

func TestOps(t *testing.T) {
	stdout, _, code := onnxkit(t, "ops", "-markdown")
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if code != 0 || lines[0] != "| op | opsets |" || len(lines) != 2+len(infer.Ops()) || !strings.Contains(stdout, "\n| Conv | 1+ |\n") {
		t.Errorf("onnxkit ops -markdown = exit %d:\n%s", code, stdout)
	}
	stdout, _, code = onnxkit(t, "ops", "-json")
	var got struct {
		Domain string
		Ops    []struct {
			Op    string
			Since int64
		}
	}
	if err := json.Unmarshal([]byte(stdout), &got); code != 0 || err != nil || got.Domain != "ai.onnx" || len(got.Ops) != len(infer.Ops()) {
		t.Errorf("onnxkit ops -json = exit %d, %v: %+v", code, err, got)
	}
}

func TestProgressOffTerminal(t *testing.T) {
	// Tests write stderr to a buffer: no bar, and nothing written.
	var buf bytes.Buffer
	stderr = &buf
	p := newProgress(100, "x")
	p.add(10)
	p.describe("y")
	p.reset()
	p.done()
	var nilBar *progress
	nilBar.add(1)
	nilBar.done()
	if p.bar != nil || buf.Len() != 0 {
		t.Errorf("newProgress with stderr a buffer made a bar or wrote %q", buf.String())
	}
}

// TestEvalRefusesBadPreprocessingAndNaN checks what eval used to accept:
// metadata with std=Inf or mean=NaN (which train refuses), and a model
// whose NaN outputs were scored as class 0.
func TestEvalRefusesBadPreprocessingAndNaN(t *testing.T) {
	if _, err := mnist.Find(""); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	write := func(name string, edit func(m *onnx.Model)) string {
		m, err := onnx.ReadFile(lenet5)
		if err != nil {
			t.Fatal(err)
		}
		edit(m)
		path := filepath.Join(dir, name)
		if err := onnx.WriteFile(path, m); err != nil {
			t.Fatal(err)
		}
		return path
	}
	meta := func(mean, std string) func(m *onnx.Model) {
		return func(m *onnx.Model) {
			m.Metadata = append(m.Metadata, onnx.StringPair{Key: onnx.MetaMean, Value: mean}, onnx.StringPair{Key: onnx.MetaStd, Value: std})
		}
	}
	nanBias := func(m *onnx.Model) {
		for _, init := range m.Graph.Initializers {
			if strings.HasSuffix(init.Name, "bias") {
				init.Tensor.F32[0] = float32(math.NaN())
				return
			}
		}
		t.Fatal("no bias in the LeNet5 export")
	}
	for _, tc := range []struct {
		name string
		edit func(m *onnx.Model)
		want string
	}{
		{"inf-std.onnx", meta("0", "Inf"), "std +Inf: want a finite number > 0"},
		{"nan-mean.onnx", meta("NaN", "1"), "mean NaN: want a finite number"},
		{"nan-out.onnx", nanBias, `has NaN scores for 10000 of 10000 images (the first is image 0); not scored`},
	} {
		path := write(tc.name, tc.edit)
		_, stderr, code := onnxkit(t, "eval", path)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("onnxkit eval %s = exit %d, %q; want exit 1 and %q", tc.name, code, stderr, tc.want)
		}
	}
}
