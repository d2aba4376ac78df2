package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// The JSON forms of the Open Inference Protocol's REST API.

type serverMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

type tensorMetadata struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

type modelMetadata struct {
	Name     string           `json:"name"`
	Versions []string         `json:"versions,omitempty"`
	Platform string           `json:"platform"`
	Inputs   []tensorMetadata `json:"inputs"`
	Outputs  []tensorMetadata `json:"outputs"`
	// Parameters holds the class names ("classes") when they are known.
	Parameters map[string]any `json:"parameters,omitempty"`
}

type inferRequest struct {
	ID         string          `json:"id,omitempty"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Inputs     []requestInput  `json:"inputs"`
	Outputs    []requestOutput `json:"outputs,omitempty"`
}

type requestInput struct {
	Name       string         `json:"name"`
	Shape      []int64        `json:"shape"`
	Datatype   string         `json:"datatype"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Data       jsonRaw        `json:"data"`
}

type requestOutput struct {
	Name       string         `json:"name"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// jsonRaw is json.RawMessage without the copy-on-marshal methods we do not
// need: it keeps the bytes of a value for decodeData.
type jsonRaw []byte

func (r *jsonRaw) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

type errorResponse struct {
	Error string `json:"error"`
}

// Datatype names of the protocol by tensor.DType.
var datatypes = map[tensor.DType]string{
	tensor.Float32: "FP32",
	tensor.Float64: "FP64",
	tensor.Int64:   "INT64",
	tensor.Int32:   "INT32",
	tensor.Uint8:   "UINT8",
	tensor.Int8:    "INT8",
	tensor.Bool:    "BOOL",
}

// Protocol names of the element types a request cannot send but a model
// may answer with (and declare, for the metadata).
var outputDatatypes = map[tensor.DType]string{
	tensor.Float16: "FP16", tensor.BFloat16: "BF16", tensor.Int16: "INT16", tensor.Uint16: "UINT16",
	tensor.Uint32: "UINT32", tensor.Uint64: "UINT64", tensor.String: "BYTES",
}

// datatypeName is the protocol's name for dt, "" for a type it has none for.
func datatypeName(dt tensor.DType) string {
	if name, ok := datatypes[dt]; ok {
		return name
	}
	return outputDatatypes[dt]
}

func parseDatatype(s string) (tensor.DType, bool) {
	for dt, name := range datatypes {
		if name == s {
			return dt, true
		}
	}
	return tensor.Invalid, false
}

// describeValue is the metadata of a declared input or output.
func describeValue(vi *onnx.ValueInfo) tensorMetadata {
	md := tensorMetadata{Name: vi.Name, Datatype: datatypeName(vi.DType), Shape: []int64{}}
	if md.Datatype == "" {
		md.Datatype = "UNKNOWN"
	}
	if !vi.HasShape {
		md.Shape = nil // any rank: the protocol has no form for it
		return md
	}
	for _, d := range vi.Shape {
		if d.Param != "" || d.Value < 0 {
			md.Shape = append(md.Shape, -1)
		} else {
			md.Shape = append(md.Shape, d.Value)
		}
	}
	return md
}

// errTooLarge marks a tensor over the element cap (status 413).
var errTooLarge = errors.New("too large")

func shapeJSON(s []int64) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// inputShape checks a request input's datatype and shape and returns
// them with the element count, allocating nothing sized by the request.
func inputShape(in *requestInput, maxElems int) (tensor.DType, []int, int, error) {
	dt, ok := parseDatatype(in.Datatype)
	if !ok {
		return dt, nil, 0, fmt.Errorf("input %q: unsupported datatype %q", in.Name, in.Datatype)
	}
	if in.Shape == nil {
		return dt, nil, 0, fmt.Errorf("input %q: no shape", in.Name)
	}
	shape := make([]int, len(in.Shape))
	n := 1
	for i, d := range in.Shape {
		if d < 0 {
			return dt, nil, 0, fmt.Errorf("input %q: shape %s: negative dimension", in.Name, shapeJSON(in.Shape))
		}
		if d > int64(maxElems) || (d > 0 && n > maxElems/int(d)) {
			return dt, nil, 0, fmt.Errorf("input %q: shape %s: over %d elements: %w", in.Name, shapeJSON(in.Shape), maxElems, errTooLarge)
		}
		shape[i] = int(d)
		n *= int(d)
	}
	return dt, shape, n, nil
}

// decodeTensor checks a request input's declared shape and datatype and
// parses its data. maxElems caps the element count before anything is
// allocated.
func decodeTensor(in *requestInput, maxElems int) (*tensor.Tensor, error) {
	dt, shape, n, err := inputShape(in, maxElems)
	if err != nil {
		return nil, err
	}
	if in.Data == nil {
		return nil, fmt.Errorf("input %q: no data", in.Name)
	}
	t := tensor.New(dt, shape...)
	p := dataParser{b: in.Data, t: t}
	if err := p.parse(); err != nil {
		return nil, fmt.Errorf("input %q: data: %v", in.Name, err)
	}
	if p.n != n {
		return nil, fmt.Errorf("input %q: shape %s holds %d elements, data has %d", in.Name, shapeJSON(in.Shape), n, p.n)
	}
	return t, nil
}

// dataParser reads a JSON array of numbers (or booleans), flat or nested to
// any depth, into t in row-major order. It counts the values past t's
// length without storing them, so that the error can say how many there
// were.
type dataParser struct {
	b    []byte
	i    int
	t    *tensor.Tensor
	size int // t.Len()
	n    int // values read
}

const maxNesting = 64

func (p *dataParser) parse() error {
	p.size = p.t.Len()
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '[' {
		return errors.New("want an array")
	}
	if err := p.array(0); err != nil {
		return err
	}
	p.space()
	if p.i != len(p.b) {
		return fmt.Errorf("unexpected %q after the array", p.b[p.i])
	}
	return nil
}

func (p *dataParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// array reads an array starting at '['.
func (p *dataParser) array(depth int) error {
	if depth >= maxNesting {
		return fmt.Errorf("arrays nested over %d deep", maxNesting)
	}
	p.i++ // '['
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return nil
	}
	for {
		p.space()
		if p.i >= len(p.b) {
			return errors.New("unexpected end")
		}
		var err error
		if p.b[p.i] == '[' {
			err = p.array(depth + 1)
		} else {
			err = p.value()
		}
		if err != nil {
			return err
		}
		p.space()
		if p.i >= len(p.b) {
			return errors.New("unexpected end")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return fmt.Errorf("unexpected %q in an array", p.b[p.i])
		}
	}
}

// value reads one scalar and stores it.
func (p *dataParser) value() error {
	start := p.i
	var tok string
	if p.b[p.i] == '"' {
		end := p.i + 1
		for end < len(p.b) && p.b[end] != '"' {
			end++
		}
		if end >= len(p.b) {
			return errors.New("unterminated string")
		}
		tok = string(p.b[p.i+1 : end])
		p.i = end + 1
		if p.t.DType != tensor.Float32 && p.t.DType != tensor.Float64 {
			return fmt.Errorf("string %q for %s data", tok, datatypes[p.t.DType])
		}
		switch tok {
		case "NaN", "Infinity", "-Infinity", "Inf", "-Inf":
		default:
			return fmt.Errorf("string %q: want a number (or \"NaN\", \"Infinity\", \"-Infinity\")", tok)
		}
	} else {
		for p.i < len(p.b) {
			c := p.b[p.i]
			if c == ',' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			p.i++
		}
		if v, ok := smallUint(p.b[start:p.i]); ok && p.t.DType == tensor.Float32 {
			// A fast path for what images are mostly made of.
			if p.n < p.size {
				p.t.F32[p.n] = float32(v)
			}
			p.n++
			return nil
		}
		tok = string(p.b[start:p.i])
	}
	k := p.n
	if tok == "" {
		return fmt.Errorf("value %d: missing", k)
	}
	p.n++
	t := p.t
	if k >= p.size {
		return nil // counted only; decodeTensor reports the mismatch
	}
	var err error
	switch t.DType {
	case tensor.Float32:
		var f float64
		f, err = parseFloat(tok, 32)
		t.F32[k] = float32(f)
	case tensor.Float64:
		t.F64[k], err = parseFloat(tok, 64)
	case tensor.Int64:
		t.I64[k], err = strconv.ParseInt(tok, 10, 64)
	case tensor.Int32:
		var v int64
		v, err = strconv.ParseInt(tok, 10, 32)
		t.I32[k] = int32(v)
	case tensor.Int8:
		var v int64
		v, err = strconv.ParseInt(tok, 10, 8)
		t.I8[k] = int8(v)
	case tensor.Uint8:
		var v uint64
		v, err = strconv.ParseUint(tok, 10, 8)
		t.U8[k] = uint8(v)
	case tensor.Bool:
		switch tok {
		case "true":
			t.B[k] = true
		case "false":
		default:
			err = fmt.Errorf("%q is not a boolean", tok)
		}
	}
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) {
			if ne.Err == strconv.ErrRange {
				return fmt.Errorf("value %d: %s is out of range for %s", k, tok, datatypes[t.DType])
			}
			return fmt.Errorf("value %d: %q is not a valid %s value", k, tok, datatypes[t.DType])
		}
		return fmt.Errorf("value %d: %v", k, err)
	}
	return nil
}

// smallUint parses a JSON number of one to seven digits without sign,
// fraction or exponent (exact in a float32).
func smallUint(b []byte) (int32, bool) {
	if len(b) == 0 || len(b) > 7 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	var v int32
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int32(c-'0')
	}
	return v, true
}

// parseFloat parses a JSON number or one of the names of the non-finite
// values. Unlike strconv.ParseFloat it refuses hex floats, "inf", "nan"
// and underscores, which JSON does not have, and a number too large for
// the type.
func parseFloat(s string, bits int) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity", "Inf":
		return math.Inf(1), nil
	case "-Infinity", "-Inf":
		return math.Inf(-1), nil
	}
	if !isJSONNumber(s) {
		return 0, &strconv.NumError{Func: "ParseFloat", Num: s, Err: strconv.ErrSyntax}
	}
	return strconv.ParseFloat(s, bits)
}

// isJSONNumber reports whether s has the syntax of a JSON number.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// appendData appends t's elements as a flat JSON array.
func appendData(b []byte, t *tensor.Tensor) []byte {
	b = append(b, '[')
	n := t.Len()
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		switch t.DType {
		case tensor.Float32:
			b = appendFloat(b, float64(t.F32[i]), 32)
		case tensor.Float64:
			b = appendFloat(b, t.F64[i], 64)
		case tensor.Int64:
			b = strconv.AppendInt(b, t.I64[i], 10)
		case tensor.Int32:
			b = strconv.AppendInt(b, int64(t.I32[i]), 10)
		case tensor.Int8:
			b = strconv.AppendInt(b, int64(t.I8[i]), 10)
		case tensor.Uint8:
			b = strconv.AppendUint(b, uint64(t.U8[i]), 10)
		case tensor.Bool:
			b = strconv.AppendBool(b, t.B[i])
		case tensor.Float16, tensor.BFloat16:
			b = appendFloat(b, t.Float64At(i), 32) // exact in a float32
		case tensor.Int16, tensor.Uint16, tensor.Uint32:
			b = strconv.AppendInt(b, int64(t.Float64At(i)), 10)
		case tensor.Uint64:
			b = strconv.AppendUint(b, tensor.Data[uint64](t)[i], 10)
		case tensor.String:
			q, _ := json.Marshal(tensor.Data[string](t)[i]) // a string always marshals
			b = append(b, q...)
		default:
			b = append(b, "null"...)
		}
	}
	return append(b, ']')
}

// appendFloat writes the shortest decimal that reads back to the same
// value of the given size, so that answers survive JSON bit for bit.
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}
