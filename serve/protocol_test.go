package serve

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/tensor"
)

func TestDecodeTensor(t *testing.T) {
	tests := []struct {
		name     string
		datatype string
		shape    []int64
		data     string
		want     *tensor.Tensor
		err      string
	}{
		{"flat", "FP32", []int64{2, 2}, `[1, 2.5, -3e2, 0]`, tensor.FromFloat32([]float32{1, 2.5, -300, 0}, 2, 2), ""},
		{"nested", "FP32", []int64{2, 2}, `[[1,2.5],[-3e2,0]]`, tensor.FromFloat32([]float32{1, 2.5, -300, 0}, 2, 2), ""},
		// The protocol only says row-major; nesting is not checked against the shape.
		{"ragged nesting", "FP32", []int64{2, 2}, `[[1],[2.5,[-3e2]],0]`, tensor.FromFloat32([]float32{1, 2.5, -300, 0}, 2, 2), ""},
		{"scalar", "INT64", []int64{}, `[7]`, tensor.FromInt64([]int64{7}, []int{}...), ""},
		{"empty", "FP32", []int64{0, 3}, `[]`, tensor.FromFloat32([]float32{}, 0, 3), ""},
		{"whitespace", "INT64", []int64{2}, " [ 1 ,\n\t-2 ] ", tensor.FromInt64([]int64{1, -2}, 2), ""},
		{"non-finite", "FP64", []int64{3}, `["NaN","Infinity","-Infinity"]`, &tensor.Tensor{DType: tensor.Float64, Shape: []int{3}, F64: []float64{math.NaN(), math.Inf(1), math.Inf(-1)}}, ""},
		{"bool", "BOOL", []int64{2}, `[true,false]`, &tensor.Tensor{DType: tensor.Bool, Shape: []int{2}, B: []bool{true, false}}, ""},
		{"uint8", "UINT8", []int64{2}, `[0,255]`, &tensor.Tensor{DType: tensor.Uint8, Shape: []int{2}, U8: []uint8{0, 255}}, ""},
		{"int8", "INT8", []int64{2}, `[-128,127]`, &tensor.Tensor{DType: tensor.Int8, Shape: []int{2}, I8: []int8{-128, 127}}, ""},
		{"int32", "INT32", []int64{1}, `[-2147483648]`, &tensor.Tensor{DType: tensor.Int32, Shape: []int{1}, I32: []int32{-2147483648}}, ""},

		{"uint8 range", "UINT8", []int64{1}, `[256]`, nil, `input "x": data: value 0: 256 is out of range for UINT8`},
		{"int8 negative zero fraction", "INT8", []int64{1}, `[-0.0]`, nil, `input "x": data: value 0: "-0.0" is not a valid INT8 value`},
		{"bool number", "BOOL", []int64{1}, `[1]`, nil, `input "x": data: value 0: "1" is not a boolean`},
		{"leading zero", "FP32", []int64{1}, `[01]`, nil, `input "x": data: value 0: "01" is not a valid FP32 value`},
		{"plus sign", "FP32", []int64{1}, `[+1]`, nil, `input "x": data: value 0: "+1" is not a valid FP32 value`},
		{"bare inf", "FP32", []int64{1}, `[inf]`, nil, `input "x": data: value 0: "inf" is not a valid FP32 value`},
		{"NaN for ints", "INT64", []int64{1}, `["NaN"]`, nil, `input "x": data: string "NaN" for INT64 data`},
		{"trailing comma", "FP32", []int64{2}, `[1,2,]`, nil, `input "x": data: value 2: missing`},
		{"unclosed", "FP32", []int64{2}, `[1,2`, nil, `input "x": data: unexpected end`},
		{"garbage after", "FP32", []int64{2}, `[1,2] x`, nil, `input "x": data: unexpected 'x' after the array`},
		{"object", "FP32", []int64{1}, `[{"a":1}]`, nil, `input "x": data: value 0: "{\"a\":1}" is not a valid FP32 value`},
		{"deep", "FP32", []int64{1}, strings.Repeat("[", 100) + "1" + strings.Repeat("]", 100), nil, `input "x": data: arrays nested over 64 deep`},
		{"BYTES", "BYTES", []int64{1}, `["a"]`, nil, `input "x": unsupported datatype "BYTES"`},
		{"over the cap", "FP32", []int64{1 << 20, 1 << 20}, `[]`, nil, `input "x": shape [1048576,1048576]: over 16777216 elements: too large`},
		{"overflow", "FP32", []int64{math.MaxInt64, 2}, `[]`, nil, `input "x": shape [9223372036854775807,2]: over 16777216 elements: too large`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &requestInput{Name: "x", Datatype: tt.datatype, Shape: tt.shape, Data: jsonRaw(tt.data)}
			got, err := decodeTensor(in, 1<<24)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("decodeTensor(%s) error %v, want %s", tt.data, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeTensor(%s): %v", tt.data, err)
			}
			if !sameBits(got, tt.want) {
				t.Errorf("decodeTensor(%s) = %v %v, want %v", tt.data, got, got, tt.want)
			}
		})
	}
}

