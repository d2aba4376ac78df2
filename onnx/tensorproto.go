package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/onnxkit/onnxkit/internal/onnxpb"
	"github.com/onnxkit/onnxkit/tensor"
)

// DefaultMaxTensorBytes is the largest tensor, in bytes of decoded
// elements, that decoding accepts when DecodeOptions.MaxTensorBytes is zero.
const DefaultMaxTensorBytes = 2 << 30

// DecodeTensor decodes a serialized TensorProto, the content of an
// input_N.pb or output_N.pb file of the ONNX test layout, and returns the
// tensor's name and value. It is safe on untrusted input: every declared
// size is checked against the data present before anything is allocated.
func DecodeTensor(data []byte) (name string, t *tensor.Tensor, err error) {
	return DecodeOptions{}.DecodeTensor(data)
}

// DecodeTensor is like the package function DecodeTensor, with o's limits.
func (o DecodeOptions) DecodeTensor(data []byte) (name string, t *tensor.Tensor, err error) {
	d := newDecoder(o)
	tp := new(onnxpb.TensorProto)
	if err := d.unmarshal(data, tp); err != nil {
		return "", nil, err
	}
	t, err = d.tensor(tp, tensorLabel(tp.GetName(), "tensor"))
	if err != nil {
		return "", nil, err
	}
	return tp.GetName(), t, nil
}

// EncodeTensor serializes t as a TensorProto with the given name, elements
// in raw_data, little-endian.
func EncodeTensor(name string, t *tensor.Tensor) ([]byte, error) {
	tp, err := tensorToProto(name, t, tensorLabel(name, "tensor"))
	if err != nil {
		return nil, err
	}
	return marshal(tp)
}

func marshal(m proto.Message) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("onnx: encode: %w", err)
	}
	return b, nil
}

// tensorLabel names a tensor in error messages: `tensor "w"`, or what when
// the tensor has no name.
func tensorLabel(name, what string) string {
	if name == "" {
		return what
	}
	return fmt.Sprintf("%s %q", what, name)
}

