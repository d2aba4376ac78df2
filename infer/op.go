package infer

import (
	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// op is a node whose attributes were parsed once, at load. run computes the
// outputs from the inputs. An absent optional input is nil in in. Each out
// tensor is owned by the session's run state and is reused from run to run:
// an op sets its dtype and shape with Resize (which keeps the backing array
// when it is large enough) and fills it. An op must not keep references to
// in or out after run returns, and must not modify in (the ops that only
// change a shape share their input's elements, see reshaper). run may be called from
// several goroutines at once, each with its own s, in and out.
type op interface {
	run(s *scratch, in, out []*tensor.Tensor) error
}

// builder parses a node's attributes for the given opset version of its
// domain and checks its input and output counts.
type builder func(n *onnx.Node, opset int64) (op, error)

// scratch is per-node, per-run-state working memory that lasts across runs.
type scratch struct {
	f32 []float32
	// shared, when set, is where floats keeps its slice instead of f32,
	// and sharedMid the tensor midValue returns instead of mid: the run's
	// one buffer for the scratch of all its nodes, which run one at a time.
	shared    *[]float32
	sharedMid *tensor.Tensor
	par       *parallel // parallelFor's bookkeeping
	task      any       // the op's rangeTask for parallelFor (see taskOf)
	// For an op with another fused into it: the value between the two,
	// the second op's arguments and its own scratch.
	mid   tensor.Tensor
	args  [2]*tensor.Tensor
	inner *scratch
	// For a node computing float16 or bfloat16 through float32 (narrow.go).
	narrow *narrowBufs
}

// midValue returns the tensor for the value between an op and the one
// fused into it.
func (s *scratch) midValue() *tensor.Tensor {
	if s.sharedMid != nil {
		return s.sharedMid
	}
	return &s.mid
}

// floats returns a slice of n float32s (contents unspecified), reusing the
// previous allocation when it is large enough.
func (s *scratch) floats(n int) []float32 {
	f := &s.f32
	if s.shared != nil {
		f = s.shared
	}
	if cap(*f) < n {
		*f = make([]float32, n)
	}
	return (*f)[:n]
}
