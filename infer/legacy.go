package infer

import (
	"fmt"
	"slices"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// legacyBcast is the limited broadcasting of Add, Sub, Mul, Div, Pow,
// Equal, Less and Greater before opset 7. Without broadcast=1 the two inputs
// must have the same shape. With it, B is broadcast onto A: B has one
// element, or B's shape is a contiguous run of A's dimensions starting at
// axis (suffix matching when axis is absent). The output has A's shape.
// A dimension of B that is 1 also matches (numpy would broadcast it, and so
// does ONNX's own converter of these ops to opset 7).
type legacyBcast struct {
	broadcast bool
	axis      int64
	hasAxis   bool
}

// legacyBcastFor reads the broadcast and axis attributes (and opset 1's
// consumed_inputs, which has no effect) of a binary op before opset 7; from
// opset 7 on it returns nil: numpy broadcasting.
func legacyBcastFor(n *onnx.Node, opset int64) (*legacyBcast, error) {
	if opset >= 7 {
		return nil, nil
	}
	a := attrs{n: n}
	l := &legacyBcast{}
	switch b := a.int("broadcast", 0); b {
	case 0, 1:
		l.broadcast = b == 1
	default:
		a.fail("attribute \"broadcast\": want 0 or 1, got %d", b)
	}
	l.hasAxis = a.has("axis")
	l.axis = a.int("axis", 0)
	a.ints("consumed_inputs", -1, nil)
	return l, a.err
}

// alignB returns B's shape aligned to A for numpy broadcasting: B's
// dimensions followed by ones for A's dimensions after the matched run (so
// that right-aligned broadcasting puts B at its axis). The result is built
// in buf when it is large enough. A one-element B gives an empty shape.
func (l *legacyBcast) alignB(buf, a, b []int) ([]int, error) {
	if !l.broadcast {
		if !slices.Equal(a, b) {
			return nil, fmt.Errorf("shapes %s and %s differ and broadcast is 0", tensor.ShapeString(a), tensor.ShapeString(b))
		}
		return b, nil
	}
	if len(b) > len(a) {
		return nil, fmt.Errorf("B %s has a higher rank than A %s", tensor.ShapeString(b), tensor.ShapeString(a))
	}
	if tensor.NumElements(b) == 1 {
		return buf[:0], nil
	}
	start := len(a) - len(b)
	if l.hasAxis {
		ax := l.axis
		if ax < 0 {
			ax += int64(len(a))
		}
		if ax < 0 || ax > int64(len(a)-len(b)) {
			return nil, fmt.Errorf("axis %d: B %s does not fit in A %s there", l.axis, tensor.ShapeString(b), tensor.ShapeString(a))
		}
		start = int(ax)
	}
	n := len(a) - start
	out := buf[:0]
	if cap(out) < n {
		out = make([]int, 0, n)
	}
	for i, d := range b {
		if d != a[start+i] && d != 1 {
			return nil, fmt.Errorf("B %s does not match A %s from axis %d", tensor.ShapeString(b), tensor.ShapeString(a), start)
		}
		out = append(out, d)
	}
	for len(out) < n {
		out = append(out, 1)
	}
	return out, nil
}
