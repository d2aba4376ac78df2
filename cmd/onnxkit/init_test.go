package main

import (
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/train"
)

// train -init fine-tunes a PyTorch export: it reports the accuracy before
// training (97.63% for this export, as PyTorch measured) and writes a model
// that eval reads back.
func TestTrainInitFromPyTorch(t *testing.T) {
	if _, err := mnist.Find(""); err != nil {
		t.Skip(err)
	}
	out := filepath.Join(t.TempDir(), "tuned.onnx")
	stdout, stderr, code := onnxkit(t, "train", "-init", "../../testdata/pytorch/lenet5/model.onnx",
		"-epochs", "1", "-limit", "500", "-out", out)
	if code != 0 || !strings.Contains(stdout, "before training: test accuracy 97.63%") || !strings.Contains(stdout, "epoch 1/1:") {
		t.Fatalf("train -init = exit %d, %q %q", code, stdout, stderr)
	}
	if stdout, _, code := onnxkit(t, "eval", out); code != 0 || !strings.HasPrefix(stdout, "test accuracy ") {
		t.Errorf("eval of the fine-tuned model = exit %d, %q", code, stdout)
	}
}

// A graph with no trainable form is refused with its nodes named.
func TestTrainInitRefusesUntrainable(t *testing.T) {
	model := "/usr/share/libonnx-testdata/data/node/test_sigmoid/model.onnx"
	if _, err := os.Stat(model); err != nil {
		t.Skip(err)
	}
	if _, err := mnist.Find(""); err != nil {
		t.Skip(err)
	}
	_, stderr, code := onnxkit(t, "train", "-init", model, "-epochs", "1", "-limit", "100", "-out", filepath.Join(t.TempDir(), "x.onnx"))
	if code != 1 || !strings.Contains(stderr, "test_sigmoid") || !strings.Contains(stderr, "FromONNX") {
		t.Errorf("train -init %s = exit %d, stderr %q; want a failure naming the file", model, code, stderr)
	}
}

// train -plot writes the curves as a PNG.
func TestTrainPlot(t *testing.T) {
	if _, err := mnist.Find(""); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	plot := filepath.Join(dir, "curves.png")
	stdout, stderr, code := onnxkit(t, "train", "-epochs", "2", "-limit", "300", "-plot", plot, "-out", filepath.Join(dir, "m.onnx"))
	if code != 0 || !strings.Contains(stdout, "wrote "+plot) {
		t.Fatalf("train -plot = exit %d, %q %q", code, stdout, stderr)
	}
	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("%s: %v", plot, err)
	}
}

// train -model best takes its recipe's batch size (128) unless -batch is
// given, and its export evaluates to the accuracy train printed.
func TestTrainBest(t *testing.T) {
	if _, err := mnist.Find(""); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "best.onnx")
	stdout, stderr, code := onnxkit(t, "train", "-model", "best", "-epochs", "1", "-limit", "300", "-out", out)
	if code != 0 {
		t.Fatalf("train -model best = exit %d, %q %q", code, stdout, stderr)
	}
	c, err := train.ReadCheckpoint(filepath.Join(dir, "best.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Recipe; r.Model != "best" || r.BatchSize != 128 || r.Optimizer != "sgd" {
		t.Errorf("checkpoint recipe %+v, want best's: sgd, batch 128", r)
	}
	acc := regexp.MustCompile(`test accuracy (\d+\.\d\d)%`).FindStringSubmatch(stdout)
	if acc == nil {
		t.Fatalf("no test accuracy in %q", stdout)
	}
	ev, stderr, code := onnxkit(t, "eval", out)
	if code != 0 || !strings.Contains(ev, "test accuracy "+acc[1]+"%") {
		t.Errorf("eval %s = exit %d, %q %q; want train's %s%%", out, code, ev, stderr, acc[1])
	}
}
