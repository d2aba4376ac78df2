package onnx

// A FormatError reports that the input is not a valid ONNX model, tensor or
// test case: a malformed protobuf, a size that does not match its data, a
// reference to a value that does not exist.
type FormatError struct {
	// File is the file the input came from, when it was read from one.
	File string
	// Msg says what is wrong and names the thing at fault.
	Msg string
	// Err is the underlying cause, if any (io.ErrUnexpectedEOF for
	// truncated input); Unwrap returns it.
	Err error
}

// Error formats the error as "onnx: [file: ]invalid format: ...".
func (e *FormatError) Error() string {
	s := "onnx: "
	if e.File != "" {
		s += e.File + ": "
	}
	return s + "invalid format: " + e.Msg
}

// Unwrap returns the underlying cause.
func (e *FormatError) Unwrap() error { return e.Err }

// An UnsupportedError reports that the input is valid ONNX but uses a
// feature onnxkit does not implement, such as a float16 tensor or tensor
// data stored in an external file.
type UnsupportedError struct {
	// File is the file the input came from, when it was read from one.
	File string
	// Msg names the feature and the thing using it.
	Msg string
}

// Error formats the error as "onnx: [file: ]unsupported: ...".
func (e *UnsupportedError) Error() string {
	s := "onnx: "
	if e.File != "" {
		s += e.File + ": "
	}
	return s + "unsupported: " + e.Msg
}

// withFile sets the file name of a FormatError or UnsupportedError.
func withFile(err error, path string) error {
	switch e := err.(type) {
	case *FormatError:
		e.File = path
	case *UnsupportedError:
		e.File = path
	}
	return err
}
