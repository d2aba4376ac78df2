package infer

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// convRef is a direct convolution, straight from the definition in
// Operators.md, with explicit begin/end pads: the reference for the
// im2col+Sgemm implementation.
func convRef(x, w, b *tensor.Tensor, pads, strides, dil []int, group int) *tensor.Tensor {
	n, c := x.Shape[0], x.Shape[1]
	m := w.Shape[0]
	ns := x.Rank() - 2
	in, k := x.Shape[2:], w.Shape[2:]
	out := make([]int, ns)
	for i := range out {
		out[i] = (in[i]+pads[i]+pads[ns+i]-(k[i]-1)*dil[i]-1)/strides[i] + 1
	}
	y := tensor.New(tensor.Float32, append([]int{n, m}, out...)...)
	cg, mg := c/group, m/group
	// index walks every position of a shape in row-major order.
	positions := func(shape []int) [][]int {
		ps := [][]int{{}}
		for _, d := range shape {
			var next [][]int
			for _, p := range ps {
				for v := 0; v < d; v++ {
					next = append(next, append(append([]int(nil), p...), v))
				}
			}
			ps = next
		}
		return ps
	}
	flat := func(pos, shape []int) int {
		f := 0
		for i, p := range pos {
			f = f*shape[i] + p
		}
		return f
	}
	yi := 0
	for ni := 0; ni < n; ni++ {
		for mi := 0; mi < m; mi++ {
			gi := mi / mg
			for _, op := range positions(out) {
				var sum float64
				if b != nil {
					sum = float64(b.F32[mi])
				}
				for ci := 0; ci < cg; ci++ {
					for _, kp := range positions(k) {
						ip := make([]int, ns)
						ok := true
						for i := range ip {
							ip[i] = op[i]*strides[i] - pads[i] + kp[i]*dil[i]
							ok = ok && ip[i] >= 0 && ip[i] < in[i]
						}
						if !ok {
							continue
						}
						xv := x.F32[((ni*c+gi*cg+ci)*prod(in))+flat(ip, in)]
						wv := w.F32[((mi*cg+ci)*prod(k))+flat(kp, k)]
						sum += float64(xv) * float64(wv)
					}
				}
				y.F32[yi] = float32(sum)
				yi++
			}
		}
	}
	return y
}

