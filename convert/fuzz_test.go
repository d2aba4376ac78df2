package convert_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxkit/onnxkit/convert"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// Convert never panics, whatever model decodes; what it returns passes
// onnx.Check.
func FuzzConvert(f *testing.F) {
	// Small seeds: the official cases of the ops Convert rewrites most.
	for _, c := range []string{"test_softmax_axis_1", "test_reshape_negative_dim", "test_squeeze", "test_pad",
		"test_clip", "test_split_equal_parts_1d", "test_averagepool_2d_pads", "test_slice", "test_dropout_default",
		"test_reduce_sum_keepdims_example", "test_upsample_nearest", "test_resize_upsample_scales_linear"} {
		if b, err := os.ReadFile(filepath.Join("/usr/share/libonnx-testdata/data/node", c, "model.onnx")); err == nil {
			f.Add(b)
		}
	}
	for _, m := range []*onnx.Model{
		model(11, []*onnx.ValueInfo{f32Input("x", -1, 2, 3, 4)}, []*onnx.Initializer{{Name: "p", Tensor: tensor.FromInt64([]int64{0, 0, 1, 1, 0, 0, 1, 1}, 8)}},
			node("pad", "Pad", []string{"x", "p"}, []string{"xp"}),
			node("ap", "AveragePool", []string{"xp"}, []string{"a"}, ints("kernel_shape", 2, 2)),
			node("sm", "Softmax", []string{"a"}, []string{"y"}, intA("axis", 2))),
	} {
		b, err := onnx.Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := onnx.Decode(b)
		if err != nil {
			return
		}
		for _, o := range []convert.Options{{Opset: 7}, {Opset: 21}, {Target: "onnx-go"}, {Target: "onnx-go", Batch: 3}} {
			c, err := convert.Convert(m, o)
			if err != nil {
				continue
			}
			if err := onnx.Check(c); err != nil {
				t.Errorf("Convert(%+v) returned a model that fails onnx.Check: %v", o, err)
			}
		}
	})
}
