package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/verify"
)

// convert writes a model that gives PyTorch's logits (testdata/pytorch) at
// the new opset; a refused or failed conversion leaves OUT as it was.
func TestConvert(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "lenet5-11", "model.onnx")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := onnxkit(t, "convert", "-opset", "11", "../../testdata/pytorch/lenet5/model.onnx", out)
	if code != 0 || !strings.Contains(stdout, "opset 13 -> 11") {
		t.Fatalf("convert = exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, set := range []string{"test_data_set_0", "test_data_set_1"} {
		if err := os.CopyFS(filepath.Join(dir, "lenet5-11", set), os.DirFS(filepath.Join("../../testdata/pytorch/lenet5", set))); err != nil {
			t.Fatal(err)
		}
	}
	if r := verify.Case(filepath.Dir(out), verify.Tolerance{Rtol: 1e-4, Atol: 1e-5}); !r.Passed() {
		t.Errorf("converted model: %v", r.Err)
	}
	m, err := onnx.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Opset(""); v != 11 {
		t.Errorf("opset %d, want 11", v)
	}

	// A refusal: opset 7 has no Shape start/end, so nothing is written.
	before, _ := os.ReadFile(out)
	bad := filepath.Join(dir, "shape.onnx")
	m.Graph.Nodes = append(m.Graph.Nodes, &onnx.Node{Name: "sh", OpType: "Shape", Inputs: []string{"input"}, Outputs: []string{"s"},
		Attrs: []*onnx.Attribute{{Name: "start", Type: onnx.AttrInt, I: 1}}})
	m.OpsetImports[0].Version = 15
	if err := onnx.WriteFile(bad, m); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = onnxkit(t, "convert", "-opset", "11", bad, out)
	if code != 1 || !strings.Contains(stderr, `node "sh" (Shape)`) {
		t.Errorf("convert of a Shape with start = exit %d, stderr %q; want exit 1 naming the node", code, stderr)
	}
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Error("a refused conversion changed OUT")
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 3 {
		t.Errorf("%d entries next to OUT, want model.onnx and the two data sets (no temporary file)", len(entries))
	}

	for _, args := range [][]string{
		{"convert", "in.onnx"},
		{"convert", "-opset", "22", "in.onnx", "out.onnx"},
		{"convert", "-batch", "-1", "in.onnx", "out.onnx"},
	} {
		if _, stderr, code := onnxkit(t, args...); code != 2 {
			t.Errorf("onnxkit %q = exit %d, stderr %q; want 2", args, code, stderr)
		}
	}
	if _, stderr, code := onnxkit(t, "convert", "-for", "tflite", "../../testdata/pytorch/mlp/model.onnx", filepath.Join(dir, "x.onnx")); code != 1 || !strings.Contains(stderr, `unknown target "tflite"`) {
		t.Errorf("convert -for tflite = exit %d, stderr %q", code, stderr)
	}
}
