package onnx

import (
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/onnxkit/onnxkit/internal/onnxpb"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestReadTensorFile reads the fixtures written by onnx 1.12 (see
// testdata/README.md); the wanted values are the ones the Python script
// passed to make_tensor and from_array.
func TestReadTensorFile(t *testing.T) {
	tests := []struct {
		file, name string
		want       *tensor.Tensor
	}{
		{"typed_float32.pb", "f", tensor.FromFloat32([]float32{1.5, -2, 0, 3.25}, 2, 2)},
		{"typed_float64.pb", "d", &tensor.Tensor{DType: tensor.Float64, Shape: []int{3}, F64: []float64{1e-300, -2, 0.1}}},
		{"typed_int64.pb", "l", tensor.FromInt64([]int64{math.MinInt64, math.MaxInt64}, 2)},
		{"typed_int32.pb", "i", &tensor.Tensor{DType: tensor.Int32, Shape: []int{1, 3}, I32: []int32{math.MinInt32, 0, math.MaxInt32}}},
		{"typed_uint8.pb", "u", &tensor.Tensor{DType: tensor.Uint8, Shape: []int{3}, U8: []uint8{0, 128, 255}}},
		{"typed_int8.pb", "s", &tensor.Tensor{DType: tensor.Int8, Shape: []int{3}, I8: []int8{-128, 0, 127}}},
		{"typed_bool.pb", "b", &tensor.Tensor{DType: tensor.Bool, Shape: []int{2}, B: []bool{true, false}}},
		{"raw_int8.pb", "r", &tensor.Tensor{DType: tensor.Int8, Shape: []int{2, 2}, I8: []int8{-1, 2, 3, -128}}},
		// Written by TestGolden from these values.
		{"float32.pb", "x", tensor.FromFloat32([]float32{1, -2.5, 3e-8, 0, 1e9, 0}, 2, 3)},
		{"int64.pb", "shape", tensor.FromInt64([]int64{-1, 400}, 2)},
		{"bool.pb", "", &tensor.Tensor{DType: tensor.Bool, B: []bool{true}}},
		// float16 1 is 0x3c00, 2 is 0x4000, -2 0xc000, 65504 0x7bff.
		{"float16.pb", "h", tensor.Wrap(tensor.Float16, []uint16{0x3c00, 0x4000}, 2)},
		{"typed_float16.pb", "h16", tensor.Wrap(tensor.Float16, []uint16{0x3c00, 0xc000, 0x7bff}, 3)},
		{"typed_int16.pb", "i16", tensor.Wrap(tensor.Int16, []int16{-32768, 32767}, 2)},
		{"typed_uint32.pb", "u32", tensor.Wrap(tensor.Uint32, []uint32{0, math.MaxUint32}, 2)},
		{"string.pb", "str", tensor.Wrap(tensor.String, []string{"hi"}, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			name, got, err := ReadTensorFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatalf("ReadTensorFile(%s) = %v", tt.file, err)
			}
			if name != tt.name || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadTensorFile(%s) = %q, %v %+v, want %q, %v %+v", tt.file, name, got, got, tt.name, tt.want, tt.want)
			}
		})
	}
}

// TestReadTensorFileUnsupported checks that valid tensors of element types
// tensor.Tensor cannot hold give an UnsupportedError naming the file, the
// tensor and the type.
func TestReadTensorFileUnsupported(t *testing.T) {
	tests := []struct{ file, want string }{
		{"complex64.pb", `onnx: testdata/complex64.pb: unsupported: tensor "c": data type complex64`},
	}
	for _, tt := range tests {
		_, _, err := ReadTensorFile("testdata/" + tt.file)
		var ue *UnsupportedError
		if !errors.As(err, &ue) || err.Error() != tt.want {
			t.Errorf("ReadTensorFile(%s) = %v, want %s", tt.file, err, tt.want)
		}
	}
}

