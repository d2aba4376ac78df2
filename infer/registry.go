package infer

// opVersion is one entry of the registry: the builder for versions
// [since, until] of an op (until 0: no upper bound, i.e. the newest version).
type opVersion struct {
	since, until int64
	build        builder
}

// registry maps an op type of the default ONNX domain to its implementations
// by opset version. An op version listed here is fully implemented: every
// attribute and input of that version.
var registry = map[string][]opVersion{
	// Neural-network ops (conv.go, pool.go, gemm.go, norm.go, pad.go).

	// Elementwise, activation and shape ops (elementwise.go, activation.go, shape.go).
}
