package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCaseNothingToCompare checks that a case without data sets, or with a
// set that has no expected output, fails: before, both passed with nothing
// compared, and `onnxkit verify` exited 0.
func TestCaseNothingToCompare(t *testing.T) {
	model, err := os.ReadFile("../testdata/pytorch/mlp/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	input, err := os.ReadFile("../testdata/pytorch/mlp/test_data_set_0/input_0.pb")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		withSet bool
		want    string
	}{
		{"no sets", false, "nothing to compare: no test_data_set_N folder"},
		{"no outputs", true, "nothing to compare: no output_N.pb file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "model.onnx"), model, 0o644)
			if tc.withSet {
				sd := filepath.Join(dir, "test_data_set_0")
				os.Mkdir(sd, 0o755)
				os.WriteFile(filepath.Join(sd, "input_0.pb"), input, 0o644)
			}
			r := Case(dir, Default)
			if r.Passed() || !strings.Contains(r.Err.Error(), tc.want) {
				t.Errorf("Case(%s) = %v, want an error containing %q", tc.name, r.Err, tc.want)
			}
		})
	}
}
