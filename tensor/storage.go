package tensor

import (
	"fmt"
	"math"
)

// storage is what the tensor package knows of a dtype's typed slice. Every
// method takes p, a *[]T: a pointer to one of Tensor's slice fields, or the
// one in Tensor.ext.
type storage interface {
	newPtr() any // a new *[]T holding nil
	holds(p any) bool
	grow(p any, n int)
	len(p any) int
	cap(p any) int
	clone(p any) any // a new *[]T holding a copy of *p, or nil if *p is nil
	copy(dst, src any, do, so, n int)
	share(dst, src any) // *dst = *src
	clear(p any)        // *p = nil
	float64At(p any, i int) float64
	setFloat64(p any, i int, v float64)
}

// store is the storage of a dtype whose elements are Ts, converted to and
// from float64 by to and from.
type store[T comparable] struct {
	from func(float64) T
	to   func(T) float64
}

// integer is the Go types that hold integer dtypes.
type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// intStore is the storage of an integer dtype.
func intStore[T integer]() store[T] {
	return store[T]{from: func(v float64) T { return T(v) }, to: func(v T) float64 { return float64(v) }}
}

func (store[T]) newPtr() any { return new([]T) }

func (store[T]) holds(p any) bool {
	_, ok := p.(*[]T)
	return ok
}

func (store[T]) grow(p any, n int) {
	s := p.(*[]T)
	if cap(*s) >= n {
		*s = (*s)[:n]
	} else {
		*s = make([]T, n)
	}
}

func (store[T]) len(p any) int { return len(*p.(*[]T)) }
func (store[T]) cap(p any) int { return cap(*p.(*[]T)) }

func (store[T]) clone(p any) any {
	s := *p.(*[]T)
	if s == nil {
		return nil
	}
	c := append([]T(nil), s...)
	return &c
}

func (store[T]) copy(dst, src any, do, so, n int) {
	copy((*dst.(*[]T))[do:do+n], (*src.(*[]T))[so:so+n])
}

func (store[T]) share(dst, src any) { *dst.(*[]T) = *src.(*[]T) }
func (store[T]) clear(p any)        { *p.(*[]T) = nil }

func (s store[T]) float64At(p any, i int) float64     { return s.to((*p.(*[]T))[i]) }
func (s store[T]) setFloat64(p any, i int, v float64) { (*p.(*[]T))[i] = s.from(v) }

// Data returns t's elements if T is the Go type that holds t.DType (uint16
// for Float16 and BFloat16, which hold bit patterns), else nil.
func Data[T any](t *Tensor) []T {
	if p, ok := t.ptr().(*[]T); ok {
		return *p
	}
	return nil
}

// Wrap returns a tensor of dtype dt and the given shape holding data (not
// copied). It panics if T is not the Go type that holds dt or len(data)
// does not match the shape.
func Wrap[T any](dt DType, data []T, shape ...int) *Tensor {
	if n := NumElements(shape); n != len(data) {
		panic(fmt.Sprintf("tensor: %d values for shape %v", len(data), shape))
	}
	t := &Tensor{DType: dt, Shape: append([]int(nil), shape...)}
	p, ok := t.slot().(*[]T)
	if !ok {
		panic(fmt.Sprintf("tensor: %T values for %v", data, dt))
	}
	*p = data
	return t
}

// ptr returns a pointer to the slice field that holds t.DType's elements
// (nil for an invalid dtype). It does not modify t, so that readers may
// share a tensor: when ext does not hold the dtype's slice yet, it returns
// a new empty one that is not kept. Writers call slot.
func (t *Tensor) ptr() any {
	switch t.DType {
	case Float32:
		return &t.F32
	case Float64:
		return &t.F64
	case Int64:
		return &t.I64
	case Int32:
		return &t.I32
	case Uint8:
		return &t.U8
	case Int8:
		return &t.I8
	case Bool:
		return &t.B
	case Invalid:
		return nil
	}
	st := t.DType.info().st
	if st == nil {
		return nil
	}
	if t.ext == nil || !st.holds(t.ext) {
		return st.newPtr()
	}
	return t.ext
}