// tensor converts a TensorProto to a tensor. what names the tensor in
// errors. All sizes are checked before anything is allocated.
func (d *decoder) tensor(tp *onnxpb.TensorProto, what string) (*tensor.Tensor, error) {
	if tp.GetSegment() != nil {
		return nil, d.unsupported("%s: segmented tensors", what)
	}
	switch loc := tp.GetDataLocation(); loc {
	case onnxpb.TensorProto_DEFAULT:
		if len(tp.GetExternalData()) > 0 {
			return nil, d.unsupported("%s: external data (%s)", what, externalLocation(tp))
		}
	case onnxpb.TensorProto_EXTERNAL:
		return nil, d.unsupported("%s: external data (%s)", what, externalLocation(tp))
	default:
		return nil, d.formatError(nil, "%s: unknown data_location %d", what, int32(loc))
	}

	// The shape: non-negative dims whose product fits in an int, counting
	// only the non-zero ones so that a zero dim cannot hide an overflow.
	dims := tp.GetDims()
	var shape []int // nil for a scalar, as tensor.New makes it
	if len(dims) > 0 {
		shape = make([]int, len(dims))
	}
	n, nz := int64(1), int64(1)
	for i, v := range dims {
		if v < 0 {
			return nil, d.formatError(nil, "%s: dim %d is negative (%d)", what, i, v)
		}
		if v > math.MaxInt || (v != 0 && nz > math.MaxInt/v) {
			return nil, d.formatError(nil, "%s: dims %v overflow", what, dims)
		}
		if v != 0 {
			nz *= v
		}
		n *= v
		shape[i] = int(v)
	}

	code := tp.GetDataType()
	dt := DTypeOf(code)
	if dt == tensor.Invalid {
		if code == 0 {
			return nil, d.formatError(nil, "%s: data_type is not set", what)
		}
		if code < 0 || int(code) >= len(elemTypeNames) {
			return nil, d.formatError(nil, "%s: unknown data_type %d", what, code)
		}
		return nil, d.unsupported("%s: data type %s", what, ElemTypeName(code))
	}
	size := int64(dt.Size())
	if n > d.maxTensorBytes/size {
		return nil, d.formatError(nil, "%s: %d elements of %v exceed the limit of %d bytes",
			what, n, dt, d.maxTensorBytes)
	}

	// Exactly one place holds the elements, and it holds exactly n of them.
	raw := tp.GetRawData()
	var typedName string
	var typedLen int
	for _, f := range []struct {
		name string
		n    int
	}{
		{"float_data", len(tp.GetFloatData())},
		{"int32_data", len(tp.GetInt32Data())},
		{"int64_data", len(tp.GetInt64Data())},
		{"double_data", len(tp.GetDoubleData())},
		{"uint64_data", len(tp.GetUint64Data())},
		{"string_data", len(tp.GetStringData())},
	} {
		if f.n == 0 {
			continue
		}
		if typedName != "" {
			return nil, d.formatError(nil, "%s: data in both %s and %s", what, typedName, f.name)
		}
		typedName, typedLen = f.name, f.n
	}
	if len(raw) > 0 && typedName != "" {
		return nil, d.formatError(nil, "%s: data in both raw_data and %s", what, typedName)
	}
	if typedName == "" && dt == tensor.String && n > 0 {
		return nil, d.formatError(nil, "%s: string elements must be in string_data, not raw_data", what)
	}
	if typedName == "" {
		if want := rawLen(dt, n); int64(len(raw)) != want {
			return nil, d.formatError(nil, "%s: %d bytes of raw_data, want %d (%d elements of %v)",
				what, len(raw), want, n, dt)
		}
		if dt.Bits() < 8 {
			return unpack(dt, shape, int(n), raw), nil
		}
		return tensorFromRaw(dt, shape, int(n), raw), nil
	}
	if want := typedFieldOf(dt); typedName != want {
		return nil, d.formatError(nil, "%s: %v elements in %s, want %s or raw_data", what, dt, typedName, want)
	}
	if dt.Bits() < 8 {
		// Packed as in raw_data, one byte per int32_data entry.
		if want := rawLen(dt, n); int64(typedLen) != want {
			return nil, d.formatError(nil, "%s: %d values in %s, want %d (%d packed elements of %v)", what, typedLen, typedName, want, n, dt)
		}
		b := make([]byte, typedLen)
		for i, v := range tp.GetInt32Data() {
			if v < 0 || v > math.MaxUint8 {
				return nil, d.formatError(nil, "%s: packed %v byte %d out of range at index %d", what, dt, v, i)
			}
			b[i] = byte(v)
		}
		return unpack(dt, shape, int(n), b), nil
	}
	if int64(typedLen) != n {
		return nil, d.formatError(nil, "%s: %d values in %s, want %d", what, typedLen, typedName, n)
	}
	return d.typedTensor(tp, dt, shape, int(n), what)
}

// typedTensor takes the n elements of tp's typed field (the one typedFieldOf
// names for dt), checking that each fits dt.
func (d *decoder) typedTensor(tp *onnxpb.TensorProto, dt tensor.DType, shape []int, n int, what string) (*tensor.Tensor, error) {
	// The typed slices are taken over, not copied: the message is dropped
	// after decoding.
	switch dt {
	case tensor.Float32:
		return &tensor.Tensor{DType: dt, Shape: shape, F32: tp.GetFloatData()}, nil
	case tensor.Float64:
		return &tensor.Tensor{DType: dt, Shape: shape, F64: tp.GetDoubleData()}, nil
	case tensor.Int64:
		return &tensor.Tensor{DType: dt, Shape: shape, I64: tp.GetInt64Data()}, nil
	case tensor.Int32:
		return &tensor.Tensor{DType: dt, Shape: shape, I32: tp.GetInt32Data()}, nil
	case tensor.Uint64:
		return tensor.Wrap(dt, tp.GetUint64Data(), shape...), nil
	case tensor.String:
		ss := make([]string, n)
		for i, b := range tp.GetStringData() {
			ss[i] = string(b)
		}
		return tensor.Wrap(dt, ss, shape...), nil
	case tensor.Uint32:
		t := tensor.New(dt, shape...)
		for i, v := range tp.GetUint64Data() {
			if v > math.MaxUint32 {
				return nil, d.formatError(nil, "%s: uint32 value %d out of range at index %d", what, v, i)
			}
			t.SetInt64(i, int64(v))
		}
		return t, nil
	}
	// The rest hold one int32_data entry each: an integer, a bool, or the
	// bits of a float16, bfloat16 or float8, in the range of dt's width.
	b := dt.Bits()
	lo, hi := int64(0), int64(1)<<b-1
	if dt.Kind() == tensor.KindSigned {
		lo, hi = -1<<(b-1), 1<<(b-1)-1
	}
	t := tensor.New(dt, shape...)
	for i, v := range tp.GetInt32Data() {
		switch {
		case dt == tensor.Bool:
			t.B[i] = v != 0
		case int64(v) < lo || int64(v) > hi:
			return nil, d.formatError(nil, "%s: %v value %d out of range at index %d", what, dt, v, i)
		case dt.IsFloat() && dt.Storage() == tensor.Uint16:
			tensor.Data[uint16](t)[i] = uint16(v) // the bits as they are
		case dt.IsFloat():
			tensor.Data[uint8](t)[i] = uint8(v)
		default:
			t.SetInt64(i, int64(v))
		}
	}
	return t, nil
}

