package onnx

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/onnxkit/onnxkit/internal/onnxpb"
)

// DefaultMaxGraphDepth is the deepest nesting of subgraphs (the bodies of
// If, Loop and Scan) that decoding accepts when DecodeOptions.MaxGraphDepth
// is zero. The main graph is at depth 1.
const DefaultMaxGraphDepth = 32

// maxGraphDepthCap bounds DecodeOptions.MaxGraphDepth, keeping the
// protobuf recursion limit derived from it sane.
const maxGraphDepthCap = 10000

// DecodeOptions are limits for decoding. The zero value gives the defaults.
type DecodeOptions struct {
	// MaxTensorBytes caps the decoded size of any one tensor (elements times
	// element size). Zero means DefaultMaxTensorBytes.
	MaxTensorBytes int64
	// MaxGraphDepth caps the nesting of subgraphs. Zero means
	// DefaultMaxGraphDepth.
	MaxGraphDepth int
}

// Decode decodes a serialized ModelProto, the content of a .onnx file.
//
// Decode is safe on untrusted input: it does not panic, and it checks every
// declared size against the data present before allocating, so memory use
// stays proportional to len(data). A malformed model gives a *FormatError, a
// valid one using something onnxkit cannot represent (a float16 initializer,
// external tensor data, a sparse tensor) an *UnsupportedError. Decode checks
// the file format only; Check checks the graph's structure.
func Decode(data []byte) (*Model, error) {
	return DecodeOptions{}.Decode(data)
}

// ReadFile reads and decodes a .onnx file. Errors name the file.
// Like Decode, it is safe on untrusted input.
func ReadFile(path string) (*Model, error) {
	return DecodeOptions{}.ReadFile(path)
}

// Decode is like the package function Decode, with o's limits.
func (o DecodeOptions) Decode(data []byte) (*Model, error) {
	d := newDecoder(o)
	mp := new(onnxpb.ModelProto)
	if err := d.unmarshal(data, mp); err != nil {
		return nil, err
	}
	return d.model(mp)
}

// ReadFile is like the package function ReadFile, with o's limits.
func (o DecodeOptions) ReadFile(path string) (*Model, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	d := newDecoder(o)
	mp := new(onnxpb.ModelProto)
	if err := d.unmarshal(data, mp); err != nil {
		return nil, withFile(err, path)
	}
	// The message holds copies of the file's bytes: collect the file before
	// its tensors are decoded, so that a model of N bytes peaks at about 2N
	// (message and tensors) instead of 3N.
	runtime.GC()
	m, err := d.model(mp)
	if err != nil {
		return nil, withFile(err, path)
	}
	return m, nil
}

// decoder converts protobuf messages to the plain types of model.go. It
// has one method per message, each checking what it reads.
type decoder struct {
	maxTensorBytes int64
	maxDepth       int
}

func newDecoder(o DecodeOptions) *decoder {
	d := &decoder{maxTensorBytes: o.MaxTensorBytes, maxDepth: o.MaxGraphDepth}
	if d.maxTensorBytes <= 0 {
		d.maxTensorBytes = DefaultMaxTensorBytes
	}
	if int64(int(d.maxTensorBytes)) != d.maxTensorBytes { // 32-bit platforms
		d.maxTensorBytes = int64(^uint(0) >> 1)
	}
	if d.maxDepth <= 0 {
		d.maxDepth = DefaultMaxGraphDepth
	}
	if d.maxDepth > maxGraphDepthCap {
		d.maxDepth = maxGraphDepthCap
	}
	return d
}

func (d *decoder) formatError(cause error, format string, args ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, args...), Err: cause}
}

func (d *decoder) unsupported(format string, args ...any) error {
	return &UnsupportedError{Msg: fmt.Sprintf(format, args...)}
}

// unmarshal parses the wire format. Each subgraph nests three messages deep
// (attribute, graph, node) and types nest too, so the protobuf recursion
// limit is set a little above what the graph depth limit allows.
func (d *decoder) unmarshal(data []byte, m proto.Message) error {
	opts := proto.UnmarshalOptions{RecursionLimit: 4*d.maxDepth + 64}
	err := opts.Unmarshal(data, m)
	if err == nil {
		return nil
	}
	// The protobuf runtime's errors do not say where the damage is; find
	// it by walking the wire data against the message descriptors.
	if path, cause := scanWire(data, m.ProtoReflect().Descriptor(), "", 0, opts.RecursionLimit); cause != nil {
		if path == "" {
			path = string(m.ProtoReflect().Descriptor().Name())
		}
		return d.formatError(cause, "%s: %v", path, cause)
	}
	return d.formatError(nil, "%s: %v", m.ProtoReflect().Descriptor().Name(), err)
}

// maxPathLen is the longest field path scanWire builds.
const maxPathLen = 400

// errDepth reports wire data nested deeper than the recursion limit.
var errDepth = fmt.Errorf("messages nested too deeply")

// scanWire walks wire-format data of a message of type md and returns the
// field path (like "graph.node[3].attribute[0]") and cause of the first
// defect: truncation (io.ErrUnexpectedEOF), a malformed field, invalid
// UTF-8 in a string, or nesting deeper than limit.
func scanWire(b []byte, md protoreflect.MessageDescriptor, path string, depth, limit int) (string, error) {
	if depth > limit {
		return path, errDepth
	}
	counts := map[protowire.Number]int{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return path, wireErr(n)
		}
		b = b[n:]
		fd := md.Fields().ByNumber(num)
		fpath := path
		if fd != nil && len(path) > maxPathLen {
			// Deeply nested data: stop growing the path, which would
			// otherwise cost time quadratic in the depth.
			if !strings.HasSuffix(path, "...") {
				fpath += "..."
			}
		} else if fd != nil {
			if fpath != "" {
				fpath += "."
			}
			fpath += string(fd.Name())
			k := fd.Kind()
			if fd.Cardinality() == protoreflect.Repeated && typ == protowire.BytesType &&
				(k == protoreflect.MessageKind || k == protoreflect.StringKind || k == protoreflect.BytesKind) {
				fpath += fmt.Sprintf("[%d]", counts[num])
				counts[num]++
			}
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return fpath, wireErr(m)
		}
		if fd != nil && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b)
			switch fd.Kind() {
			case protoreflect.MessageKind:
				if p, err := scanWire(v, fd.Message(), fpath, depth+1, limit); err != nil {
					return p, err
				}
			case protoreflect.StringKind:
				if !utf8.Valid(v) {
					return fpath, fmt.Errorf("invalid UTF-8 in a string")
				}
			}
		}
		b = b[m:]
	}
	return "", nil
}

// wireErr turns a negative protowire length into an error; truncated data
// becomes io.ErrUnexpectedEOF.
func wireErr(n int) error {
	err := protowire.ParseError(n)
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
