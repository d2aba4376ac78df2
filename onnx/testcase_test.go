package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/tensor"
)

// writeCase builds a test case folder: model.onnx and, for each set
// number, nIn inputs named in<i> holding the value i and one output.
func writeCase(t *testing.T, sets []int, nIn int) string {
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, "model.onnx"), testModel()); err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		sd := filepath.Join(dir, "test_data_set_"+itoa(s))
		if err := os.Mkdir(sd, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < nIn; i++ {
			x := tensor.FromFloat32([]float32{float32(i), float32(s)}, 2)
			if err := WriteTensorFile(filepath.Join(sd, "input_"+itoa(i)+".pb"), "in"+itoa(i), x); err != nil {
				t.Fatal(err)
			}
		}
		y := tensor.FromInt64([]int64{int64(s)}, 1)
		if err := WriteTensorFile(filepath.Join(sd, "output_0.pb"), "out", y); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLoadTestCase checks numeric order: input_10 after input_9 and
// test_data_set_10 after test_data_set_2, where sorting by name would put
// them after 1.
func TestLoadTestCase(t *testing.T) {
	dir := writeCase(t, []int{10, 0, 2}, 11)
	if err := os.WriteFile(filepath.Join(dir, "test_data_set_0", "README"), []byte("ignored"), 0o644); err != nil {
		t.Fatal(err)
	}
	modelPath, sets, err := LoadTestCase(dir)
	if err != nil {
		t.Fatalf("LoadTestCase = %v", err)
	}
	if want := filepath.Join(dir, "model.onnx"); modelPath != want {
		t.Errorf("model path = %q, want %q", modelPath, want)
	}
	var dirs []string
	for _, s := range sets {
		dirs = append(dirs, filepath.Base(s.Dir))
	}
	if want := []string{"test_data_set_0", "test_data_set_2", "test_data_set_10"}; !reflect.DeepEqual(dirs, want) {
		t.Fatalf("sets = %v, want %v", dirs, want)
	}
	for k, s := range sets {
		set := []int{0, 2, 10}[k]
		if len(s.Inputs) != 11 || len(s.Outputs) != 1 {
			t.Fatalf("%s: %d inputs, %d outputs, want 11, 1", s.Dir, len(s.Inputs), len(s.Outputs))
		}
		for i, in := range s.Inputs {
			want := tensor.FromFloat32([]float32{float32(i), float32(set)}, 2)
			if in.Name != "in"+itoa(i) || !reflect.DeepEqual(in.Tensor, want) {
				t.Errorf("%s input %d = %q %v, want %q %v", s.Dir, i, in.Name, in.Tensor.F32, "in"+itoa(i), want.F32)
			}
		}
		if o := s.Outputs[0]; o.Name != "out" || o.Tensor.I64[0] != int64(set) {
			t.Errorf("%s output = %q %v, want out [%d]", s.Dir, o.Name, o.Tensor.I64, set)
		}
	}
}

func TestLoadTestCaseBad(t *testing.T) {
	t.Run("gap", func(t *testing.T) {
		dir := writeCase(t, []int{0}, 3)
		os.Remove(filepath.Join(dir, "test_data_set_0", "input_1.pb"))
		_, _, err := LoadTestCase(dir)
		want := "onnx: " + filepath.Join(dir, "test_data_set_0") + ": invalid format: input_1.pb is missing (found input_2.pb)"
		if err == nil || err.Error() != want {
			t.Errorf("LoadTestCase = %v, want %s", err, want)
		}
	})
	t.Run("same number twice", func(t *testing.T) {
		dir := writeCase(t, []int{0}, 1)
		sd := filepath.Join(dir, "test_data_set_0")
		data, _ := os.ReadFile(filepath.Join(sd, "input_0.pb"))
		os.WriteFile(filepath.Join(sd, "input_00.pb"), data, 0o644)
		_, _, err := LoadTestCase(dir)
		if err == nil || !strings.Contains(err.Error(), "both input_0") {
			t.Errorf("LoadTestCase = %v, want an error naming both files", err)
		}
	})
	t.Run("bad tensor file", func(t *testing.T) {
		dir := writeCase(t, []int{0}, 1)
		path := filepath.Join(dir, "test_data_set_0", "output_0.pb")
		os.WriteFile(path, []byte{0x0a, 0x05, 0x01}, 0o644) // dims: 5 bytes promised, 1 present
		_, _, err := LoadTestCase(dir)
		want := "onnx: " + path + ": invalid format: dims: unexpected EOF"
		var fe *FormatError
		if err == nil || err.Error() != want || !errors.As(err, &fe) {
			t.Errorf("LoadTestCase = %v, want %s", err, want)
		}
	})
	// A case must not make a harness read outside its folder or from a
	// device: before, input_0.pb -> /dev/zero was read until memory ran out.
	t.Run("symlink outside the folder", func(t *testing.T) {
		dir := writeCase(t, []int{0}, 1)
		outside := filepath.Join(t.TempDir(), "secret.pb")
		data, _ := os.ReadFile(filepath.Join(dir, "test_data_set_0", "input_0.pb"))
		os.WriteFile(outside, data, 0o644)
		in := filepath.Join(dir, "test_data_set_0", "input_0.pb")
		os.Remove(in)
		if err := os.Symlink(outside, in); err != nil {
			t.Skip(err)
		}
		_, _, err := LoadTestCase(dir)
		if err == nil || !strings.Contains(err.Error(), "links outside the test case folder") {
			t.Errorf("LoadTestCase = %v, want a links-outside error", err)
		}
	})
	t.Run("symlink inside the folder", func(t *testing.T) {
		dir := writeCase(t, []int{0, 1}, 1)
		in := filepath.Join(dir, "test_data_set_1", "input_0.pb")
		os.Remove(in)
		if err := os.Symlink(filepath.Join(dir, "test_data_set_0", "input_0.pb"), in); err != nil {
			t.Skip(err)
		}
		if _, _, err := LoadTestCase(dir); err != nil {
			t.Errorf("LoadTestCase = %v, want a link inside the case accepted", err)
		}
	})
	t.Run("device", func(t *testing.T) {
		if _, err := os.Stat("/dev/zero"); err != nil {
			t.Skip("no /dev/zero")
		}
		dir := writeCase(t, []int{0}, 1)
		if _, _, err := ReadTensorFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadTensorFile(/dev/zero) = %v, want a not-a-regular-file error", err)
		}
		if _, err := ReadFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadFile(/dev/zero) = %v, want a not-a-regular-file error", err)
		}
		model := filepath.Join(dir, "model.onnx")
		os.Remove(model)
		os.Symlink("/dev/zero", model)
		if _, _, err := LoadTestCase(dir); err == nil || !strings.Contains(err.Error(), "links outside") {
			t.Errorf("LoadTestCase = %v, want a links-outside error for model.onnx -> /dev/zero", err)
		}
	})
	t.Run("no model", func(t *testing.T) {
		dir := writeCase(t, nil, 0)
		os.Remove(filepath.Join(dir, "model.onnx"))
		if _, _, err := LoadTestCase(dir); err == nil || !strings.Contains(err.Error(), "model.onnx") {
			t.Errorf("LoadTestCase = %v, want an error naming model.onnx", err)
		}
	})
}

