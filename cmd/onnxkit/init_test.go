package main

import (
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/internal/digitfolder"
	"github.com/onnxkit/onnxkit/mnist"
	"github.com/onnxkit/onnxkit/train"
)

// train -init fine-tunes a PyTorch export: it reports the accuracy before
// training (97.63% for this export, as PyTorch measured) and writes a model
// that eval reads back. The export records no recipe: -model names it.
func TestTrainInitFromPyTorch(t *testing.T) {
	if _, err := mnist.Find(""); err != nil {
		t.Skip(err)
	}
	out := filepath.Join(t.TempDir(), "tuned.onnx")
	stdout, stderr, code := onnxkit(t, "train", "-init", "../../testdata/pytorch/lenet5/model.onnx", "-model", "lenet5",
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

// train -init on an export that records no recipe (PyTorch's MLP) is a
// usage error that says what to give, not a run with LeNet5's recipe.
func TestTrainInitNeedsRecipe(t *testing.T) {
	_, stderr, code := onnxkit(t, "train", "-init", "../../testdata/pytorch/mlp/model.onnx", "-epochs", "1",
		"-out", filepath.Join(t.TempDir(), "x.onnx"))
	if code != 2 || !strings.Contains(stderr, "records no recipe") || !strings.Contains(stderr, "-optimizer") {
		t.Errorf("train -init mlp export = exit %d, stderr %q; want a usage error asking for -optimizer", code, stderr)
	}
	_, stderr, code = onnxkit(t, "train", "-freeze", "fc1", "-epochs", "1")
	if code != 2 || !strings.Contains(stderr, "-freeze needs -init") {
		t.Errorf("train -freeze without -init = exit %d, stderr %q", code, stderr)
	}
}

// A small torchvision-style ResNet export (scripts/make_resnet_small.py,
// 7 classes, 3x32x32) fine-tunes on a folder of 10 digit classes: the
// images are resized to its input, its last Gemm is replaced by a 10-class
// head, everything before layer2 stays frozen, and predict on the export
// prints a class folder's name.
func TestTrainInitResNetOnFolder(t *testing.T) {
	trainSet, testSet, err := mnist.Load("")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "digits")
	if err := digitfolder.Write(data, trainSet, testSet, digitfolder.Options{Train: 300, Test: 50, Size: 28, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "tuned.onnx")
	stdout, stderr, code := onnxkit(t, "train", "-init", "../../testdata/pytorch/resnet_small/model.onnx", "-data", data,
		"-optimizer", "adam", "-freeze", "/layer2/conv1/Conv", "-epochs", "1", "-batch", "20", "-out", out)
	if code != 0 || !strings.Contains(stdout, "replaced the model's last Linear layer (7 classes) by a new one for the data's 10") ||
		!strings.Contains(stdout, "epoch 1/1:") {
		t.Fatalf("train -init resnet_small -data = exit %d, %q %q", code, stdout, stderr)
	}
	img := filepath.Join(data, "test", "seven", "00000.png")
	stdout, stderr, code = onnxkit(t, "predict", "-model", out, img)
	names := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	ok := false
	for _, n := range names {
		ok = ok || strings.HasPrefix(stdout, img+": "+n+" (")
	}
	if code != 0 || !ok {
		t.Errorf("predict %s = exit %d, %q %q; want a class name", img, code, stdout, stderr)
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
