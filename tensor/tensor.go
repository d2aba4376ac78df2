package tensor

import (
	"fmt"
	"math"
	"strings"
)

// DType is an element type.
type DType uint8

// The element types a Tensor can hold.
const (
	Invalid DType = iota
	Float32
	Float64
	Int64
	Int32
	Uint8
	Int8
	Bool
)

var dtypeNames = [...]string{"invalid", "float32", "float64", "int64", "int32", "uint8", "int8", "bool"}

// String returns the dtype's name, such as "float32".
func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", d)
}

// Size is the size of one element in bytes.
func (d DType) Size() int {
	switch d {
	case Float64, Int64:
		return 8
	case Float32, Int32:
		return 4
	case Uint8, Int8, Bool:
		return 1
	}
	return 0
}

// Tensor is an n-dimensional array. A scalar has an empty shape and one element.
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
// allocated (then they are zero). It panics if a dimension is negative.
func (t *Tensor) Resize(dt DType, shape ...int) {
	t.Shape = append(t.Shape[:0], shape...)
	n := NumElements(t.Shape)
	if n < 0 {
		// Formatting t.Shape, not shape, keeps shape from escaping.
		panic("tensor: invalid shape " + ShapeString(t.Shape))
	}
	if t.DType != dt {
		t.F32, t.F64, t.I64, t.I32, t.U8, t.I8, t.B = nil, nil, nil, nil, nil, nil, nil
		t.DType = dt
	}
	switch dt {
	case Float32:
		t.F32 = grow(t.F32, n)
	case Float64:
		t.F64 = grow(t.F64, n)
	case Int64:
		t.I64 = grow(t.I64, n)
	case Int32:
		t.I32 = grow(t.I32, n)
	case Uint8:
		t.U8 = grow(t.U8, n)
	case Int8:
		t.I8 = grow(t.I8, n)
	case Bool:
		t.B = grow(t.B, n)
	default:
		panic("tensor: resize to " + dt.String())
	}
}

func grow[E any](s []E, n int) []E {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]E, n)
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
	switch src.DType {
	case Float32:
		copy(t.F32, src.F32)
	case Float64:
		copy(t.F64, src.F64)
	case Int64:
		copy(t.I64, src.I64)
	case Int32:
		copy(t.I32, src.I32)
	case Uint8:
		copy(t.U8, src.U8)
	case Int8:
		copy(t.I8, src.I8)
	case Bool:
		copy(t.B, src.B)
	}
}

// Float64At returns element i converted to float64, for any dtype.
func (t *Tensor) Float64At(i int) float64 {
	switch t.DType {
	case Float32:
		return float64(t.F32[i])
	case Float64:
		return t.F64[i]
	case Int64:
		return float64(t.I64[i])
	case Int32:
		return float64(t.I32[i])
	case Uint8:
		return float64(t.U8[i])
	case Int8:
		return float64(t.I8[i])
	case Bool:
		if t.B[i] {
			return 1
		}
		return 0
	}
	panic(fmt.Sprintf("tensor: Float64At on %v", t.DType))
}

// Valid reports whether the data slice matching the dtype holds exactly as
// many elements as the shape says.
func (t *Tensor) Valid() bool {
	n := t.Len()
	if n < 0 {
		return false
	}
	switch t.DType {
	case Float32:
		return len(t.F32) == n
	case Float64:
		return len(t.F64) == n
	case Int64:
		return len(t.I64) == n
	case Int32:
		return len(t.I32) == n
	case Uint8:
		return len(t.U8) == n
	case Int8:
		return len(t.I8) == n
	case Bool:
		return len(t.B) == n
	}
	return false
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