// TestDataRoundTrip writes tensors with appendData and reads them back
// with decodeTensor: every float32 (shortest decimal), extreme integers and
// non-finite values survive bit for bit.
func TestDataRoundTrip(t *testing.T) {
	f32 := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.1, 1e-45, math.MaxFloat32, -math.SmallestNonzeroFloat32, 3.4028235e38, 1.17549435e-38,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	ts := []*tensor.Tensor{
		tensor.FromFloat32(f32, len(f32)),
		{DType: tensor.Float64, Shape: []int{3}, F64: []float64{math.Pi, 5e-324, -math.MaxFloat64}},
		tensor.FromInt64([]int64{math.MinInt64, math.MaxInt64, 0, 1 << 53}, 2, 2),
		{DType: tensor.Bool, Shape: []int{2}, B: []bool{false, true}},
	}
	for _, want := range ts {
		b := appendData(nil, want)
		shape := make([]int64, len(want.Shape))
		for i, d := range want.Shape {
			shape[i] = int64(d)
		}
		got, err := decodeTensor(&requestInput{Name: "x", Datatype: datatypes[want.DType], Shape: shape, Data: b}, 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !sameBits(got, want) {
			t.Errorf("%v through %s came back different", want, b)
		}
		if !json.Valid(b) {
			t.Errorf("appendData(%v) = %s: not JSON", want, b)
		}
	}
}

func TestIsJSONNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "12": true, "1.5": true, "1e5": true, "1E+5": true, "-1.5e-7": true,
		"": false, "-": false, "01": false, "1.": false, ".5": false, "1e": false, "+1": false, "0x10": false,
		"1_000": false, "Inf": false, "NaN": false, "1.5.2": false,
	} {
		if got := isJSONNumber(s); got != want {
			t.Errorf("isJSONNumber(%q) = %v, want %v", s, got, want)
		}
		if want != json.Valid([]byte(s)) {
			t.Errorf("test case %q disagrees with json.Valid", s)
		}
	}
}

func TestDescribeValueShapes(t *testing.T) {
	s := affineModel(t)
	got := describeValue(s.Inputs()[1])
	if want := (tensorMetadata{Name: "k", Datatype: "INT64", Shape: []int64{-1, 2}}); !reflect.DeepEqual(got, want) {
		t.Errorf("describeValue(k) = %+v, want %+v", got, want)
	}
}

// FuzzDecodeTensor feeds arbitrary data to the parser: it must not panic,
// and what it accepts must come back unchanged through appendData.
func FuzzDecodeTensor(f *testing.F) {
	for _, s := range []string{`[1,2,3,4]`, `[[1,2],[3,4]]`, `["NaN",1,2,3]`, `[1e39,0,0,0]`, `[[[[`, `[true,false,1,0]`, `[1,2,3,4,5]`} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(2))
	}
	names := []string{"FP32", "FP64", "INT64", "INT32", "UINT8", "INT8", "BOOL"}
	f.Fuzz(func(t *testing.T, data string, dt uint8) {
		name := names[int(dt)%len(names)]
		in := &requestInput{Name: "x", Datatype: name, Shape: []int64{2, 2}, Data: jsonRaw(data)}
		got, err := decodeTensor(in, 1<<10)
		if err != nil {
			return
		}
		b := appendData(nil, got)
		again, err := decodeTensor(&requestInput{Name: "x", Datatype: name, Shape: []int64{2, 2}, Data: b}, 1<<10)
		if err != nil || !sameBits(got, again) {
			t.Fatalf("%s decoded to %v, written as %s, read back as %v (%v)", data, got, b, again, err)
		}
	})
}

// TestSmallUint: the fast path takes only what the JSON grammar and
// float32 allow exactly (JSON forbids leading zeros; 2^24 bounds exact
// float32 integers, and seven digits stay below it).
func TestSmallUint(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int32
		ok   bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"255", 255, true}, {"9999999", 9999999, true},
		{"12345678", 0, false}, {"01", 0, false}, {"", 0, false}, {"-1", 0, false},
		{"1.0", 0, false}, {"1e3", 0, false}, {"2a", 0, false},
	} {
		got, ok := smallUint([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("smallUint(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestOutputOnlyTypes checks the JSON of the element types a model may
// answer with but a request cannot send: valid JSON with every value, and
// a protocol name for each.
func TestOutputOnlyTypes(t *testing.T) {
	half := tensor.New(tensor.Float16, 3)
	half.SetFloat64(0, 1.5)
	half.SetFloat64(1, -0.099975586) // float16's nearest to -0.1
	half.SetFloat64(2, math.Inf(1))
	for _, c := range []struct {
		t    *tensor.Tensor
		name string
		want string
	}{
		{half, "FP16", `[1.5,-0.099975586,"Infinity"]`},
		{tensor.Wrap(tensor.Uint16, []uint16{0, 65535}, 2), "UINT16", `[0,65535]`},
		{tensor.Wrap(tensor.Int16, []int16{-32768, 7}, 2), "INT16", `[-32768,7]`},
		{tensor.Wrap(tensor.Uint64, []uint64{math.MaxUint64}, 1), "UINT64", `[18446744073709551615]`},
		{tensor.Wrap(tensor.String, []string{"a\"b", "\x00é"}, 2), "BYTES", `["a\"b","\u0000é"]`},
	} {
		got := string(appendData(nil, c.t))
		if got != c.want || !json.Valid([]byte(got)) {
			t.Errorf("%v: appendData = %s, want %s", c.t, got, c.want)
		}
		if name := datatypeName(c.t.DType); name != c.name {
			t.Errorf("%v: datatype %q, want %q", c.t, name, c.name)
		}
		if _, ok := parseDatatype(c.name); ok {
			t.Errorf("a request may send %s, which decodeTensor cannot read", c.name)
		}
	}
}