func ones(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func toInt64s(v []int) []int64 {
	r := make([]int64, len(v))
	for i, x := range v {
		r[i] = int64(x)
	}
	return r
}

func TestConvAgainstDirect(t *testing.T) {
	tests := []struct {
		name                string
		x, w                []int // shapes
		bias                bool
		pads, strides, dils []int // nil: defaults
		group               int
		autoPad             string
		refPads             []int // pads the reference uses for auto_pad (hand-computed)
	}{
		{name: "1d", x: []int{2, 3, 10}, w: []int{4, 3, 3}, bias: true, pads: []int{1, 2}, strides: []int{2}, dils: []int{2}},
		{name: "2d", x: []int{1, 3, 8, 7}, w: []int{5, 3, 3, 2}, pads: []int{1, 0, 2, 1}, strides: []int{2, 1}, dils: []int{1, 2}},
		{name: "2d stride 3 pads", x: []int{1, 2, 9, 9}, w: []int{2, 2, 3, 3}, bias: true, pads: []int{2, 2, 2, 2}, strides: []int{3, 3}},
		{name: "groups", x: []int{2, 4, 6, 6}, w: []int{6, 2, 3, 3}, bias: true, pads: []int{1, 1, 1, 1}, group: 2},
		// Grouped stride-1 convolutions read each group in place (constant
		// weights, packed per group), the groups shared out at batch 1.
		{name: "groups batch 1", x: []int{1, 12, 9, 10}, w: []int{12, 4, 3, 3}, bias: true, pads: []int{1, 1, 1, 1}, group: 3},
		{name: "groups strided", x: []int{1, 8, 9, 9}, w: []int{4, 4, 3, 3}, strides: []int{2, 2}, group: 2},
		{name: "depthwise", x: []int{1, 4, 7, 5}, w: []int{4, 1, 3, 3}, pads: []int{1, 1, 1, 1}, group: 4},
		{name: "depthwise x2", x: []int{1, 3, 5, 5}, w: []int{6, 1, 2, 2}, bias: true, group: 3},
		// The direct depthwise kernel: strides, dilations, one-sided pads,
		// widths that are not a multiple of 8, 1-D, and planes shared out
		// between workers at batch 1.
		{name: "depthwise stride 2", x: []int{2, 5, 11, 13}, w: []int{5, 1, 3, 3}, bias: true, pads: []int{1, 1, 1, 1}, strides: []int{2, 2}, group: 5},
		{name: "depthwise stride 3x2 dilated", x: []int{1, 3, 17, 19}, w: []int{6, 1, 3, 2}, pads: []int{2, 0, 1, 3}, strides: []int{3, 2}, dils: []int{2, 3}, group: 3},
		{name: "depthwise 5x5", x: []int{1, 4, 14, 14}, w: []int{4, 1, 5, 5}, bias: true, pads: []int{2, 2, 2, 2}, group: 4},
		{name: "depthwise 1d", x: []int{2, 3, 20}, w: []int{3, 1, 4}, bias: true, pads: []int{2, 1}, strides: []int{2}, group: 3},
		{name: "depthwise parallel", x: []int{1, 32, 28, 28}, w: []int{32, 1, 3, 3}, bias: true, pads: []int{1, 1, 1, 1}, group: 32},
		{name: "1x1", x: []int{2, 5, 4, 3}, w: []int{3, 5, 1, 1}, bias: true},
		{name: "1x1 strided", x: []int{1, 2, 5, 5}, w: []int{3, 2, 1, 1}, strides: []int{2, 2}},
		{name: "3d", x: []int{1, 2, 5, 4, 6}, w: []int{3, 2, 2, 3, 2}, bias: true, pads: []int{1, 1, 0, 0, 1, 1}, strides: []int{1, 2, 1}, dils: []int{2, 1, 1}},
		{name: "batch parallel", x: []int{4, 8, 16, 16}, w: []int{16, 8, 3, 3}, bias: true, pads: []int{1, 1, 1, 1}},
		// One sample, its product's columns shared out between workers
		// (constant weights, with GOMAXPROCS > 1).
		{name: "batch 1 columns split", x: []int{1, 16, 24, 25}, w: []int{16, 16, 3, 3}, bias: true, pads: []int{1, 1, 1, 1}},
		{name: "lenet5 conv1", x: []int{3, 1, 28, 28}, w: []int{6, 1, 5, 5}, bias: true, pads: []int{2, 2, 2, 2}},
		{name: "lenet5 conv2", x: []int{2, 6, 14, 14}, w: []int{16, 6, 5, 5}, bias: true},
		{name: "kernel covers input", x: []int{5, 16, 5, 5}, w: []int{120, 16, 5, 5}, bias: true},
		{name: "kernel covers 1d input", x: []int{3, 4, 7}, w: []int{9, 4, 7}},
		{name: "1d stride 1", x: []int{2, 3, 40}, w: []int{7, 3, 5}, bias: true, pads: []int{3, 1}},
		{name: "one-sided pads", x: []int{2, 5, 9, 11}, w: []int{13, 5, 3, 4}, pads: []int{0, 2, 1, 0}},
		// SAME_UPPER, in 5, k 3, s 2: out ceil(5/2) = 3, total pad
		// (3-1)*2+3-5 = 2: 1 before, 1 after.
		{name: "same_upper odd", x: []int{1, 1, 5, 5}, w: []int{1, 1, 3, 3}, strides: []int{2, 2}, autoPad: "SAME_UPPER", refPads: []int{1, 1, 1, 1}},
		// in 6, k 3, s 2: out 3, total (3-1)*2+3-6 = 1: after for UPPER,
		// before for LOWER.
		{name: "same_upper even", x: []int{1, 1, 6, 6}, w: []int{1, 1, 3, 3}, strides: []int{2, 2}, autoPad: "SAME_UPPER", refPads: []int{0, 0, 1, 1}},
		{name: "same_lower even", x: []int{1, 1, 6, 6}, w: []int{1, 1, 3, 3}, strides: []int{2, 2}, autoPad: "SAME_LOWER", refPads: []int{1, 1, 0, 0}},
		{name: "valid", x: []int{1, 2, 6, 5}, w: []int{2, 2, 3, 3}, pads: []int{3, 3, 3, 3}, autoPad: "VALID", refPads: []int{0, 0, 0, 0}},
	}
	rng := rand.New(rand.NewSource(1))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := len(tt.x) - 2
			x, w := randTensor(rng, tt.x...), randTensor(rng, tt.w...)
			var b *tensor.Tensor
			if tt.bias {
				b = randTensor(rng, tt.w[0])
			}
			group := max(tt.group, 1)
			var attrs []*onnx.Attribute
			if tt.pads != nil {
				attrs = append(attrs, aInts("pads", toInt64s(tt.pads)...))
			}
			if tt.strides != nil {
				attrs = append(attrs, aInts("strides", toInt64s(tt.strides)...))
			}
			if tt.dils != nil {
				attrs = append(attrs, aInts("dilations", toInt64s(tt.dils)...))
			}
			if tt.group != 0 {
				attrs = append(attrs, aInt("group", int64(tt.group)))
			}
			if tt.autoPad != "" {
				attrs = append(attrs, aString("auto_pad", tt.autoPad))
			}
			attrs = append(attrs, aInts("kernel_shape", toInt64s(tt.w[2:])...))
			ins := []*tensor.Tensor{x, w}
			if b != nil {
				ins = append(ins, b)
			}
			got, err := runOp("Conv", 13, attrs, 1, ins...)
			if err != nil {
				t.Fatal(err)
			}
			// Constant weights take the paths for packed weights.
			gotConst, err := runOpConst(1, "Conv", 13, attrs, 1, ins...)
			if err != nil {
				t.Fatal(err)
			}
			pads, strides, dils := tt.pads, tt.strides, tt.dils
			if tt.refPads != nil {
				pads = tt.refPads
			}
			if pads == nil {
				pads = make([]int, 2*ns)
			}
			if strides == nil {
				strides = ones(ns)
			}
			if dils == nil {
				dils = ones(ns)
			}
			want := convRef(x, w, b, pads, strides, dils, group)
			checkClose(t, "Conv", got[0], want, 1e-5)
			// The paths for constant weights sum in the same order.
			for i := range got[0].F32 {
				if math.Float32bits(gotConst[0].F32[i]) != math.Float32bits(got[0].F32[i]) {
					t.Fatalf("constant weights: element %d = %v, %v with the weights as an input", i, gotConst[0].F32[i], got[0].F32[i])
				}
			}
		})
	}
}

