package onnx

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// moduleRoot walks up from the test's folder to the folder holding go.mod.
func moduleRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test folder")
		}
		dir = parent
	}
}

// corpusDirs lists the ONNX conformance suites present on this machine:
// <moduleRoot>/../shared/onnx-conformance/{node,...} (ONNX 1.22) and
// /usr/share/libonnx-testdata/data/* (ONNX 1.12, Debian's libonnx-testdata).
func corpusDirs(t testing.TB) []string {
	var dirs []string
	shared := filepath.Join(moduleRoot(t), "..", "shared", "onnx-conformance")
	for _, s := range []string{"node", "pytorch-converted", "pytorch-operator", "simple", "light"} {
		dirs = append(dirs, filepath.Join(shared, s))
	}
	deb, _ := filepath.Glob("/usr/share/libonnx-testdata/data/*")
	dirs = append(dirs, deb...)
	var present []string
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			present = append(present, d)
		}
	}
	return present
}

// TestCorpus decodes every model.onnx of the conformance suites, checks
// that Encode -> Decode -> Encode gives the same bytes and that Check
// accepts the model, and counts the models that decode and those that use
// something unsupported. These are models written by ONNX's own tools, so a
// FormatError or a Check failure is a bug here, not in the file.
func TestCorpus(t *testing.T) {
	dirs := corpusDirs(t)
	if len(dirs) == 0 {
		t.Skip("no ONNX conformance data found")
	}
	for _, dir := range dirs {
		models, _ := filepath.Glob(filepath.Join(dir, "*", "model.onnx"))
		light, _ := filepath.Glob(filepath.Join(dir, "light_*.onnx"))
		models = append(models, light...)
		if len(models) == 0 {
			continue
		}
		t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) {
			var ok, unsupported int
			reasons := map[string]int{}
			for _, path := range models {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				m, err := Decode(data)
				var ue *UnsupportedError
				if errors.As(err, &ue) {
					unsupported++
					reasons[unsupportedKind(ue.Msg)]++
					continue
				}
				if err != nil {
					t.Errorf("Decode(%s) = %v", path, err)
					continue
				}
				ok++
				if err := Check(m); err != nil {
					t.Errorf("Check(%s) = %v", path, err)
				}
				e1, err := Encode(m)
				if err != nil {
					t.Errorf("Encode(%s) = %v", path, err)
					continue
				}
				m2, err := Decode(e1)
				if err != nil {
					t.Errorf("Decode(Encode(%s)) = %v", path, err)
					continue
				}
				e2, err := Encode(m2)
				if err != nil {
					t.Errorf("Encode(Decode(Encode(%s))) = %v", path, err)
					continue
				}
				if !bytes.Equal(e1, e2) {
					t.Errorf("%s: Encode -> Decode -> Encode is not stable", path)
				}
			}
			t.Logf("%s: %d models, %d decode, %d unsupported %v", dir, len(models), ok, unsupported, sortedCounts(reasons))
		})
	}
}

// unsupportedKind reduces an UnsupportedError message to its last clause,
// the feature, for counting.
func unsupportedKind(msg string) string {
	for i := len(msg) - 2; i >= 0; i-- {
		if msg[i] == ':' && msg[i+1] == ' ' {
			return msg[i+2:]
		}
	}
	return msg
}

func sortedCounts(m map[string]int) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+itoa(v))
	}
	sort.Strings(out)
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestCorpusData loads the test_data_set_N folders of every conformance
// case with LoadTestCase and counts the cases whose tensors all decode.
// Some node tests feed sequences or optionals (SequenceProto,
// OptionalProto files), which are not TensorProto files, and some use
// element types tensor.Tensor cannot hold; those fail, so this test only
// requires that nothing panics and that most cases load.
func TestCorpusData(t *testing.T) {
	dirs := corpusDirs(t)
	if len(dirs) == 0 {
		t.Skip("no ONNX conformance data found")
	}
	for _, dir := range dirs {
		cases, _ := filepath.Glob(filepath.Join(dir, "*", "model.onnx"))
		if len(cases) == 0 {
			continue
		}
		t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) {
			var ok, unsupported, format, tensors int
			reasons := map[string]int{}
			for _, path := range cases {
				_, sets, err := LoadTestCase(filepath.Dir(path))
				var ue *UnsupportedError
				var fe *FormatError
				switch {
				case err == nil:
					ok++
					for _, s := range sets {
						tensors += len(s.Inputs) + len(s.Outputs)
					}
				case errors.As(err, &ue):
					unsupported++
					reasons[unsupportedKind(ue.Msg)]++
				case errors.As(err, &fe):
					format++
					if testing.Verbose() {
						t.Logf("%v", err)
					}
				default:
					t.Errorf("LoadTestCase(%s) = %v", filepath.Dir(path), err)
				}
			}
			t.Logf("%s: %d cases, %d load (%d tensors), %d unsupported %v, %d not tensor files",
				dir, len(cases), ok, tensors, unsupported, sortedCounts(reasons), format)
			// Most cases feed plain tensors of supported types; fewer than
			// 70% loading means the tensor decoder broke.
			if ok*10 < len(cases)*7 {
				t.Errorf("only %d of %d cases load", ok, len(cases))
			}
		})
	}
}
