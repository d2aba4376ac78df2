package infer

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

func TestBatchNormHand(t *testing.T) {
	// X is 1x2x1x2 = [[1 2] [3 4]]; scale [1 2], B [0 1], mean [1 2],
	// var [1 4], epsilon 0. Channel 0: (x-1)/1*1+0 = [0 1]; channel 1:
	// (x-2)/2*2+1 = [2 3].
	x := tensor.FromFloat32([]float32{1, 2, 3, 4}, 1, 2, 1, 2)
	p := func(v ...float32) *tensor.Tensor { return tensor.FromFloat32(v, len(v)) }
	for _, opset := range []int64{7, 9, 14, 15} {
		got, err := runOp("BatchNormalization", opset, []*onnx.Attribute{aFloat("epsilon", 0)}, 1,
			x, p(1, 2), p(0, 1), p(1, 2), p(1, 4))
		if err != nil {
			t.Fatalf("opset %d: %v", opset, err)
		}
		checkClose(t, "BatchNormalization", got[0], tensor.FromFloat32([]float32{0, 1, 2, 3}, 1, 2, 1, 2), 1e-6)
	}
	// spatial=0 (opset 7): parameters per activation, shape C x W = 2x2.
	// Element i: (x_i - mean_i)/sqrt(var_i)*scale_i + B_i with mean 1, var
	// 4, scale 2, B [0 1 2 3]: (x-1)/2*2 + B = x-1+B = [0 2 4 6].
	q := func(v ...float32) *tensor.Tensor { return tensor.FromFloat32(v, 2, 2) }
	got, err := runOp("BatchNormalization", 7, []*onnx.Attribute{aFloat("epsilon", 0), aInt("spatial", 0)}, 1,
		tensor.FromFloat32([]float32{1, 2, 3, 4}, 1, 2, 2), q(2, 2, 2, 2), q(0, 1, 2, 3), q(1, 1, 1, 1), q(4, 4, 4, 4))
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "BatchNormalization spatial=0", got[0], tensor.FromFloat32([]float32{0, 2, 4, 6}, 1, 2, 2), 1e-6)
}

func TestBatchNormErrors(t *testing.T) {
	x := tensor.New(tensor.Float32, 1, 2, 3)
	p2, p3 := tensor.New(tensor.Float32, 2), tensor.New(tensor.Float32, 3)
	_, err := runOp("BatchNormalization", 15, nil, 1, x, p2, p2, p3, p2)
	if err == nil || !strings.Contains(err.Error(), `node "n" (BatchNormalization): input mean is float32[3], want float32 with 2 elements`) {
		t.Errorf("BatchNormalization(bad mean) error = %v", err)
	}
	_, err = runOp("BatchNormalization", 15, []*onnx.Attribute{aInt("training_mode", 1)}, 1, x, p2, p2, p2, p2)
	var ue *UnsupportedOpsError
	if !errors.As(err, &ue) || ue.Ops[0].Reason != "training_mode=1" {
		t.Errorf("BatchNormalization(training_mode=1) error = %v, want UnsupportedOpsError", err)
	}
	_, err = runOp("BatchNormalization", 9, nil, 3, x, p2, p2, p2, p2)
	if !errors.As(err, &ue) {
		t.Errorf("BatchNormalization(opset 9, 3 outputs) error = %v, want UnsupportedOpsError", err)
	}
	_, err = runOp("BatchNormalization", 15, []*onnx.Attribute{aInt("spatial", 0)}, 1, x, p2, p2, p2, p2)
	if err == nil || !strings.Contains(err.Error(), `attribute "spatial" is not supported by this opset version`) {
		t.Errorf("BatchNormalization(spatial at 15) error = %v", err)
	}
}

// The float32 BatchNormalization (vectorized: a fill with the shift, then
// kernel.AxpyRows) gives b + float32(x*a) with a and b rounded from their
// float64 values, bit for bit, on planes of 1 to 40 elements.
func TestBatchNormFloat32Bits(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, inner := range []int{1, 7, 8, 9, 40} {
		x, sc, bi, mean, v := randTensor(rng, 2, 3, inner), randTensor(rng, 3), randTensor(rng, 3), randTensor(rng, 3), randTensor(rng, 3)
		for i := range v.F32 {
			v.F32[i] = float32(math.Abs(float64(v.F32[i]))) + 0.1
		}
		got, err := runOp("BatchNormalization", 15, []*onnx.Attribute{aFloat("epsilon", 1e-5)}, 1, x, sc, bi, mean, v)
		if err != nil {
			t.Fatal(err)
		}
		for i, xv := range x.F32 {
			c := i / inner % 3
			a := float64(sc.F32[c]) / math.Sqrt(float64(v.F32[c])+float64(float32(1e-5)))
			b := float64(bi.F32[c]) - float64(mean.F32[c])*a
			want := float32(b) + float32(xv*float32(a))
			if g := got[0].F32[i]; math.Float32bits(g) != math.Float32bits(want) {
				t.Fatalf("inner %d: element %d = %v, want %v", inner, i, g, want)
			}
		}
	}
}

