package tensor

import "testing"

// TestEveryDType runs the storage operations on each dtype of the table.
func TestEveryDType(t *testing.T) {
	for _, dt := range DTypes() {
		t.Run(dt.String(), func(t *testing.T) {
			a := New(dt, 2, 3)
			if !a.Valid() || a.Len() != 6 {
				t.Fatalf("New(%v, 2, 3) = %v, valid %v", dt, a, a.Valid())
			}
			zero := 0.0 // a value other than 1
			if dt == Float8E8M0 {
				zero = 0.5 // powers of two only
			}
			for i := range 6 {
				a.SetFloat64(i, max(float64(i%2), zero))
			}
			c := a.Clone()
			a.SetFloat64(0, 1)
			if got := c.Float64At(0); got != zero {
				t.Errorf("Clone shares elements: c[0] = %v after a[0] = 1", got)
			}
			if got := c.Float64At(5); got != 1 {
				t.Errorf("c.Float64At(5) = %v, want 1", got)
			}
			var d Tensor
			d.CopyFrom(a)
			if !d.Valid() || d.DType != dt || d.Float64At(0) != 1 {
				t.Errorf("CopyFrom: %v valid %v, [0] = %v", &d, d.Valid(), d.Float64At(0))
			}
			var v Tensor
			v.ShareFrom(a, 6)
			a.SetFloat64(1, 1)
			if !v.Valid() || v.Float64At(1) != 1 {
				t.Errorf("ShareFrom: view %v does not see a's elements", &v)
			}
			if got, want := a.CapBytes(), int64(6*dt.Size()); got != want {
				t.Errorf("CapBytes() = %d, want %d", got, want)
			}
			d.ClearData()
			if d.Valid() {
				t.Errorf("valid after ClearData")
			}
			d.Resize(Float32, 2)
			if !d.Valid() || d.CapBytes() != 8 {
				t.Errorf("Resize to float32 after %v: %v, %d bytes", dt, &d, d.CapBytes())
			}
		})
	}
}

func TestDataAndWrap(t *testing.T) {
	h := Wrap(Float16, []uint16{0x3c00, 0xc000}, 2)
	if got := h.Float64At(1); got != -2 {
		t.Errorf("float16 Float64At(1) = %v, want -2", got)
	}
	if got := Data[uint16](h); len(got) != 2 || got[0] != 0x3c00 {
		t.Errorf("Data[uint16](float16) = %v", got)
	}
	if got := Data[float32](h); got != nil {
		t.Errorf("Data[float32](float16) = %v, want nil", got)
	}
	f := FromFloat32([]float32{1, 2}, 2)
	if got := Data[float32](f); &got[0] != &f.F32[0] {
		t.Errorf("Data[float32] does not return the F32 field")
	}
	u := New(Uint64, 1)
	u.SetInt64(0, -1)
	if got := Data[uint64](u)[0]; got != 1<<64-1 {
		t.Errorf("uint64 SetInt64(-1) = %d, want wrap to 2^64-1", got)
	}
	if got := u.Int64At(0); got != -1 {
		t.Errorf("uint64 Int64At = %d, want -1 (same bits)", got)
	}
	s := Wrap(String, []string{"1.5", "x"}, 2)
	if got := s.Float64At(0); got != 1.5 {
		t.Errorf("string Float64At(0) = %v, want 1.5", got)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Wrap(Float16, []float32) did not panic")
		}
	}()
	Wrap(Float16, []float32{1}, 1)
}

func TestStorage(t *testing.T) {
	for dt, want := range map[DType]DType{
		Float32: Float32, Float16: Uint16, BFloat16: Uint16, Uint16: Uint16,
		Float8E4M3FN: Uint8, Uint4: Uint8, Int4: Int8, Int2: Int8, String: String, Invalid: Invalid,
	} {
		if got := dt.Storage(); got != want {
			t.Errorf("%v.Storage() = %v, want %v", dt, got, want)
		}
	}
}

// BitsAt and SetBits are inverse on every dtype but strings; the patterns
// are IEEE 754's (1.0 is 0x3f800000 in float32, 0x3c00 in float16) and two's
// complement (-1 in int4 is 0xf).
func TestBits(t *testing.T) {
	for _, c := range []struct {
		dt   DType
		v    float64
		bits uint64
	}{
		{Float32, 1, 0x3f800000}, {Float64, -2, 0xc000000000000000}, {Float16, 1, 0x3c00},
		{BFloat16, 1, 0x3f80}, {Int32, -1, 0xffffffff}, {Int8, -128, 0x80}, {Int4, -1, 0xf},
		{Uint2, 3, 3}, {Bool, 1, 1}, {Uint64, 5, 5}, {Float8E4M3FN, 1, 0x38}, {Int64, -1, 1<<64 - 1},
	} {
		x := New(c.dt, 1)
		x.SetFloat64(0, c.v)
		if got := x.BitsAt(0); got != c.bits {
			t.Errorf("%v %g: BitsAt = %#x, want %#x", c.dt, c.v, got, c.bits)
		}
		y := New(c.dt, 1)
		y.SetBits(0, c.bits)
		if got := y.Float64At(0); got != c.v {
			t.Errorf("%v: SetBits(%#x) reads %g, want %g", c.dt, c.bits, got, c.v)
		}
	}
}
