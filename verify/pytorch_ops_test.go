package verify

import (
	"path/filepath"
	"testing"
)

// A PyTorch model of index and layout ops (split, chunk, topk, argmax,
// gather, tril, pixel_shuffle, einsum, scatter_add, repeat, nonzero),
// exported at opsets 14, 16 and 17 with PyTorch's outputs by
// scripts/make_index_exports.py, runs in Go with those outputs.
func TestPyTorchIndexOpsExports(t *testing.T) {
	tol := Tolerance{Rtol: 1e-4, Atol: 1e-5}
	for _, name := range []string{"index_op14", "index_op16", "index_op17"} {
		t.Run(name, func(t *testing.T) {
			r := Case(filepath.Join("../testdata/pytorch-ops", name), tol)
			if !r.Passed() || r.Sets != 1 {
				t.Fatalf("Case(%s): %d sets, error %v", name, r.Sets, r.Err)
			}
			t.Logf("%s: max abs %.2g, max rel %.2g", name, r.MaxAbs, r.MaxRel)
		})
	}
}

// Single-node Einsum models for 25 equations in float32 and int64, with
// torch.einsum's outputs (scripts/make_einsum_cases.py), run in Go.
func TestPyTorchEinsumCases(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/pytorch-ops/einsum/c*")
	if err != nil || len(dirs) != 50 {
		t.Fatalf("found %d einsum cases (%v), want 50", len(dirs), err)
	}
	for _, dir := range dirs {
		r := Case(dir, Tolerance{Rtol: 1e-4, Atol: 1e-5})
		if !r.Passed() || r.Sets != 1 {
			t.Errorf("Case(%s): %d sets, error %v", filepath.Base(dir), r.Sets, r.Err)
		}
	}
}
