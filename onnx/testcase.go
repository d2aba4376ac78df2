package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/onnxkit/onnxkit/internal/atomicfile"
	"github.com/onnxkit/onnxkit/tensor"
)

// ReadTensorFile reads a serialized TensorProto, such as an input_N.pb file
// of the ONNX test layout, and returns the tensor's name and value. Errors
// name the file. It is safe on untrusted input, like DecodeTensor.
func ReadTensorFile(path string) (name string, t *tensor.Tensor, err error) {
	data, err := readFile(path)
	if err != nil {
		return "", nil, err
	}
	name, t, err = DecodeTensor(data)
	if err != nil {
		return "", nil, withFile(err, path)
	}
	return name, t, nil
}

// WriteTensorFile writes t as a serialized TensorProto with the given name,
// atomically as WriteFile does.
func WriteTensorFile(path, name string, t *tensor.Tensor) error {
	data, err := EncodeTensor(name, t)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data)
}

// NamedTensor is a tensor with the name stored in its TensorProto (which
// may be empty: test harnesses match inputs by position).
type NamedTensor struct {
	Name   string
	Tensor *tensor.Tensor
}

// DataSet is one test_data_set_N folder of an ONNX test case: the inputs
// in input_0.pb, input_1.pb, ... order and the expected outputs likewise.
type DataSet struct {
	Dir     string // path of the test_data_set_N folder
	Inputs  []NamedTensor
	Outputs []NamedTensor
}

// LoadTestCase reads a test case folder of the ONNX test layout:
//
//	dir/model.onnx
//	dir/test_data_set_0/input_0.pb, input_1.pb, ..., output_0.pb, ...
//	dir/test_data_set_1/...
//
// It returns the model's path (the model itself is not read) and the data
// sets in numeric order (test_data_set_10 after test_data_set_9), each with
// its tensors in numeric order. The input_N.pb and output_N.pb files of a
// set must be numbered from 0 without gaps. Like ReadTensorFile it is safe
// on untrusted input: files are read only when they are regular files of at
// most MaxFileBytes, and model.onnx, the set folders and the tensor files
// must not be symbolic links that lead outside dir.
func LoadTestCase(dir string) (modelPath string, sets []DataSet, err error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", nil, err
	}
	modelPath = filepath.Join(dir, "model.onnx")
	if err := confined(root, modelPath); err != nil {
		return "", nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, err
	}
	var setDirs []numbered
	for _, e := range entries {
		if n, ok := numberAfter(e.Name(), "test_data_set_", ""); ok && e.IsDir() {
			setDirs = append(setDirs, numbered{n, filepath.Join(dir, e.Name())})
		}
	}
	sortNumbered(setDirs)
	for _, sd := range setDirs {
		ds, err := loadDataSet(root, sd.path)
		if err != nil {
			return "", nil, err
		}
		sets = append(sets, ds)
	}
	return modelPath, sets, nil
}

type numbered struct {
	n    int
	path string
}

func sortNumbered(s []numbered) {
	sort.Slice(s, func(i, j int) bool { return s[i].n < s[j].n })
}

// numberAfter parses names of the form prefix + decimal + suffix.
func numberAfter(name, prefix, suffix string) (int, bool) {
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) ||
		len(name) <= len(prefix)+len(suffix) {
		return 0, false
	}
	digits := name[len(prefix) : len(name)-len(suffix)]
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(digits)
	if err != nil {
		return 0, false
	}
	return n, true
}

func loadDataSet(root, dir string) (DataSet, error) {
	ds := DataSet{Dir: dir}
	if err := confined(root, dir); err != nil {
		return ds, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ds, err
	}
	var ins, outs []numbered
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if n, ok := numberAfter(e.Name(), "input_", ".pb"); ok {
			ins = append(ins, numbered{n, filepath.Join(dir, e.Name())})
		} else if n, ok := numberAfter(e.Name(), "output_", ".pb"); ok {
			outs = append(outs, numbered{n, filepath.Join(dir, e.Name())})
		}
	}
	if ds.Inputs, err = loadTensors(root, dir, "input", ins); err != nil {
		return ds, err
	}
	if ds.Outputs, err = loadTensors(root, dir, "output", outs); err != nil {
		return ds, err
	}
	return ds, nil
}

func loadTensors(root, dir, kind string, files []numbered) ([]NamedTensor, error) {
	sortNumbered(files)
	var out []NamedTensor
	for i, f := range files {
		if i > 0 && files[i-1].n == f.n {
			return nil, &FormatError{File: dir, Msg: fmt.Sprintf("both %s and %s",
				filepath.Base(files[i-1].path), filepath.Base(f.path))}
		}
		if f.n != i {
			return nil, &FormatError{File: dir, Msg: fmt.Sprintf("%s_%d.pb is missing (found %s)",
				kind, i, filepath.Base(f.path))}
		}
		if err := confined(root, f.path); err != nil {
			return nil, err
		}
		name, t, err := ReadTensorFile(f.path)
		if err != nil {
			return nil, err
		}
		out = append(out, NamedTensor{Name: name, Tensor: t})
	}
	return out, nil
}