// TestRMSLpNorm: expected values are the spec's formulas worked by hand
// (RMSNormalization: x / sqrt(mean(x^2) + epsilon) * scale; LpNormalization:
// x / ||x||_p along axis); the node suite's test_rms_normalization_* and
// test_lpnormalization_default cases check the same ops on larger tensors.
func TestRMSLpNorm(t *testing.T) {
	s := func(v ...int) []int { return v }
	f64 := func(shape []int, v ...float64) *tensor.Tensor { return ewT(tensor.Float64, shape, v...) }
	ewRunCases(t, []ewCase{
		// rms([3 4]) = sqrt(12.5) = 3.5355339; [3 4]/3.5355339 = [0.8485281 1.1313708], times [1 2].
		{name: "rms last axis", op: "RMSNormalization", opset: 23, attrs: []*onnx.Attribute{ewFloat("epsilon", 0)},
			in:   []*tensor.Tensor{ewF32(s(2, 2), 3, 4, 0, 2), ewF32(s(2), 1, 2)},
			want: []*tensor.Tensor{ewF32(s(2, 2), 0.8485281, 2.2627417, 0, 2.8284271)}},
		// axis 0 over all 4 values: mean(x^2) = (9+16+0+4)/4 = 7.25, +1 = 8.25; 1/sqrt(8.25) = 0.34815531.
		{name: "rms axis 0 f64 stash 11", op: "RMSNormalization", opset: 23,
			attrs: []*onnx.Attribute{ewInt("axis", 0), ewFloat("epsilon", 1), ewInt("stash_type", 11)},
			in:    []*tensor.Tensor{f64(s(2, 2), 3, 4, 0, 2), f64(nil, 1)},
			want:  []*tensor.Tensor{f64(s(2, 2), 1.04446593, 1.39262124, 0, 0.69631062)}},
		{name: "rms stash 10", op: "RMSNormalization", opset: 23, attrs: []*onnx.Attribute{ewInt("stash_type", 10)},
			in: []*tensor.Tensor{ewF32(s(1), 1), ewF32(s(1), 1)}, err: "stash_type"},
		// p 2 along axis 1: [3 4]/5; p 1 along axis 0: [1 3]/4 (column 0), [2 2]/4 (column 1).
		{name: "lp2", op: "LpNormalization", opset: 22, in: []*tensor.Tensor{ewF32(s(1, 2), 3, 4)},
			want: []*tensor.Tensor{ewF32(s(1, 2), 0.6, 0.8)}},
		{name: "lp1 axis 0", op: "LpNormalization", opset: 1, attrs: []*onnx.Attribute{ewInt("p", 1), ewInt("axis", 0)},
			in: []*tensor.Tensor{f64(s(2, 2), 1, 2, -3, 2)}, want: []*tensor.Tensor{f64(s(2, 2), 0.25, 0.5, -0.75, 0.5)}},
		// A zero norm gives zeros, as in the node suite's test_l2normalization_axis_0.
		{name: "lp2 zero", op: "LpNormalization", opset: 22, in: []*tensor.Tensor{ewF32(s(2, 2), 0, 0, 3, 4)},
			want: []*tensor.Tensor{ewF32(s(2, 2), 0, 0, 0.6, 0.8)}},
		{name: "lp3", op: "LpNormalization", opset: 22, attrs: []*onnx.Attribute{ewInt("p", 3)},
			in: []*tensor.Tensor{ewF32(s(1), 1)}, err: `"p"`},
		{name: "lp axis", op: "LpNormalization", opset: 22, attrs: []*onnx.Attribute{ewInt("axis", 2)},
			in: []*tensor.Tensor{ewF32(s(1), 1)}, err: "axis 2"},
	})
}
