package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// zooTolerance is the model zoo issue's: rtol 1e-3, atol 1e-4.
var zooTolerance = Tolerance{Rtol: 1e-3, Atol: 1e-4}

// zooDir is where scripts/make_zoo.py writes the zoo: $ONNXKIT_ZOO, else
// testdata/zoo at the repository root.
func zooDir() string {
	if d := os.Getenv("ONNXKIT_ZOO"); d != "" {
		return d
	}
	return filepath.Join("..", "testdata", "zoo")
}

// TestZoo runs every export of the model zoo (torchvision classifiers, a
// BERT-style encoder, RNNs and an encoder-decoder, each at several opsets)
// against the outputs PyTorch computed for the same inputs, stored beside
// each model by scripts/make_zoo.py. Every folder must pass. The zoo is not
// committed (about 1 GB): without it the test skips.
func TestZoo(t *testing.T) {
	if testing.Short() {
		t.Skip("model zoo skipped in -short mode")
	}
	if raceEnabled {
		t.Skip("model zoo skipped under the race detector (minutes of convolutions)")
	}
	dir := zooDir()
	entries, err := os.ReadDir(dir)
	var cases []string
	for _, e := range entries {
		// make_zoo.py writes NAME.tmp and renames it when complete.
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "model.onnx")); err == nil {
			cases = append(cases, e.Name())
		}
	}
	if len(cases) == 0 {
		t.Skipf("no model zoo in %s (%v): make it with OMP_NUM_THREADS=2 /usr/bin/python3 scripts/make_zoo.py", dir, err)
	}
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			r := Case(filepath.Join(dir, name), zooTolerance)
			switch {
			case r.Err != nil && r.Sets == 0:
				t.Fatalf("zoo %s: FAIL to load: %v", name, r.Err)
			case r.Err != nil:
				t.Fatalf("zoo %s: FAIL max abs %.3g, max rel %.3g: %v", name, r.MaxAbs, r.MaxRel, r.Err)
			}
			t.Logf("zoo %s: pass max abs %.3g, max rel %.3g", name, r.MaxAbs, r.MaxRel)
		})
	}
}