func TestConvHand(t *testing.T) {
	// X = 1..9 as 3x3, W = 2x2 ones, bias 1: each output is 1 plus the sum
	// of a 2x2 block: 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28.
	x := tensor.FromFloat32([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3)
	w := tensor.FromFloat32([]float32{1, 1, 1, 1}, 1, 1, 2, 2)
	b := tensor.FromFloat32([]float32{1}, 1)
	got, err := runOp("Conv", 11, nil, 1, x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "Conv", got[0], tensor.FromFloat32([]float32{13, 17, 25, 29}, 1, 1, 2, 2), 0)
}

func TestConvErrors(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor { return tensor.New(tensor.Float32, shape...) }
	tests := []struct {
		name  string
		attrs []*onnx.Attribute
		ins   []*tensor.Tensor
		want  string
	}{
		{"channels", nil, []*tensor.Tensor{f(1, 3, 5, 5), f(2, 2, 3, 3)}, "do not match group 1"},
		{"rank", nil, []*tensor.Tensor{f(1, 3, 5, 5), f(2, 3, 3)}, "want rank 4"},
		{"x rank", nil, []*tensor.Tensor{f(3, 5), f(2, 3)}, "want rank 3 to 10"},
		{"kernel_shape", []*onnx.Attribute{aInts("kernel_shape", 2, 2)}, []*tensor.Tensor{f(1, 1, 5, 5), f(1, 1, 3, 3)}, "kernel_shape [2 2] does not match"},
		{"too small", nil, []*tensor.Tensor{f(1, 1, 2, 2), f(1, 1, 3, 3)}, "smaller than the kernel extent 3"},
		{"bias", nil, []*tensor.Tensor{f(1, 1, 5, 5), f(2, 1, 3, 3), f(3)}, "B is float32[3], want float32[2]"},
		{"dtype", nil, []*tensor.Tensor{tensor.New(tensor.Float64, 1, 1, 5, 5), f(1, 1, 3, 3)}, "want float32 inputs"},
		{"group", []*onnx.Attribute{aInt("group", 0)}, []*tensor.Tensor{f(1, 1, 5, 5), f(1, 1, 3, 3)}, `attribute "group": want a positive value`},
		{"strides", []*onnx.Attribute{aInts("strides", 0, 1)}, []*tensor.Tensor{f(1, 1, 5, 5), f(1, 1, 3, 3)}, `attribute "strides": value 0 out of range`},
		{"strides count", []*onnx.Attribute{aInts("strides", 1, 1, 1)}, []*tensor.Tensor{f(1, 1, 5, 5), f(1, 1, 3, 3)}, "do not match 2 spatial axes"},
		{"auto_pad", []*onnx.Attribute{aString("auto_pad", "SAME")}, []*tensor.Tensor{f(1, 1, 5, 5), f(1, 1, 3, 3)}, `unknown value "SAME"`},
		{"huge pads", []*onnx.Attribute{aInts("pads", 1<<24, 1<<24, 1<<24, 1<<24)}, []*tensor.Tensor{f(1, 1, 5, 5), f(1, 1, 3, 3)}, "more than"},
		{"arity", nil, []*tensor.Tensor{f(1, 1, 5, 5)}, "want 2 to 3 inputs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runOp("Conv", 13, tt.attrs, 1, tt.ins...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), `node "n" (Conv): `) {
				t.Errorf("Conv error = %v, want one naming the node and containing %q", err, tt.want)
			}
		})
	}
}

