package infer

import "sort"

// OpSupport describes one op type of the default ONNX domain that the
// registry implements, over a range of opset versions.
type OpSupport struct {
	OpType string
	Since  int64 // first opset version implemented
	Until  int64 // last opset version implemented; 0 means no upper bound
}

// Ops lists the implemented op types and opset ranges, sorted by op type.
func Ops() []OpSupport {
	var ops []OpSupport
	for name, vs := range registry {
		for _, v := range vs {
			ops = append(ops, OpSupport{OpType: name, Since: v.since, Until: v.until})
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].OpType != ops[j].OpType {
			return ops[i].OpType < ops[j].OpType
		}
		return ops[i].Since < ops[j].Since
	})
	return ops
}

// Implements reports whether the registry has op type opType of the default
// ONNX domain in any opset version.
func Implements(opType string) bool { return len(registry[opType]) > 0 }
