package verify

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/infer"
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// The classic architectures of ONNX's light suite (weights replaced by
// ConstantOfShape) match the outputs stored beside them. The input is the
// ONNX runner's: the single float input with unknown dims taken as 1,
// arange(n).reshape(shape) / n. Tolerance as ONNX uses for them: rtol 1e-3
// (densenet121: 2e-3), atol 1e-7.
func TestLightModels(t *testing.T) {
	if testing.Short() {
		t.Skip("large models skipped in -short mode")
	}
	dir := "../../shared/onnx-conformance/light"
	models, _ := filepath.Glob(filepath.Join(dir, "light_*.onnx"))
	if len(models) == 0 {
		t.Skipf("no light models in %s", dir)
	}
	for _, path := range models {
		name := strings.TrimSuffix(filepath.Base(path), ".onnx")
		t.Run(name, func(t *testing.T) {
			s, err := infer.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Inputs()) != 1 {
				t.Fatalf("%d inputs, want 1", len(s.Inputs()))
			}
			in := s.Inputs()[0]
			shape := make([]int, len(in.Shape))
			for i, d := range in.Shape {
				shape[i] = 1
				if d.Value > 0 {
					shape[i] = int(d.Value)
				}
			}
			x := tensor.New(tensor.Float32, shape...)
			n := float32(x.Len())
			for i := range x.F32 {
				x.F32[i] = float32(i) / n
			}
			_, want, err := onnx.ReadTensorFile(filepath.Join(dir, name+"_output_0.pb"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Run(map[string]*tensor.Tensor{in.Name: x})
			if err != nil {
				t.Fatal(err)
			}
			tol := Tolerance{Rtol: 1e-3, Atol: 1e-7}
			if strings.Contains(name, "densenet121") {
				tol.Rtol = 2e-3
			}
			d, err := Compare(got[s.Outputs()[0].Name], want, tol)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("max abs %.3g, max rel %.3g", d.MaxAbs, d.MaxRel)
		})
	}
}
