package onnx

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/onnxkit/onnxkit/internal/readfile"
)

// MaxFileBytes is the largest .onnx or .pb file ReadFile and ReadTensorFile
// read: protobuf messages cannot exceed 2 GiB, so a larger file cannot be a
// valid model or tensor.
const MaxFileBytes = 2 << 30

// readFile reads a regular file of at most MaxFileBytes (see
// readfile.Regular); a refused file is a format error.
func readFile(path string) ([]byte, error) {
	data, err := readfile.Regular(path, MaxFileBytes)
	var re *readfile.Error
	if errors.As(err, &re) {
		return nil, &FormatError{File: path, Msg: re.Msg}
	}
	return data, err
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
