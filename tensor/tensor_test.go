package tensor

import (
	"math"
	"testing"
)

func TestNumElements(t *testing.T) {
	tests := []struct {
		shape []int
		want  int
	}{
		{nil, 1},
		{[]int{0, 5}, 0},
		{[]int{2, 3, 4}, 24},
		{[]int{-1, 2}, -1},
		{[]int{math.MaxInt / 2, 3}, -1}, // overflows
	}
	for _, tt := range tests {
		if got := NumElements(tt.shape); got != tt.want {
			t.Errorf("NumElements(%v) = %d, want %d", tt.shape, got, tt.want)
		}
	}
}

func TestResizeReusesStorage(t *testing.T) {
	x := New(Float32, 4, 5)
	p := &x.F32[0]
	x.Resize(Float32, 2, 3)
	if len(x.F32) != 6 || &x.F32[0] != p {
		t.Errorf("Resize(2,3) after 4x5: len %d, reused %v; want 6, true", len(x.F32), &x.F32[0] == p)
	}
	if allocs := testing.AllocsPerRun(100, func() { x.Resize(Float32, 4, 5) }); allocs != 0 {
		t.Errorf("Resize within capacity: %v allocations, want 0", allocs)
	}
	x.Resize(Int64, 3)
	if x.F32 != nil || len(x.I64) != 3 || !x.Valid() {
		t.Errorf("Resize to int64: F32 %v, I64 len %d, Valid %v", x.F32 != nil, len(x.I64), x.Valid())
	}
}

func TestCloneIsDeep(t *testing.T) {
	x := FromFloat32([]float32{1, 2, 3}, 3)
	c := x.Clone()
	c.F32[0] = 9
	c.Shape[0] = 1
	if x.F32[0] != 1 || x.Shape[0] != 3 {
		t.Errorf("Clone shares storage: x = %v %v", x.Shape, x.F32)
	}
}
