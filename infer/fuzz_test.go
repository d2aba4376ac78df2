package infer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// FuzzLoadRun feeds arbitrary bytes through the whole loading path (decode,
// plan) and, when a model loads, runs it once on small inputs made from the
// declared input shapes. Any input must give a result or an error: never a
// panic, a hang, or an allocation out of proportion to the input.
func FuzzLoadRun(f *testing.F) {
	for _, p := range []string{"../testdata/pytorch/lenet5/model.onnx", "../onnx/testdata/small.onnx", "../onnx/testdata/nested.onnx"} {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	seeds, _ := filepath.Glob("/usr/share/libonnx-testdata/data/node/test_*pad*/model.onnx")
	for _, p := range seeds[:min(len(seeds), 8)] {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	maxElements = 1 << 20 // outputs sized by values: at most 4 MiB of float32
	opts := onnx.DecodeOptions{MaxTensorBytes: 1 << 24}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := opts.Decode(data)
		if err != nil {
			return
		}
		s, err := NewSession(m)
		if err != nil {
			return
		}
		feeds := map[string]*tensor.Tensor{}
		for _, vi := range s.Inputs() {
			x := fuzzInput(vi)
			if x == nil {
				return
			}
			feeds[vi.Name] = x
		}
		s.Run(feeds) // an error is fine; a panic fails the fuzz run
	})
}

// fuzzInput makes a small input for a declared graph input: symbolic or
// unknown dims are 1, and nothing larger than 64 Ki elements is made.
func fuzzInput(vi *onnx.ValueInfo) *tensor.Tensor {
	if vi.DType == tensor.Invalid || !vi.HasShape || len(vi.Shape) > 8 {
		return nil
	}
	shape := make([]int, len(vi.Shape))
	n := 1
	for i, d := range vi.Shape {
		shape[i] = 1
		if d.Value > 0 {
			if d.Value > 1<<16 {
				return nil
			}
			shape[i] = int(d.Value)
		}
		n *= shape[i]
		if n > 1<<16 {
			return nil
		}
	}
	x := tensor.New(vi.DType, shape...)
	for i := range x.Len() {
		switch x.DType {
		case tensor.Float32:
			x.F32[i] = float32(i%7) - 3
		case tensor.Int64:
			x.I64[i] = int64(i % 3)
		}
	}
	return x
}
