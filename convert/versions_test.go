package convert

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// versions.go is what gen_versions.go makes from the spec, when the spec is
// here (../../shared/onnx-spec).
func TestVersionsUpToDate(t *testing.T) {
	spec := "../../shared/onnx-spec/Operators.md"
	if _, err := os.Stat(spec); err != nil {
		t.Skip("no spec at", spec)
	}
	out := filepath.Join(t.TempDir(), "versions.go")
	if b, err := exec.Command("go", "run", "gen_versions.go", "-spec", spec, "-out", out).CombinedOutput(); err != nil {
		t.Fatalf("gen_versions: %v\n%s", err, b)
	}
	want, _ := os.ReadFile(out)
	got, _ := os.ReadFile("versions.go")
	if !bytes.Equal(got, want) {
		t.Error("versions.go is stale: run go generate ./convert")
	}
}

// Spot checks of the generated table against the spec's operator index.
func TestVersionAt(t *testing.T) {
	tests := []struct {
		op    string
		opset int64
		want  int64
	}{
		{"Reshape", 13, 13}, {"Reshape", 12, 5}, {"Pad", 17, 13}, {"Pad", 10, 2},
		{"Softmax", 12, 11}, {"Upsample", 9, 9}, {"Upsample", 10, 0}, {"GreaterOrEqual", 11, 0},
		{"Resize", 21, 19}, {"Dropout", 11, 10},
	}
	for _, tt := range tests {
		if got := versionAt(tt.op, tt.opset); got != tt.want {
			t.Errorf("versionAt(%q, %d) = %d, want %d", tt.op, tt.opset, got, tt.want)
		}
	}
}
