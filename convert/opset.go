package convert

import (
	"fmt"
	"strconv"

	"github.com/onnxkit/onnxkit/onnx"
)

// step rewrites one node across one version boundary of its operator. It
// changes n in place and may return nodes to put before and after it.
type step func(r *rewriter, n *onnx.Node, v int64) (before, after []*onnx.Node, err error)

// adapter converts across the boundary "Op@v": up from the version before v
// to version v, down from v to the version before. A nil direction means
// nothing to do.
type adapter struct{ up, down step }

// dropped is the op type a step gives a node it has replaced entirely.
const dropped = ""

// versionAt is the version of op in effect at opset: the largest since
// version not above it, 0 when the op does not exist there.
func versionAt(op string, opset int64) int64 {
	if d, ok := deprecatedSince[op]; ok && opset >= d {
		return 0
	}
	var v int64
	for _, s := range sinceVersions[op] {
		if s <= opset {
			v = s
		}
	}
	return v
}

// changesAt reports whether op has a version boundary at v.
func changesAt(op string, v int64) bool {
	for _, s := range sinceVersions[op] {
		if s == v {
			return true
		}
	}
	return false
}

// convertNode steps a node of the default domain from opset from to opset
// to, boundary by boundary.
func (r *rewriter) convertNode(n *onnx.Node, from, to int64) ([]*onnx.Node, error) {
	if n.Domain != "" || from == to {
		return []*onnx.Node{n}, nil
	}
	if _, ok := sinceVersions[n.OpType]; !ok {
		return nil, fmt.Errorf("not an operator of the default domain")
	}
	var before, after []*onnx.Node
	if d, ok := deprecatedSince[n.OpType]; ok && from == d {
		// The deprecated last version (Upsample-10) means what its
		// replacement's first version does; convert as that.
		a, ok := adapters[n.OpType+"@"+strconv.FormatInt(d, 10)]
		if !ok || a.up == nil {
			return nil, fmt.Errorf("deprecated at opset %d, with no replacement to convert", d)
		}
		b, af, err := a.up(r, n, d)
		if err != nil {
			return nil, err
		}
		before, after = b, af
	}
	if versionAt(n.OpType, from) == 0 {
		return nil, fmt.Errorf("does not exist at opset %d", from)
	}
	for _, a := range n.Attrs {
		if a.G != nil || len(a.Graphs) > 0 {
			return nil, fmt.Errorf("subgraphs are not converted")
		}
	}
	walk := func(v int64, up bool) error {
		op := n.OpType
		if op == dropped || !changesAt(op, v) {
			return nil
		}
		a, ok := adapters[op+"@"+strconv.FormatInt(v, 10)]
		s := a.down
		if up {
			s = a.up
		}
		if !ok {
			switch {
			case up && deprecatedSince[op] == v:
				return fmt.Errorf("removed at opset %d", v)
			case !up && sinceVersions[op][0] == v:
				return fmt.Errorf("does not exist before opset %d", v)
			case up:
				return fmt.Errorf("no conversion from %s-%d to %s-%d", op, versionAt(op, v-1), op, v)
			default:
				return fmt.Errorf("no conversion from %s-%d to %s-%d", op, v, op, versionAt(op, v-1))
			}
		}
		if s == nil {
			return nil
		}
		b, af, err := s(r, n, v)
		if err != nil {
			return err
		}
		before = append(before, b...)
		after = append(af, after...)
		return nil
	}
	if from < to {
		for v := from + 1; v <= to; v++ {
			if err := walk(v, true); err != nil {
				return nil, err
			}
		}
	} else {
		for v := from; v > to; v-- {
			if err := walk(v, false); err != nil {
				return nil, err
			}
		}
	}
	out := before
	if n.OpType != dropped {
		out = append(out, n)
	}
	return append(out, after...), nil
}
