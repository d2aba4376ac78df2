package infer

import (
	"fmt"

	"github.com/onnxkit/onnxkit/onnx"
)

// nodeError is an error about one node; its text names the node and op type:
// node "/conv1/Conv" (Conv): attribute "pads": want 4 values, got 3
type nodeError struct {
	Name, OpType string
	Err          error
}

func (e *nodeError) Error() string {
	return fmt.Sprintf("node %q (%s): %v", e.Name, e.OpType, e.Err)
}

func (e *nodeError) Unwrap() error { return e.Err }

// errorf returns a nodeError for n.
func errorf(n *onnx.Node, format string, args ...any) error {
	return &nodeError{Name: n.Name, OpType: n.OpType, Err: fmt.Errorf(format, args...)}
}

// attrs reads a node's attributes with type checks. The first error sticks:
// callers read every attribute, then check err once.
type attrs struct {
	n   *onnx.Node
	err error
}

func (a *attrs) get(name string, want onnx.AttrType) *onnx.Attribute {
	at := a.n.Attr(name)
	if at == nil {
		return nil
	}
	if at.Type != want && a.err == nil {
		a.err = errorf(a.n, "attribute %q: want type %v, got %v", name, want, at.Type)
		return nil
	}
	return at
}

// has reports whether the node carries the attribute.
func (a *attrs) has(name string) bool { return a.n.Attr(name) != nil }

func (a *attrs) int(name string, def int64) int64 {
	if at := a.get(name, onnx.AttrInt); at != nil {
		return at.I
	}
	return def
}

func (a *attrs) float(name string, def float32) float32 {
	if at := a.get(name, onnx.AttrFloat); at != nil {
		return at.F
	}
	return def
}

func (a *attrs) string(name, def string) string {
	if at := a.get(name, onnx.AttrString); at != nil {
		return string(at.S)
	}
	return def
}

// ints returns the attribute's values, or def when absent. If n >= 0 the
// attribute must hold exactly n values.
func (a *attrs) ints(name string, n int, def []int64) []int64 {
	at := a.get(name, onnx.AttrInts)
	if at == nil {
		return def
	}
	if n >= 0 && len(at.Ints) != n && a.err == nil {
		a.err = errorf(a.n, "attribute %q: want %d values, got %d", name, n, len(at.Ints))
	}
	return at.Ints
}

func (a *attrs) floats(name string, def []float32) []float32 {
	if at := a.get(name, onnx.AttrFloats); at != nil {
		return at.Floats
	}
	return def
}

// fail records an error about the node unless one is already recorded.
func (a *attrs) fail(format string, args ...any) {
	if a.err == nil {
		a.err = errorf(a.n, format, args...)
	}
}

// checkArity checks a node's input and output counts. Trailing inputs beyond
// minIn are optional; maxOut likewise for outputs (minimum one output).
func checkArity(n *onnx.Node, minIn, maxIn, maxOut int) error {
	if len(n.Inputs) < minIn || len(n.Inputs) > maxIn {
		if minIn == maxIn {
			return errorf(n, "want %d inputs, got %d", minIn, len(n.Inputs))
		}
		return errorf(n, "want %d to %d inputs, got %d", minIn, maxIn, len(n.Inputs))
	}
	for i := 0; i < minIn; i++ {
		if n.Inputs[i] == "" {
			return errorf(n, "input %d is required", i)
		}
	}
	if len(n.Outputs) < 1 || len(n.Outputs) > maxOut {
		return errorf(n, "want 1 to %d outputs, got %d", maxOut, len(n.Outputs))
	}
	return nil
}
