package onnx

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// MaxFileBytes is the largest .onnx or .pb file ReadFile and ReadTensorFile
// read: protobuf messages cannot exceed 2 GiB, so a larger file cannot be a
// valid model or tensor.
const MaxFileBytes = 2 << 30

// readFile reads a regular file of at most MaxFileBytes. Devices, pipes and
// folders are refused before anything is read, so a path such as /dev/zero
// cannot make it read without end.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &FormatError{File: path, Msg: fmt.Sprintf("not a regular file (%s)", fi.Mode().Type())}
	}
	if fi.Size() > MaxFileBytes {
		return nil, &FormatError{File: path, Msg: fmt.Sprintf("%d bytes, more than the %d a protobuf message can hold", fi.Size(), int64(MaxFileBytes))}
	}
	// The file may grow after Stat: read at most one byte past the limit.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, &FormatError{File: path, Msg: fmt.Sprintf("more than %d bytes", int64(MaxFileBytes))}
	}
	return data, nil
}

// confined returns an error unless path, with its symbolic links resolved,
// lies inside root (itself resolved). LoadTestCase uses it so that a test
// case cannot make a harness read files outside its folder.
func confined(root, path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return &FormatError{File: path, Msg: fmt.Sprintf("links outside the test case folder %s (to %s)", root, real)}
	}
	return nil
}
