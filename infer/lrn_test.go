package infer

import (
	"math"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

func TestLRN(t *testing.T) {
	// X = [1, 2, 3] over 3 channels, size 3, alpha 3 (alpha/size = 1),
	// beta 1, bias 1. Windows: c0 {0,1}, c1 {0,1,2}, c2 {1,2}, so by hand
	// Y = [1/(1+1+4), 2/(1+1+4+9), 3/(1+4+9)].
	n := &onnx.Node{Name: "lrn", OpType: "LRN", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{
		{Name: "size", Type: onnx.AttrInt, I: 3}, {Name: "alpha", Type: onnx.AttrFloat, F: 3},
		{Name: "beta", Type: onnx.AttrFloat, F: 1}, {Name: "bias", Type: onnx.AttrFloat, F: 1},
	}}
	o, err := buildLRN(n, 13)
	if err != nil {
		t.Fatal(err)
	}
	y := &tensor.Tensor{}
	if err := o.run(&scratch{}, []*tensor.Tensor{tensor.FromFloat32([]float32{1, 2, 3}, 1, 3, 1, 1)}, []*tensor.Tensor{y}); err != nil {
		t.Fatal(err)
	}
	want := []float64{1.0 / 6, 2.0 / 15, 3.0 / 14}
	for i, w := range want {
		if math.Abs(float64(y.F32[i])-w) > 1e-7 {
			t.Errorf("LRN Y[%d] = %v, want %v", i, y.F32[i], w)
		}
	}
	n.Attrs = n.Attrs[1:] // no size
	if _, err := buildLRN(n, 13); err == nil || !strings.Contains(err.Error(), `node "lrn" (LRN)`) {
		t.Errorf("LRN without size: error %v, want one naming the node", err)
	}
}
