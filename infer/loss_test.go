package infer

import (
	"path/filepath"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestLoss: expected values are the spec's formulas worked by hand; the
// node suite's test_nllloss_* and test_sce_* cases (all of them pass in
// verify/testdata/conformance.txt) check the ops on larger tensors.
func TestLoss(t *testing.T) {
	s := func(v ...int) []int { return v }
	red := func(r string) *onnx.Attribute {
		return &onnx.Attribute{Name: "reduction", Type: onnx.AttrString, S: []byte(r)}
	}
	// Log-probabilities [[-1 -2] [-3 -4]], targets [1 0]: losses [2 3].
	x := ewF32(s(2, 2), -1, -2, -3, -4)
	tg := ewI64(s(2), 1, 0)
	ewRunCases(t, []ewCase{
		{name: "nll none", op: "NegativeLogLikelihoodLoss", opset: 13, attrs: []*onnx.Attribute{red("none")},
			in: []*tensor.Tensor{x, tg}, want: []*tensor.Tensor{ewF32(s(2), 2, 3)}},
		{name: "nll sum", op: "NegativeLogLikelihoodLoss", opset: 13, attrs: []*onnx.Attribute{red("sum")},
			in: []*tensor.Tensor{x, tg}, want: []*tensor.Tensor{ewF32(nil, 5)}},
		{name: "nll mean", op: "NegativeLogLikelihoodLoss", opset: 22,
			in: []*tensor.Tensor{x, tg}, want: []*tensor.Tensor{ewF32(nil, 2.5)}},
		// weight [1 3]: losses [2*3 3*1], mean 9/(3+1).
		{name: "nll weight mean", op: "NegativeLogLikelihoodLoss", opset: 12,
			in: []*tensor.Tensor{x, ewT(tensor.Int32, s(2), 1, 0), ewF32(s(2), 1, 3)}, want: []*tensor.Tensor{ewF32(nil, 2.25)}},
		// ignore_index 1 drops sample 0: mean 3/1.
		{name: "nll ignore", op: "NegativeLogLikelihoodLoss", opset: 13, attrs: []*onnx.Attribute{ewInt("ignore_index", 1)},
			in: []*tensor.Tensor{x, tg}, want: []*tensor.Tensor{ewF32(nil, 3)}},
		// (N, C, d1) = (1, 2, 2): targets [0 1] pick -1 at d 0 and -4 at d 1.
		{name: "nll 3d", op: "NegativeLogLikelihoodLoss", opset: 13, attrs: []*onnx.Attribute{red("none")},
			in: []*tensor.Tensor{ewF32(s(1, 2, 2), -1, -2, -3, -4), ewI64(s(1, 2), 0, 1)}, want: []*tensor.Tensor{ewF32(s(1, 2), 1, 4)}},
		{name: "nll target range", op: "NegativeLogLikelihoodLoss", opset: 13, in: []*tensor.Tensor{x, ewI64(s(2), 2, 0)}, err: "class 2 out of range"},
		{name: "nll target shape", op: "NegativeLogLikelihoodLoss", opset: 13, in: []*tensor.Tensor{x, ewI64(s(3), 0, 0, 0)}, err: "target"},
		{name: "nll reduction", op: "NegativeLogLikelihoodLoss", opset: 13, attrs: []*onnx.Attribute{red("max")}, in: []*tensor.Tensor{x, tg}, err: "reduction"},
		// Scores [0 0] and [0 ln 3]: log-softmax [-ln 2, -ln 2] and [-ln 4, ln 3 - ln 4] = [-1.3862944 -0.2876821].
		{name: "sce log_prob", op: "SoftmaxCrossEntropyLoss", opset: 13, attrs: []*onnx.Attribute{red("none")},
			in:   []*tensor.Tensor{ewF32(s(2, 2), 0, 0, 0, 1.0986123), ewI64(s(2), 0, 1)},
			want: []*tensor.Tensor{ewF32(s(2), 0.6931472, 0.2876821), ewF32(s(2, 2), -0.6931472, -0.6931472, -1.3862944, -0.2876821)}},
		{name: "sce f64 sum", op: "SoftmaxCrossEntropyLoss", opset: 12, attrs: []*onnx.Attribute{red("sum")},
			in:   []*tensor.Tensor{ewT(tensor.Float64, s(2, 2), 0, 0, 0, 1.0986122886681098), ewI64(s(2), 0, 1)},
			want: []*tensor.Tensor{ewT(tensor.Float64, nil, 0.9808292530117262)}},
		{name: "sce int scores", op: "SoftmaxCrossEntropyLoss", opset: 13, in: []*tensor.Tensor{ewI64(s(1, 2), 0, 0), ewI64(s(1), 0)}, err: "want float32 or float64"},
	})
}

// TestLossOnnxruntime checks the losses (weights with ignore_index on 4-D
// scores, int32 targets, float64, every sample ignored: NaN), RMS and Lp
// normalization (zero norms, float64 X with stash_type 1 and 11, broadcast
// scale) and int8/uint8 bitwise ops against onnxruntime 1.30's outputs, at
// rtol 1e-5, atol 1e-6 (fixtures from scripts/make_loss_ort_cases.py and
// scripts/ort_run.js --write).
func TestLossOnnxruntime(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "loss_ort", "*"))
	if len(dirs) != 15 {
		t.Fatalf("found %d cases under testdata/loss_ort, want 15", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { runNodeCaseTol(t, dir, 1e-5, 1e-6) })
	}
}