// TestTensorRoundTrip encodes a tensor of every dtype and decodes it.
func TestTensorRoundTrip(t *testing.T) {
	tests := []*tensor.Tensor{
		tensor.FromFloat32([]float32{1, float32(math.Inf(-1)), float32(math.Copysign(0, -1)), math.MaxFloat32, math.SmallestNonzeroFloat32, 7}, 3, 1, 2),
		{DType: tensor.Float64, Shape: []int{1}, F64: []float64{math.Pi}},
		tensor.FromInt64([]int64{math.MinInt64, 0, math.MaxInt64}, 3),
		{DType: tensor.Int32, Shape: []int{2}, I32: []int32{-1, 1 << 30}},
		{DType: tensor.Uint8, Shape: []int{2, 2}, U8: []uint8{0, 1, 254, 255}},
		{DType: tensor.Int8, Shape: []int{1}, I8: []int8{-128}},
		{DType: tensor.Bool, Shape: []int{3}, B: []bool{false, true, true}},
		tensor.FromFloat32([]float32{}, 0, 5),
		tensor.FromFloat32([]float32{42}),
		tensor.Wrap(tensor.Float16, []uint16{0x3c00, 0x7c00, 0x8001}, 3),
		tensor.Wrap(tensor.BFloat16, []uint16{0x3f80}, 1),
		tensor.Wrap(tensor.Int16, []int16{-32768, 7}, 2),
		tensor.Wrap(tensor.Uint16, []uint16{65535}, 1),
		tensor.Wrap(tensor.Uint32, []uint32{math.MaxUint32, 1}, 2),
		tensor.Wrap(tensor.Uint64, []uint64{math.MaxUint64}, 1),
		tensor.Wrap(tensor.String, []string{"a", "", "ü"}, 3),
		tensor.Wrap(tensor.Float8E4M3FN, []uint8{0x38, 0xff}, 2),
		tensor.Wrap(tensor.Float8E8M0, []uint8{127}, 1),
		tensor.Wrap(tensor.Int4, []int8{-8, 7, -1}, 3),
		tensor.Wrap(tensor.Uint4, []uint8{15, 0, 3, 9}, 2, 2),
		tensor.Wrap(tensor.Int2, []int8{-2, 1, 0, -1, 1}, 5),
		tensor.Wrap(tensor.Uint2, []uint8{3}, 1),
		tensor.Wrap(tensor.Float4E2M1, []uint8{0xf, 0x1}, 2),
	}
	for _, want := range tests {
		data, err := EncodeTensor("t", want)
		if err != nil {
			t.Fatalf("EncodeTensor(%v) = %v", want, err)
		}
		name, got, err := DecodeTensor(data)
		if err != nil {
			t.Fatalf("DecodeTensor(EncodeTensor(%v)) = %v", want, err)
		}
		if name != "t" || !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeTensor(EncodeTensor(%v)) = %q, %+v, want %+v", want, name, got, want)
		}
	}
}

// TestEncodeTensorRaw checks the wire form: float32 elements go to
// raw_data, little-endian (1.0 is 0x3f800000, -2.0 is 0xc0000000).
func TestEncodeTensorRaw(t *testing.T) {
	data, err := EncodeTensor("w", tensor.FromFloat32([]float32{1, -2}, 2))
	if err != nil {
		t.Fatal(err)
	}
	var tp onnxpb.TensorProto
	if err := proto.Unmarshal(data, &tp); err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}
	if string(tp.RawData) != string(want) || tp.DataType != 1 || len(tp.FloatData) != 0 ||
		!reflect.DeepEqual(tp.Dims, []int64{2}) || tp.Name != "w" {
		t.Errorf("EncodeTensor = %v, want raw_data % x, data_type 1, dims [2]", &tp, want)
	}
}

func TestEncodeTensorBad(t *testing.T) {
	tests := []struct {
		t    *tensor.Tensor
		want string
	}{
		{nil, `onnx: encode tensor "t": nil tensor`},
		{&tensor.Tensor{}, `onnx: encode tensor "t": invalid dtype invalid`},
		{&tensor.Tensor{DType: tensor.Float32, Shape: []int{3}, F32: []float32{1}}, `onnx: encode tensor "t": float32 tensor of shape [3] does not hold 3 elements`},
	}
	for _, tt := range tests {
		if _, err := EncodeTensor("t", tt.t); err == nil || err.Error() != tt.want {
			t.Errorf("EncodeTensor(%v) = %v, want %s", tt.t, err, tt.want)
		}
	}
}

