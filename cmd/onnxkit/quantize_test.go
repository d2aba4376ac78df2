package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// quantize -calibrate DIR writes the model that the quantize package's
// fixture holds (calibrated on the same 65 images), and refuses bad flags
// with exit status 2.
func TestQuantize(t *testing.T) {
	out := filepath.Join(t.TempDir(), "q.onnx")
	stdout, stderr, code := onnxkit(t, "quantize", "-calibrate", "../../testdata/pytorch/lenet5", "-per-channel", "-format", "qoperator",
		"../../testdata/pytorch/lenet5/model.onnx", out)
	if code != 0 || !strings.Contains(stdout, "16 -> 28 nodes, 2 calibration batches") {
		t.Fatalf("quantize = exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../quantize/testdata/lenet5_qoperator/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("quantize output differs from quantize/testdata/lenet5_qoperator/model.onnx")
	}
	for _, args := range [][]string{
		{"quantize", "-format", "qlinear", "a.onnx", "b.onnx"},
		{"quantize", "-method", "entropy", "a.onnx", "b.onnx"},
		{"quantize", "a.onnx"},
	} {
		if _, stderr, code := onnxkit(t, args...); code != 2 {
			t.Errorf("%v = exit %d (%s), want 2", args, code, stderr)
		}
	}
}