// typedFieldOf is the TensorProto field that holds elements of dt when
// raw_data is not used.
func typedFieldOf(dt tensor.DType) string {
	switch dt {
	case tensor.Float32:
		return "float_data"
	case tensor.Float64:
		return "double_data"
	case tensor.Int64:
		return "int64_data"
	case tensor.Uint32, tensor.Uint64:
		return "uint64_data"
	case tensor.String:
		return "string_data"
	}
	return "int32_data" // int32, int16, uint16, int8, uint8, bool, float16, bfloat16
}

// externalLocation describes where an external tensor's data lives.
func externalLocation(tp *onnxpb.TensorProto) string {
	for _, e := range tp.GetExternalData() {
		if e.GetKey() == "location" {
			return fmt.Sprintf("location %q", e.GetValue())
		}
	}
	return "no location given"
}

// tensorFromRaw decodes n little-endian elements; len(raw) is n*dt.Size().
func tensorFromRaw(dt tensor.DType, shape []int, n int, raw []byte) *tensor.Tensor {
	le := binary.LittleEndian
	switch dt.Storage() {
	case tensor.Float32:
		f := make([]float32, n)
		for i := range f {
			f[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
		return tensor.Wrap(dt, f, shape...)
	case tensor.Float64:
		return tensor.Wrap(dt, fromRaw(raw, n, func(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) }), shape...)
	case tensor.Int64:
		return tensor.Wrap(dt, fromRaw(raw, n, func(b []byte) int64 { return int64(le.Uint64(b)) }), shape...)
	case tensor.Int32:
		return tensor.Wrap(dt, fromRaw(raw, n, func(b []byte) int32 { return int32(le.Uint32(b)) }), shape...)
	case tensor.Int16:
		return tensor.Wrap(dt, fromRaw(raw, n, func(b []byte) int16 { return int16(le.Uint16(b)) }), shape...)
	case tensor.Int8:
		return tensor.Wrap(dt, fromRaw(raw, n, func(b []byte) int8 { return int8(b[0]) }), shape...)
	case tensor.Uint64:
		return tensor.Wrap(dt, fromRaw(raw, n, le.Uint64), shape...)
	case tensor.Uint32:
		return tensor.Wrap(dt, fromRaw(raw, n, le.Uint32), shape...)
	case tensor.Uint16:
		return tensor.Wrap(dt, fromRaw(raw, n, le.Uint16), shape...)
	case tensor.Uint8:
		return tensor.Wrap(dt, append(make([]uint8, 0, n), raw...), shape...)
	case tensor.Bool:
		return tensor.Wrap(dt, fromRaw(raw, n, func(b []byte) bool { return b[0] != 0 }), shape...)
	}
	return tensor.New(dt, shape...) // strings: only n == 0 gets here
}

// rawLen is the size in bytes of n elements of dt in raw_data: the 4- and
// 2-bit types are packed, first element in the low bits.
func rawLen(dt tensor.DType, n int64) int64 {
	if b := int64(dt.Bits()); b < 8 {
		return (n*b + 7) / 8
	}
	return n * int64(dt.Size())
}

// unpack decodes n packed 4- or 2-bit elements of dt (len(b) is
// rawLen(dt, n)), sign-extending the signed ones.
func unpack(dt tensor.DType, shape []int, n int, b []byte) *tensor.Tensor {
	t := tensor.New(dt, shape...)
	bits := dt.Bits()
	mask := byte(1)<<bits - 1
	u, s := tensor.Data[uint8](t), tensor.Data[int8](t)
	for i := range n {
		v := b[i*bits/8] >> (i * bits % 8) & mask
		if s != nil {
			s[i] = int8(v<<(8-bits)) >> (8 - bits) // sign-extend
		} else {
			u[i] = v
		}
	}
	return t
}

// pack encodes the 4- or 2-bit elements of t as rawLen bytes.
func pack(t *tensor.Tensor) []byte {
	n := t.Len()
	bits := t.DType.Bits()
	b := make([]byte, rawLen(t.DType, int64(n)))
	mask := byte(1)<<bits - 1
	u, s := tensor.Data[uint8](t), tensor.Data[int8](t)
	for i := range n {
		var v byte
		if s != nil {
			v = byte(s[i]) & mask
		} else {
			v = u[i] & mask
		}
		b[i*bits/8] |= v << (i * bits % 8)
	}
	return b
}

// fromRaw decodes n elements of len(raw)/n bytes each with get.
func fromRaw[T any](raw []byte, n int, get func([]byte) T) []T {
	s := make([]T, n)
	if n == 0 {
		return s
	}
	size := len(raw) / n
	for i := range s {
		s[i] = get(raw[i*size:])
	}
	return s
}

// tensorToProto converts a tensor to a TensorProto with its elements in
// raw_data, little-endian. what names the tensor in errors.
func tensorToProto(name string, t *tensor.Tensor, what string) (*onnxpb.TensorProto, error) {
	if t == nil {
		return nil, fmt.Errorf("onnx: encode %s: nil tensor", what)
	}
	code := ElemTypeOf(t.DType)
	if code == 0 {
		return nil, fmt.Errorf("onnx: encode %s: invalid dtype %v", what, t.DType)
	}
	if !t.Valid() {
		return nil, fmt.Errorf("onnx: encode %s: %v tensor of shape %v does not hold %d elements",
			what, t.DType, t.Shape, t.Len())
	}
	n := t.Len()
	dims := make([]int64, len(t.Shape))
	for i, v := range t.Shape {
		dims[i] = int64(v)
	}
	var raw []byte
	if t.DType != tensor.String {
		raw = make([]byte, rawLen(t.DType, int64(n)))
	}
	le := binary.LittleEndian
	switch t.DType.Storage() {
	case tensor.Float32:
		for i, v := range t.F32 {
			le.PutUint32(raw[4*i:], math.Float32bits(v))
		}
	case tensor.Float64:
		for i, v := range t.F64 {
			le.PutUint64(raw[8*i:], math.Float64bits(v))
		}
	case tensor.Int64:
		for i, v := range t.I64 {
			le.PutUint64(raw[8*i:], uint64(v))
		}
	case tensor.Int32:
		for i, v := range t.I32 {
			le.PutUint32(raw[4*i:], uint32(v))
		}
	case tensor.Int16:
		for i, v := range tensor.Data[int16](t) {
			le.PutUint16(raw[2*i:], uint16(v))
		}
	case tensor.Uint64:
		for i, v := range tensor.Data[uint64](t) {
			le.PutUint64(raw[8*i:], v)
		}
	case tensor.Uint32:
		for i, v := range tensor.Data[uint32](t) {
			le.PutUint32(raw[4*i:], v)
		}
	case tensor.Uint16:
		for i, v := range tensor.Data[uint16](t) {
			le.PutUint16(raw[2*i:], v)
		}
	case tensor.Bool:
		for i, v := range t.B {
			if v {
				raw[i] = 1
			}
		}
	case tensor.Int8, tensor.Uint8:
		if t.DType.Bits() < 8 {
			raw = pack(t)
		} else if s := tensor.Data[int8](t); s != nil {
			for i, v := range s {
				raw[i] = byte(v)
			}
		} else {
			copy(raw, tensor.Data[uint8](t))
		}
	}
	tp := &onnxpb.TensorProto{Name: name, Dims: dims, DataType: code}
	for _, v := range tensor.Data[string](t) {
		tp.StringData = append(tp.StringData, []byte(v))
	}
	if len(raw) > 0 {
		tp.RawData = raw
	}
	return tp, nil
}