// slot is ptr for writers: it makes ext hold the dtype's slice first.
func (t *Tensor) slot() any {
	if st := t.DType.info().st; t.DType > Bool && st != nil && (t.ext == nil || !st.holds(t.ext)) {
		t.ext = st.newPtr()
	}
	return t.ptr()
}

// Int64At returns element i as an int64: integers and bools keep their value
// (uint64 values above MaxInt64 wrap), floats truncate toward zero.
func (t *Tensor) Int64At(i int) int64 {
	switch p := t.ptr().(type) {
	case *[]int64:
		return (*p)[i]
	case *[]uint64:
		return int64((*p)[i])
	}
	return int64(t.Float64At(i)) // exact for the narrower integer types

}

// SetInt64 stores v in element i: integer types wrap it to their width,
// bools store v != 0, floats the nearest value.
func (t *Tensor) SetInt64(i int, v int64) {
	if b := t.DType.Bits(); b < 8 {
		v = wrapBits(v, b, t.DType.Kind() == KindSigned)
	} else if t.DType.Storage() != t.DType {
		t.SetFloat64(i, float64(v)) // bits of a float type
		return
	}
	switch p := t.ptr().(type) {
	case *[]int8:
		(*p)[i] = int8(v)
	case *[]int16:
		(*p)[i] = int16(v)
	case *[]int32:
		(*p)[i] = int32(v)
	case *[]int64:
		(*p)[i] = v
	case *[]uint8:
		(*p)[i] = uint8(v)
	case *[]uint32:
		(*p)[i] = uint32(v)
	case *[]uint64:
		(*p)[i] = uint64(v)
	case *[]bool:
		(*p)[i] = v != 0
	case *[]uint16:
		(*p)[i] = uint16(v)
	default:
		t.SetFloat64(i, float64(v))
	}
}

// SetFloat64 stores v in element i, converted as Cast converts a float64.
func (t *Tensor) SetFloat64(i int, v float64) {
	t.DType.info().st.setFloat64(t.ptr(), i, v)
}

// BitsAt returns the bit pattern of element i, little end first, in the
// low Bits() bits: IEEE bits for floats, two's complement for integers, 1
// for true. It panics for strings.
func (t *Tensor) BitsAt(i int) uint64 {
	mask := uint64(1)<<t.DType.Bits() - 1
	switch p := t.ptr().(type) {
	case *[]float32:
		return uint64(math.Float32bits((*p)[i]))
	case *[]float64:
		return math.Float64bits((*p)[i])
	case *[]int64:
		return uint64((*p)[i])
	case *[]int32:
		return uint64((*p)[i]) & mask
	case *[]int16:
		return uint64((*p)[i]) & mask
	case *[]int8:
		return uint64((*p)[i]) & mask
	case *[]uint64:
		return (*p)[i]
	case *[]uint32:
		return uint64((*p)[i])
	case *[]uint16:
		return uint64((*p)[i])
	case *[]uint8:
		return uint64((*p)[i]) & mask
	case *[]bool:
		if (*p)[i] {
			return 1
		}
		return 0
	}
	panic("tensor: BitsAt on " + t.DType.String())
}

// SetBits sets element i to the bit pattern b (its low Bits() bits), the
// inverse of BitsAt; a bool is true for any nonzero pattern. It panics for
// strings.
func (t *Tensor) SetBits(i int, b uint64) {
	switch p := t.ptr().(type) {
	case *[]float32:
		(*p)[i] = math.Float32frombits(uint32(b))
	case *[]float64:
		(*p)[i] = math.Float64frombits(b)
	case *[]uint64:
		(*p)[i] = b
	case *[]uint32:
		(*p)[i] = uint32(b)
	case *[]uint16:
		(*p)[i] = uint16(b)
	case *[]uint8:
		(*p)[i] = uint8(b & (1<<t.DType.Bits() - 1))
	case *[]bool:
		(*p)[i] = b != 0
	case *[]string:
		panic("tensor: SetBits on " + t.DType.String())
	default: // signed: sign-extended from the type's width
		t.SetInt64(i, wrapBits(int64(b), t.DType.Bits(), true))
	}
}