func BenchmarkConvLeNet(b *testing.B) {
	// LeNet5's second convolution: 6 -> 16 channels, 5x5, on 14x14.
	rng := rand.New(rand.NewSource(1))
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprint("batch", batch), func(b *testing.B) {
			x, w, bias := randTensor(rng, batch, 6, 14, 14), randTensor(rng, 16, 6, 5, 5), randTensor(rng, 16)
			o := &convOp{group: 1}
			var s scratch
			y := &tensor.Tensor{}
			for b.Loop() {
				if err := o.run(&s, []*tensor.Tensor{x, w, bias}, []*tensor.Tensor{y}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestConvEmptyBatch checks that a batch of no samples gives an empty
// output on every path (the im2col blocks divided by a block size of 0).
func TestConvEmptyBatch(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, pads := range [][]int64{{1, 1, 1, 1}, {0, 0, 0, 0}} {
		x, w := tensor.New(tensor.Float32, 0, 3, 8, 8), randTensor(rng, 4, 3, 3, 3)
		attrs := []*onnx.Attribute{aInts("pads", pads...)}
		for constFrom := 1; constFrom <= 2; constFrom++ {
			got, err := runOpConst(constFrom, "Conv", 13, attrs, 1, x, w)
			if err != nil {
				t.Fatalf("pads %v, constant from input %d: %v", pads, constFrom, err)
			}
			if got[0].Len() != 0 || got[0].Shape[0] != 0 || got[0].Shape[1] != 4 {
				t.Errorf("pads %v, constant from input %d: output %v, want 0 x 4 x ...", pads, constFrom, got[0])
			}
		}
	}
}
