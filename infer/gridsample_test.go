package infer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestGridSampleNodeCases runs the official ONNX node cases of GridSample
// in both installed suites (opset 16 names and 4-D in the older one; 5-D
// volumetric, every mode, padding and align_corners in the newer): their
// expected outputs come from the ONNX reference implementation.
func TestGridSampleNodeCases(t *testing.T) {
	n := 0
	for _, root := range nodeTestDirs {
		dirs, _ := filepath.Glob(filepath.Join(root, "test_gridsample*"))
		for _, dir := range dirs {
			if strings.HasSuffix(dir, "_expanded") {
				continue
			}
			n++
			t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) { runNodeCase(t, dir) })
		}
	}
	if n == 0 {
		if _, err := os.Stat(nodeTestDirs[0]); err != nil {
			t.Skip("ONNX node test cases not installed")
		}
		t.Error("no test_gridsample* cases found")
	}
}

func TestGridSampleErrors(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
	for _, tc := range []struct {
		name    string
		opset   int64
		attrs   []*onnx.Attribute
		in      []*tensor.Tensor
		wantErr string
	}{
		{"mode", 20, []*onnx.Attribute{{Name: "mode", Type: onnx.AttrString, S: []byte("bilinear")}}, nil, `"mode"`},
		{"padding", 22, []*onnx.Attribute{{Name: "padding_mode", Type: onnx.AttrString, S: []byte("wrap")}}, nil, `"padding_mode"`},
		{"5-D at 16", 16, nil, []*tensor.Tensor{f(1, 1, 2, 2, 2), f(1, 1, 1, 1, 3)}, "rank"},
		{"grid last dim", 22, nil, []*tensor.Tensor{f(1, 1, 2, 2), f(1, 1, 1, 3)}, "grid"},
		{"int X", 22, nil, []*tensor.Tensor{tensor.New(tensor.Int64, 1, 1, 2, 2), f(1, 1, 1, 2)}, "input X"},
	} {
		n := &onnx.Node{Name: "gs", OpType: "GridSample", Inputs: []string{"x", "g"}, Outputs: []string{"y"}, Attrs: tc.attrs}
		o, err := buildGridSample(n, tc.opset)
		if err == nil {
			err = o.run(&scratch{}, tc.in, []*tensor.Tensor{{}})
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: GridSample error %v, want one containing %q", tc.name, err, tc.wantErr)
		}
	}
}
