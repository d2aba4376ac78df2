package tensor

import (
	"fmt"
	"math"
	"strings"
)

// Tensor is an n-dimensional array. A scalar has an empty shape and one element.
//
// The elements of the first seven dtypes are in the exported field of their
// type; those of the others (Float16, BFloat16, Int16, Uint16, Uint32,
// Uint64, String) are reached with Data and made with Wrap or New.
type Tensor struct {
	DType DType
	Shape []int

	F32 []float32
	F64 []float64
	I64 []int64
	I32 []int32
	U8  []uint8
	I8  []int8
	B   []bool

	ext any // *[]T for the dtypes without a field of their own
}

// New returns a zero-filled tensor. It panics if a dimension is negative.
func New(dt DType, shape ...int) *Tensor {
	t := &Tensor{}
	t.Resize(dt, shape...)
	return t
}

// FromFloat32 wraps data (not copied) in a float32 tensor of the given shape.
// It panics if len(data) does not match the shape.
func FromFloat32(data []float32, shape ...int) *Tensor {
	if n := NumElements(shape); n != len(data) {
		panic(fmt.Sprintf("tensor: %d values for shape %v", len(data), shape))
	}
	return &Tensor{DType: Float32, Shape: append([]int(nil), shape...), F32: data}
}

// FromInt64 wraps data (not copied) in an int64 tensor of the given shape.
// It panics if len(data) does not match the shape.
func FromInt64(data []int64, shape ...int) *Tensor {
	if n := NumElements(shape); n != len(data) {
		panic(fmt.Sprintf("tensor: %d values for shape %v", len(data), shape))
	}
	return &Tensor{DType: Int64, Shape: append([]int(nil), shape...), I64: data}
}

// NumElements is the product of the dimensions (1 for a scalar). It returns
// -1 if a dimension is negative or the product overflows an int.
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		if d != 0 && n > math.MaxInt/d {
			return -1
		}
		n *= d
	}
	return n
}

// Len is the number of elements.
func (t *Tensor) Len() int { return NumElements(t.Shape) }

// Rank is the number of dimensions.
func (t *Tensor) Rank() int { return len(t.Shape) }

// Resize sets the dtype and shape, reusing the backing array when it is large
// enough. Element values are unspecified afterwards unless the array was newly
// allocated (then they are zero). It panics if a dimension is negative or dt
// is invalid.
func (t *Tensor) Resize(dt DType, shape ...int) {
	t.Shape = append(t.Shape[:0], shape...)
	n := NumElements(t.Shape)
	if n < 0 {
		// Formatting t.Shape, not shape, keeps shape from escaping.
		panic("tensor: invalid shape " + ShapeString(t.Shape))
	}
	if dt == Invalid || dt >= numDTypes {
		panic("tensor: resize to " + dt.String())
	}
	if t.DType != dt {
		t.ClearData()
		t.DType = dt
	}
	dt.info().st.grow(t.slot(), n)
}

// ClearData drops the references to the elements (of every dtype), so that
// the tensor no longer keeps them alive; Valid is false afterwards unless
// the shape is empty of elements.
func (t *Tensor) ClearData() {
	t.F32, t.F64, t.I64, t.I32, t.U8, t.I8, t.B = nil, nil, nil, nil, nil, nil, nil
	if st := t.DType.info().st; t.ext != nil && st != nil && st.holds(t.ext) {
		st.clear(t.ext) // keeps the pointer for the next Resize or ShareFrom
	} else {
		t.ext = nil
	}
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{DType: t.DType, Shape: append([]int(nil), t.Shape...)}
	c.F32 = clone(t.F32)
	c.F64 = clone(t.F64)
	c.I64 = clone(t.I64)
	c.I32 = clone(t.I32)
	c.U8 = clone(t.U8)
	c.I8 = clone(t.I8)
	c.B = clone(t.B)
	if t.ext != nil && t.DType.info().st.holds(t.ext) {
		c.ext = t.DType.info().st.clone(t.ext)
	}
	return c
}

func clone[E any](s []E) []E {
	if s == nil {
		return nil
	}
	return append([]E(nil), s...)
}

// CopyFrom makes t an exact copy of src, reusing t's storage where possible.
func (t *Tensor) CopyFrom(src *Tensor) {
	t.Resize(src.DType, src.Shape...)
	CopyElems(t, 0, src, 0, t.Len())
}

// CopyElems copies n elements of s from index so to d from index do. The
// two must have the same dtype and hold the elements copied.
func CopyElems(d *Tensor, do int, s *Tensor, so, n int) {
	if d.DType != s.DType {
		panic(fmt.Sprintf("tensor: CopyElems from %v to %v", s.DType, d.DType))
	}
	if n > 0 {
		s.DType.info().st.copy(d.ptr(), s.ptr(), do, so, n)
	}
}

// ShareFrom makes t a view of src: the same dtype and elements (not
// copied), with the given shape, which must have src's element count.
func (t *Tensor) ShareFrom(src *Tensor, shape ...int) {
	if t.DType != src.DType {
		t.ClearData()
		t.DType = src.DType
	}
	t.Shape = append(t.Shape[:0], shape...)
	if st := src.DType.info().st; st != nil {
		st.share(t.slot(), src.ptr())
	}
}

// Float64At returns element i converted to float64, for any dtype (a
// string is parsed; text that is not a number is NaN).
func (t *Tensor) Float64At(i int) float64 {
	switch t.DType {
	case Float32:
		return float64(t.F32[i])
	case Float64:
		return t.F64[i]
	case Invalid:
		panic(fmt.Sprintf("tensor: Float64At on %v", t.DType))
	}
	return t.DType.info().st.float64At(t.ptr(), i)
}

// Valid reports whether the data slice matching the dtype holds exactly as
// many elements as the shape says.
func (t *Tensor) Valid() bool {
	n := t.Len()
	if n < 0 || t.DType == Invalid || t.DType >= numDTypes {
		return false
	}
	return t.DType.info().st.len(t.ptr()) == n
}

// CapBytes is the memory the tensor's element storage holds, in bytes.
func (t *Tensor) CapBytes() int64 {
	b := int64(cap(t.F32))*4 + int64(cap(t.F64))*8 + int64(cap(t.I64))*8 + int64(cap(t.I32))*4 +
		int64(cap(t.U8)) + int64(cap(t.I8)) + int64(cap(t.B))
	if t.ext != nil && t.DType.info().st.holds(t.ext) {
		b += int64(t.DType.info().st.cap(t.ext)) * int64(t.DType.Size())
	}
	return b
}

// ShapeString formats a shape like "1x28x28" ("scalar" for rank 0).
func ShapeString(shape []int) string {
	if len(shape) == 0 {
		return "scalar"
	}
	var b strings.Builder
	for i, d := range shape {
		if i > 0 {
			b.WriteByte('x')
		}
		fmt.Fprint(&b, d)
	}
	return b.String()
}

// String formats the dtype and shape, such as "float32[1x28x28]".
func (t *Tensor) String() string {
	return fmt.Sprintf("%v[%s]", t.DType, ShapeString(t.Shape))
}