// TestWriteFileAtomic checks that WriteFile replaces the file whole and
// leaves nothing behind when it fails.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	listing := func() []string {
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}

	if err := WriteFile(path, testModel()); err != nil {
		t.Fatalf("WriteFile = %v", err)
	}
	if m, err := ReadFile(path); err != nil || m.ProducerName != "onnxkit-test" {
		t.Fatalf("ReadFile(WriteFile(m)) = %v, %v", m, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", fi.Mode().Perm())
	}

	// Overwrite with another model.
	m := testModel()
	m.ProducerName = "second"
	if err := WriteFile(path, m); err != nil {
		t.Fatalf("WriteFile (overwrite) = %v", err)
	}
	if m, err := ReadFile(path); err != nil || m.ProducerName != "second" {
		t.Fatalf("after overwrite: %v, %v", m, err)
	}

	// An encode failure leaves the old file as it was.
	bad := testModel()
	bad.Graph.Initializers[0].Tensor = nil
	if err := WriteFile(path, bad); err == nil {
		t.Errorf("WriteFile(nil initializer) = nil, want an error")
	}
	if m, err := ReadFile(path); err != nil || m.ProducerName != "second" {
		t.Errorf("after a failed write: %v, %v", m, err)
	}

	// A rename onto a folder fails after the temporary file is written;
	// it must be removed.
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(sub, testModel()); err == nil {
		t.Errorf("WriteFile(folder) = nil, want an error")
	}
	if got, want := listing(), []string{"m.onnx", "sub"}; !reflect.DeepEqual(got, want) {
		t.Errorf("folder holds %v, want %v", got, want)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "m.onnx"), testModel()); err == nil {
		t.Errorf("WriteFile(missing folder) = nil, want an error")
	}
	if err := WriteTensorFile(filepath.Join(dir, "t.pb"), "t", &tensor.Tensor{DType: tensor.Float32, Shape: []int{2}}); err == nil {
		t.Errorf("WriteTensorFile(invalid tensor) = nil, want an error")
	}
	if got, want := listing(), []string{"m.onnx", "sub"}; !reflect.DeepEqual(got, want) {
		t.Errorf("folder holds %v, want %v", got, want)
	}
}