func marshalTensor(t testing.TB, tp *onnxpb.TensorProto) []byte {
	b, err := proto.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeTensorBad feeds malformed and unsupported TensorProtos; each
// error must name the tensor and the fault.
func TestDecodeTensorBad(t *testing.T) {
	f4 := make([]byte, 16) // four float32 zeros
	tests := []struct {
		name string
		tp   *onnxpb.TensorProto
		want string
		kind string // "format" or "unsupported"
	}{
		{"negative dim", &onnxpb.TensorProto{Name: "w", DataType: 1, Dims: []int64{2, -2}},
			`onnx: invalid format: tensor "w": dim 1 is negative (-2)`, "format"},
		{"dims overflow", &onnxpb.TensorProto{Name: "w", DataType: 1, Dims: []int64{1 << 40, 1 << 40}},
			`onnx: invalid format: tensor "w": dims [1099511627776 1099511627776] overflow`, "format"},
		{"overflow hidden by zero", &onnxpb.TensorProto{Name: "w", DataType: 1, Dims: []int64{0, 1 << 40, 1 << 40}},
			`onnx: invalid format: tensor "w": dims [0 1099511627776 1099511627776] overflow`, "format"},
		{"dims larger than raw data", &onnxpb.TensorProto{Name: "w", DataType: 1, Dims: []int64{100, 100}, RawData: f4},
			`onnx: invalid format: tensor "w": 16 bytes of raw_data, want 40000 (10000 elements of float32)`, "format"},
		{"raw data larger than dims", &onnxpb.TensorProto{Name: "w", DataType: 1, Dims: []int64{3}, RawData: f4},
			`onnx: invalid format: tensor "w": 16 bytes of raw_data, want 12 (3 elements of float32)`, "format"},
		{"no data", &onnxpb.TensorProto{Name: "w", DataType: 7, Dims: []int64{2}},
			`onnx: invalid format: tensor "w": 0 bytes of raw_data, want 16 (2 elements of int64)`, "format"},
		{"scalar without data", &onnxpb.TensorProto{Name: "w", DataType: 1},
			`onnx: invalid format: tensor "w": 0 bytes of raw_data, want 4 (1 elements of float32)`, "format"},
		{"typed count", &onnxpb.TensorProto{Name: "w", DataType: 1, Dims: []int64{3}, FloatData: []float32{1, 2}},
			`onnx: invalid format: tensor "w": 2 values in float_data, want 3`, "format"},
		{"wrong typed field", &onnxpb.TensorProto{Name: "w", DataType: 1, Dims: []int64{1}, Int64Data: []int64{1}},
			`onnx: invalid format: tensor "w": float32 elements in int64_data, want float_data or raw_data`, "format"},
		{"raw and typed", &onnxpb.TensorProto{Name: "w", DataType: 1, Dims: []int64{1}, FloatData: []float32{1}, RawData: f4[:4]},
			`onnx: invalid format: tensor "w": data in both raw_data and float_data`, "format"},
		{"two typed", &onnxpb.TensorProto{Name: "w", DataType: 1, Dims: []int64{1}, FloatData: []float32{1}, Int32Data: []int32{1}},
			`onnx: invalid format: tensor "w": data in both float_data and int32_data`, "format"},
		{"uint8 out of range", &onnxpb.TensorProto{Name: "u", DataType: 2, Dims: []int64{2}, Int32Data: []int32{1, 256}},
			`onnx: invalid format: tensor "u": uint8 value 256 out of range at index 1`, "format"},
		{"int8 out of range", &onnxpb.TensorProto{Name: "s", DataType: 3, Dims: []int64{1}, Int32Data: []int32{-129}},
			`onnx: invalid format: tensor "s": int8 value -129 out of range at index 0`, "format"},
		{"no data type", &onnxpb.TensorProto{Name: "w", Dims: []int64{1}},
			`onnx: invalid format: tensor "w": data_type is not set`, "format"},
		{"unknown data type", &onnxpb.TensorProto{Name: "w", DataType: 99},
			`onnx: invalid format: tensor "w": unknown data_type 99`, "format"},
		{"unknown data location", &onnxpb.TensorProto{Name: "w", DataType: 1, DataLocation: 7},
			`onnx: invalid format: tensor "w": unknown data_location 7`, "format"},
		{"float16 out of range", &onnxpb.TensorProto{Name: "h", DataType: 10, Dims: []int64{1}, Int32Data: []int32{65536}},
			`onnx: invalid format: tensor "h": float16 value 65536 out of range at index 0`, "format"},
		{"int16 out of range", &onnxpb.TensorProto{Name: "i", DataType: 5, Dims: []int64{1}, Int32Data: []int32{-32769}},
			`onnx: invalid format: tensor "i": int16 value -32769 out of range at index 0`, "format"},
		{"uint32 out of range", &onnxpb.TensorProto{Name: "u", DataType: 12, Dims: []int64{1}, Uint64Data: []uint64{1 << 32}},
			`onnx: invalid format: tensor "u": uint32 value 4294967296 out of range at index 0`, "format"},
		{"float16 in float_data", &onnxpb.TensorProto{Name: "h", DataType: 10, Dims: []int64{1}, FloatData: []float32{1}},
			`onnx: invalid format: tensor "h": float16 elements in float_data, want int32_data or raw_data`, "format"},
		{"string in raw_data", &onnxpb.TensorProto{Name: "s", DataType: 8, Dims: []int64{1}, RawData: []byte{1}},
			`onnx: invalid format: tensor "s": string elements must be in string_data, not raw_data`, "format"},
		{"bfloat16 short raw_data", &onnxpb.TensorProto{Name: "h", DataType: 16, Dims: []int64{2}, RawData: []byte{1, 2}},
			`onnx: invalid format: tensor "h": 2 bytes of raw_data, want 4 (2 elements of bfloat16)`, "format"},
		{"complex128", &onnxpb.TensorProto{Name: "h", DataType: 15},
			`onnx: unsupported: tensor "h": data type complex128`, "unsupported"},
		{"int4 short raw_data", &onnxpb.TensorProto{Name: "q", DataType: 22, Dims: []int64{3}, RawData: []byte{1}},
			`onnx: invalid format: tensor "q": 1 bytes of raw_data, want 2 (3 elements of int4)`, "format"},
		{"uint4 packed int32_data out of range", &onnxpb.TensorProto{Name: "q", DataType: 21, Dims: []int64{2}, Int32Data: []int32{256}},
			`onnx: invalid format: tensor "q": packed uint4 byte 256 out of range at index 0`, "format"},
		{"external", &onnxpb.TensorProto{Name: "big", DataType: 1, Dims: []int64{1 << 20},
			DataLocation: onnxpb.TensorProto_EXTERNAL,
			ExternalData: []*onnxpb.StringStringEntryProto{{Key: "location", Value: "weights.bin"}}},
			`onnx: unsupported: tensor "big": external data (location "weights.bin")`, "unsupported"},
		{"segment", &onnxpb.TensorProto{Name: "w", DataType: 1, Segment: &onnxpb.TensorProto_Segment{Begin: 0, End: 4}},
			`onnx: unsupported: tensor "w": segmented tensors`, "unsupported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := DecodeTensor(marshalTensor(t, tt.tp))
			if err == nil {
				t.Fatalf("DecodeTensor = %v, want error %s", got, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("DecodeTensor error = %s\nwant %s", err, tt.want)
			}
			var fe *FormatError
			var ue *UnsupportedError
			if tt.kind == "format" && !errors.As(err, &fe) || tt.kind == "unsupported" && !errors.As(err, &ue) {
				t.Errorf("DecodeTensor error is %T, want the %s kind", err, tt.kind)
			}
		})
	}
}

// TestDecodeTensorHugeDims checks that a tensor claiming 10^12 elements is
// rejected without allocating its storage, even with the byte cap lifted
// so that only the data-length check stands in the way.
func TestDecodeTensorHugeDims(t *testing.T) {
	data := marshalTensor(t, &onnxpb.TensorProto{Name: "huge", DataType: 1,
		Dims: []int64{1000000, 1000000}, RawData: make([]byte, 64)})
	opts := DecodeOptions{MaxTensorBytes: math.MaxInt64}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := opts.DecodeTensor(data)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "64 bytes of raw_data, want 4000000000000") {
		t.Errorf("DecodeTensor(10^12 elements) = %v, want a raw_data length error", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("DecodeTensor(10^12 elements) allocated %d bytes, want under 1 MiB", n)
	}
	// With the default cap the size alone rejects it.
	_, _, err = DecodeTensor(data)
	want := `onnx: invalid format: tensor "huge": 1000000000000 elements of float32 exceed the limit of 2147483648 bytes`
	if err == nil || err.Error() != want {
		t.Errorf("DecodeTensor(10^12 elements) = %v, want %s", err, want)
	}
}

// TestDecodeTensorMaxBytes checks the MaxTensorBytes cap: 4 float32
// elements are 16 bytes.
func TestDecodeTensorMaxBytes(t *testing.T) {
	data, err := EncodeTensor("x", tensor.FromFloat32([]float32{1, 2, 3, 4}, 4))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := (DecodeOptions{MaxTensorBytes: 16}).DecodeTensor(data); err != nil {
		t.Errorf("DecodeTensor with cap 16 = %v, want nil", err)
	}
	_, _, err = (DecodeOptions{MaxTensorBytes: 15}).DecodeTensor(data)
	want := `onnx: invalid format: tensor "x": 4 elements of float32 exceed the limit of 15 bytes`
	if err == nil || err.Error() != want {
		t.Errorf("DecodeTensor with cap 15 = %v, want %s", err, want)
	}
}

// TestEncodeTensorPacked checks the packing of 4- and 2-bit elements: the
// first in the low bits (onnx.proto: int4 -8, 7, -1 is 0x78 0x0f; uint2 1,
// 2, 3, 0, 1 is 0b00_11_10_01 = 0x39 then 0x01).
func TestEncodeTensorPacked(t *testing.T) {
	for _, c := range []struct {
		t    *tensor.Tensor
		want []byte
	}{
		{tensor.Wrap(tensor.Int4, []int8{-8, 7, -1}, 3), []byte{0x78, 0x0f}},
		{tensor.Wrap(tensor.Uint2, []uint8{1, 2, 3, 0, 1}, 5), []byte{0x39, 0x01}},
	} {
		data, err := EncodeTensor("p", c.t)
		if err != nil {
			t.Fatal(err)
		}
		var tp onnxpb.TensorProto
		if err := proto.Unmarshal(data, &tp); err != nil {
			t.Fatal(err)
		}
		if string(tp.RawData) != string(c.want) {
			t.Errorf("EncodeTensor(%v) raw_data = %#v, want %#v", c.t, tp.RawData, c.want)
		}
	}
}
