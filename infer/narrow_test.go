package infer

import (
	"math"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// ts lists tensors.
func ts(t ...*tensor.Tensor) []*tensor.Tensor { return t }

// half and bf make float16 and bfloat16 tensors of the given values.
func half(shape []int, vals ...float64) *tensor.Tensor { return ewT(tensor.Float16, shape, vals...) }
func bf(shape []int, vals ...float64) *tensor.Tensor   { return ewT(tensor.BFloat16, shape, vals...) }

// TestNarrowFloats runs ops without float16 kernels on float16 and
// bfloat16 values: computed in float32 and rounded to nearest even on
// store, as onnxruntime does. Expected values by hand: 2048+1 = 2049 is a
// tie between the float16 neighbours 2048 and 2050 and goes to 2048 (even
// mantissa), 2050+1 to 2052 (2050's mantissa is odd); 256+1 and 258+1
// likewise in bfloat16 (8 significant bits).
func TestNarrowFloats(t *testing.T) {
	s := func(d ...int) []int { return d }
	tests := []struct {
		name      string
		op        string
		attrs     []*onnx.Attribute
		constFrom int
		in        []*tensor.Tensor
		want      *tensor.Tensor
	}{
		{name: "add float16", op: "Add", constFrom: 2, in: ts(half(s(3), 1, 2048, 2050), half(s(3), 1, 1, 1)),
			want: half(s(3), 2, 2048, 2052)},
		{name: "add bfloat16", op: "Add", constFrom: 2, in: ts(bf(s(2), 256, 258), bf(s(2), 1, 1)),
			want: bf(s(2), 256, 260)},
		{name: "overflow to inf", op: "Mul", constFrom: 2, in: ts(half(s(1), 300), half(s(1), 300)),
			want: half(s(1), math.Inf(1))},
		// Gemm's float16 weights are constants: widened once at load.
		{name: "gemm constant weights", op: "Gemm", constFrom: 1, in: ts(half(s(1, 2), 1, 2), half(s(2, 1), 3, 4)),
			want: half(s(1, 1), 11)},
		// Only constant inputs: the output is still float16.
		{name: "constant input only", op: "Neg", constFrom: 0, in: ts(half(s(1), 0.5)), want: half(s(1), -0.5)},
		// Outputs that are not float keep their type.
		{name: "argmax", op: "ArgMax", constFrom: 1, in: ts(half(s(3), 1, 3, 2)), want: ewI64(s(1), 1)},
		{name: "shape", op: "Shape", constFrom: 1, in: ts(half(s(2, 3), 1, 2, 3, 4, 5, 6)), want: ewI64(s(2), 2, 3)},
		{name: "transpose keeps bits", op: "Transpose", constFrom: 1, in: ts(half(s(1, 2), 0.1, -0)),
			want: half(s(2, 1), 0.1, -0)},
		{name: "less", op: "Less", constFrom: 2, in: ts(half(s(2), 1, 2), half(s(2), 2, 2)), want: ewBool(s(2), true, false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runOpConst(tt.constFrom, tt.op, 17, tt.attrs, 1, tt.in...)
			if err != nil {
				t.Fatalf("%s: %v", tt.op, err)
			}
			if msg := ewDiff(got[0], tt.want); msg != "" {
				t.Errorf("%s: %s", tt.op, msg)
			}
		})
	}
}

// TestCastNewTypes checks Cast to and from the dtypes without a field of
// their own. Expected values: float16 0.1 is 0.0999755859375 (0x2e66);
// 65520 rounds to +Inf; integers wrap (-1 is 65535 in uint16, 300 is 44
// in int8); strings format and parse the shortest float32 decimal.
func TestCastNewTypes(t *testing.T) {
	s := func(d ...int) []int { return d }
	to := func(code int64) []*onnx.Attribute { return []*onnx.Attribute{ewInt("to", code)} }
	ewRunCases(t, []ewCase{
		{name: "f32 to f16", op: "Cast", attrs: to(10), in: ts(ewF32(s(4), 0.1, 65520, 1e-8, -2)),
			want: ts(half(s(4), 0.0999755859375, math.Inf(1), 0, -2))},
		{name: "f16 to f64", op: "Cast", attrs: to(11), in: ts(half(s(1), 0.1)), want: ts(ewT(tensor.Float64, s(1), 0.0999755859375))},
		{name: "f16 to f32", op: "Cast", attrs: to(1), in: ts(half(s(2), 0.1, -65504)), want: ts(ewF32(s(2), 0.0999755859375, -65504))},
		{name: "f32 to bf16", op: "Cast", attrs: to(16), in: ts(ewF32(s(1), 1.00390625)), want: ts(bf(s(1), 1))},
		{name: "i64 to u16", op: "Cast", attrs: to(4), in: ts(ewI64(s(2), -1, 65536)), want: ts(ewT(tensor.Uint16, s(2), 65535, 0))},
		{name: "u64 to i8", op: "Cast", attrs: to(3), in: ts(ewT(tensor.Uint64, s(1), 300)), want: ts(ewT(tensor.Int8, s(1), 44))},
		{name: "i16 to bool", op: "Cast", attrs: to(9), in: ts(ewT(tensor.Int16, s(2), 0, -3)), want: ts(ewBool(s(2), false, true))},
		{name: "f32 to string", op: "Cast", attrs: to(8), in: ts(ewF32(s(1), 1.5)), want: ts(tensor.Wrap(tensor.String, []string{"1.5"}, 1))},
		{name: "i64 to string", op: "Cast", attrs: to(8), in: ts(ewI64(s(1), 123456789012)), want: ts(tensor.Wrap(tensor.String, []string{"123456789012"}, 1))},
		{name: "f64 to string", op: "Cast", attrs: to(8), in: ts(ewT(tensor.Float64, s(1), 0.1)), want: ts(tensor.Wrap(tensor.String, []string{"0.1"}, 1))},
		{name: "string to f32", op: "Cast", attrs: to(1), in: ts(tensor.Wrap(tensor.String, []string{"-2.25"}, 1)), want: ts(ewF32(s(1), -2.25))},
		{name: "cast-1 name", op: "Cast", opset: 1, attrs: []*onnx.Attribute{{Name: "to", Type: onnx.AttrString, S: []byte("FLOAT16")}},
			in: ts(ewF32(s(1), 1)), want: ts(half(s(1), 1))},
	})
}

// TestWiderIntegerTypes runs ops on the integer types without a field of
// their own, and strings. Expected values by hand: uint32 wraps modulo
// 2^32, uint16 1<<15 shifted left once is 0, int16 saturates at -32768.
func TestWiderIntegerTypes(t *testing.T) {
	s := func(d ...int) []int { return d }
	u32 := func(v ...float64) *tensor.Tensor { return ewT(tensor.Uint32, s(len(v)), v...) }
	u16 := func(v ...float64) *tensor.Tensor { return ewT(tensor.Uint16, s(len(v)), v...) }
	i16 := func(v ...float64) *tensor.Tensor { return ewT(tensor.Int16, s(len(v)), v...) }
	str := func(v ...string) *tensor.Tensor { return tensor.Wrap(tensor.String, v, len(v)) }
	ewRunCases(t, []ewCase{
		{name: "add uint32 wraps", op: "Add", in: ts(u32(4294967295, 2), u32(1, 3)), want: ts(u32(0, 5))},
		{name: "sub int16", op: "Sub", in: ts(i16(-32768, 5), i16(1, 7)), want: ts(i16(32767, -2))},
		{name: "max uint16", op: "Max", in: ts(u16(1, 65535), u16(2, 3)), want: ts(u16(2, 65535))},
		{name: "less uint64", op: "Less", in: ts(ewT(tensor.Uint64, s(2), 1, 5), ewT(tensor.Uint64, s(2), 2, 5)), want: ts(ewBool(s(2), true, false))},
		{name: "bitshift uint16", op: "BitShift", attrs: []*onnx.Attribute{{Name: "direction", Type: onnx.AttrString, S: []byte("LEFT")}},
			in: ts(u16(1<<15, 3), u16(1, 2)), want: ts(u16(0, 12))},
		{name: "mod int16", op: "Mod", in: ts(i16(-7, 7), i16(3, -3)), want: ts(i16(2, -2))},
		{name: "equal string", op: "Equal", opset: 19, in: ts(str("a", "b"), str("a", "c")), want: ts(ewBool(s(2), true, false))},
		{name: "gather string", op: "Gather", in: ts(str("x", "y", "z"), ewI64(s(2), 2, 0)), want: ts(str("z", "x"))},
		{name: "quantize int16", op: "QuantizeLinear", opset: 21, in: ts(ewF32(s(2), 1000.5, -70000), ewF32(nil, 1), ewT(tensor.Int16, nil, 0)),
			want: ts(i16(1000, -32768))},
		{name: "dequantize uint16", op: "DequantizeLinear", opset: 21, in: ts(u16(65535), ewF32(nil, 0.5), ewT(tensor.Uint16, nil, 1)),
			want: ts(ewF32(s(1), 32767))},
	})
}

// TestFloat8AndSmallInts checks Cast, QuantizeLinear and DequantizeLinear
// on the float8 and 4-bit types. Expected values from Cast's tables:
// float8e4m3fn's largest value is 448, out of range values saturate to it
// or, with saturate=0, become NaN; int4 wraps (-9 is 7) in Cast and
// saturates in QuantizeLinear; float8e4m3fn 0x38 is 1.
func TestFloat8AndSmallInts(t *testing.T) {
	s := func(d ...int) []int { return d }
	to := func(code, sat int64) []*onnx.Attribute {
		return []*onnx.Attribute{ewInt("to", code), ewInt("saturate", sat)}
	}
	e4m3 := func(v ...float64) *tensor.Tensor { return ewT(tensor.Float8E4M3FN, s(len(v)), v...) }
	ewRunCases(t, []ewCase{
		{name: "to e4m3fn saturate", op: "Cast", opset: 19, attrs: to(17, 1), in: ts(ewF32(s(2), 500, -0.3)), want: ts(e4m3(448, -0.3125))},
		{name: "to e4m3fn no saturate", op: "Cast", opset: 19, attrs: to(17, 0), in: ts(ewF32(s(1), 500)), want: ts(e4m3(math.NaN()))},
		{name: "to int4 wraps", op: "Cast", opset: 21, attrs: to(22, 1), in: ts(ewF32(s(2), -9, 7)), want: ts(ewT(tensor.Int4, s(2), 7, 7))},
		{name: "e4m3fn to f32", op: "Cast", opset: 19, attrs: to(1, 1), in: ts(e4m3(448, 0.5)), want: ts(ewF32(s(2), 448, 0.5))},
		{name: "quantize int4 saturates", op: "QuantizeLinear", opset: 21, in: ts(ewF32(s(2), 100, -100), ewF32(nil, 1), ewT(tensor.Int4, nil, 0)),
			want: ts(ewT(tensor.Int4, s(2), 7, -8))},
		{name: "quantize e4m3fn", op: "QuantizeLinear", opset: 21, in: ts(ewF32(s(2), 1000, 3), ewF32(nil, 2), e4m3(0)),
			want: ts(e4m3(448, 1.5))},
		{name: "dequantize e4m3fn", op: "DequantizeLinear", opset: 21, in: ts(e4m3(1, -0.5), ewF32(nil, 2)), want: ts(ewF32(s(2), 2, -1))},
	})
}

// EyeLike's output type is its dtype attribute's, not its input's: a
// float16 input with dtype float32 gives float32, without it float16.
func TestEyeLikeNarrow(t *testing.T) {
	s := func(d ...int) []int { return d }
	x := half(s(2, 2), 5, 5, 5, 5)
	for _, c := range []struct {
		attrs []*onnx.Attribute
		want  *tensor.Tensor
	}{
		{nil, half(s(2, 2), 1, 0, 0, 1)},
		{[]*onnx.Attribute{ewInt("dtype", 1)}, ewF32(s(2, 2), 1, 0, 0, 1)},
		{[]*onnx.Attribute{ewInt("dtype", 1), ewInt("k", 1)}, ewF32(s(2, 2), 0, 1, 0, 0)},
	} {
		got, err := runOp("EyeLike", 17, c.attrs, 1, x)
		if err != nil {
			t.Fatal(err)
		}
		if msg := ewDiff(got[0], c.want); msg != "" {
			t.Errorf("EyeLike(%v): %s", c.attrs, msg)
		}
	}
}

// BitCast reads bit patterns as another type: float32 1 is 0x3f800000
// (1065353216), -0 0x80000000, float16 -2 is 0xc000 (49152).
func TestBitCast(t *testing.T) {
	s := func(d ...int) []int { return d }
	to := func(code int64) []*onnx.Attribute { return []*onnx.Attribute{ewInt("to", code)} }
	ewRunCases(t, []ewCase{
		{name: "f32 to i32", op: "BitCast", opset: 26, attrs: to(6), in: ts(ewF32(s(2), 1, math.Copysign(0, -1))), want: ts(ewT(tensor.Int32, s(2), 1065353216, math.MinInt32))},
		{name: "f16 to u16", op: "BitCast", opset: 26, attrs: to(4), in: ts(half(s(1), -2)), want: ts(ewT(tensor.Uint16, s(1), 49152))},
		{name: "u8 to e4m3fn", op: "BitCast", opset: 26, attrs: to(17), in: ts(ewT(tensor.Uint8, s(1), 0x38)), want: ts(ewT(tensor.Float8E4M3FN, s(1), 1))},
		{name: "width", op: "BitCast", opset: 26, attrs: to(7), in: ts(ewF32(s(1), 1)), err: "input is float32 (32 bits), target int64 has 64 bits"},
		{name: "string", op: "BitCast", opset: 26, attrs: to(8), in: ts(ewF32(s(1), 1)), err: "BitCast to string"},
	})
}

// Pad on the wider integer types and strings (pads of 1 on each side).
func TestPadWiderTypes(t *testing.T) {
	s := func(d ...int) []int { return d }
	pads := ewI64(s(2), 1, 1)
	ewRunCases(t, []ewCase{
		{name: "uint32", op: "Pad", opset: 18, in: ts(ewT(tensor.Uint32, s(1), 7), pads, ewT(tensor.Uint32, nil, 9)),
			want: ts(ewT(tensor.Uint32, s(3), 9, 7, 9))},
	})
	out, err := ewRun(ewCase{op: "Pad", opset: 18, in: ts(tensor.Wrap(tensor.String, []string{"a"}, 1), pads)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := tensor.Data[string](out[0]); len(got) != 3 || got[0] != "" || got[1] != "a" || got[2] != "" {
		t.Errorf("Pad of [a] with strings = %q, want [\"\" \"a\" \"\"]", got)
	}
}
