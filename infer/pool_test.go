package infer

import (
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

func seq(n int, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float32, shape...)
	for i := range t.F32 {
		t.F32[i] = float32(i + n)
	}
	return t
}

func TestPoolHand(t *testing.T) {
	// Expected values worked out by hand from the inputs in the comments.
	tests := []struct {
		name   string
		op     string
		opset  int64
		attrs  []*onnx.Attribute
		x      *tensor.Tensor
		want   *tensor.Tensor
		wantIx []int64 // MaxPool Indices; nil: not requested
	}{
		// 4x4 of 0..15, 2x2 windows, stride 2: maxima at bottom-right corners.
		{"max 2x2", "MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 2, 2), aInts("strides", 2, 2)},
			seq(0, 1, 1, 4, 4), tensor.FromFloat32([]float32{5, 7, 13, 15}, 1, 1, 2, 2), []int64{5, 7, 13, 15}},
		// Same, column-major indices: (row r, col c) -> c*4 + r, so 5=(1,1) -> 5,
		// 7=(1,3) -> 13, 13=(3,1) -> 7, 15 -> 15.
		{"max storage_order", "MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 2, 2), aInts("strides", 2, 2), aInt("storage_order", 1)},
			seq(0, 1, 1, 4, 4), tensor.FromFloat32([]float32{5, 7, 13, 15}, 1, 1, 2, 2), []int64{5, 13, 7, 15}},
		// Two channels: indices count from the start of the whole tensor.
		{"max indices channel 2", "MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 2)},
			seq(0, 1, 2, 2), tensor.FromFloat32([]float32{1, 3}, 1, 2, 1), []int64{1, 3}},
		// 3x3 of 1..9, 2x2 windows, stride 2, pads 1: the windows cover
		// {1}, {2 3}, {4 7}, {5 6 8 9}, so the maxima are 1, 3, 7, 9 at
		// offsets 0, 2, 6, 8.
		{"max pads indices", "MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 2, 2), aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1)},
			seq(1, 1, 1, 3, 3), tensor.FromFloat32([]float32{1, 3, 7, 9}, 1, 1, 2, 2), []int64{0, 2, 6, 8}},
		// Same, column-major: (row r, col c) -> c*3 + r: 2=(0,2) -> 6, 6=(2,0) -> 2.
		{"max pads indices storage_order", "MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 2, 2), aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1), aInt("storage_order", 1)},
			seq(1, 1, 1, 3, 3), tensor.FromFloat32([]float32{1, 3, 7, 9}, 1, 1, 2, 2), []int64{0, 6, 2, 8}},
		// 1-D with Indices over two channels of 1..4 and 5..8, k 2, s 2:
		// maxima 2, 4, 6, 8 at offsets 1, 3, 5, 7 of the whole tensor.
		{"max 1d indices", "MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 2), aInts("strides", 2)},
			seq(1, 1, 2, 4), tensor.FromFloat32([]float32{2, 4, 6, 8}, 1, 2, 2), []int64{1, 3, 5, 7}},
		// 3x3 of 1..9, 3x3 windows with pads 1: the corner window sees
		// 1,2,4,5 (mean 3), the centre all nine (mean 5).
		{"avg pads", "AveragePool", 11, []*onnx.Attribute{aInts("kernel_shape", 3, 3), aInts("pads", 1, 1, 1, 1)},
			seq(1, 1, 1, 3, 3), tensor.FromFloat32([]float32{3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7}, 1, 1, 3, 3), nil},
		// count_include_pad: the corner sums 12 over 9 positions.
		{"avg count_include_pad", "AveragePool", 11, []*onnx.Attribute{aInts("kernel_shape", 3, 3), aInts("pads", 1, 1, 1, 1), aInt("count_include_pad", 1)},
			seq(1, 1, 1, 3, 3), tensor.FromFloat32([]float32{12. / 9, 21. / 9, 16. / 9, 27. / 9, 45. / 9, 33. / 9, 24. / 9, 39. / 9, 28. / 9}, 1, 1, 3, 3), nil},
		// 1..5, k 2, s 2: floor gives [1.5 3.5]; ceil adds a window starting
		// at 5 that holds only 5.
		{"avg floor", "AveragePool", 11, []*onnx.Attribute{aInts("kernel_shape", 2), aInts("strides", 2)},
			seq(1, 1, 1, 5), tensor.FromFloat32([]float32{1.5, 3.5}, 1, 1, 2), nil},
		{"avg ceil", "AveragePool", 11, []*onnx.Attribute{aInts("kernel_shape", 2), aInts("strides", 2), aInt("ceil_mode", 1)},
			seq(1, 1, 1, 5), tensor.FromFloat32([]float32{1.5, 3.5, 5}, 1, 1, 3), nil},
		// With count_include_pad the last window is clipped to the padded
		// input (no end pads), so it still divides by 1, as PyTorch does.
		{"avg ceil count_include_pad", "AveragePool", 11, []*onnx.Attribute{aInts("kernel_shape", 2), aInts("strides", 2), aInt("ceil_mode", 1), aInt("count_include_pad", 1)},
			seq(1, 1, 1, 5), tensor.FromFloat32([]float32{1.5, 3.5, 5}, 1, 1, 3), nil},
		// 1..4, k 2, s 2, pads 1,1, ceil: ceil((4+2-2)/2)+1 = 3 windows starting
		// at -1, 1, 3; a 4th would start at 5 >= 4+1 so is dropped.
		{"max ceil drop", "MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 2), aInts("strides", 2), aInts("pads", 1, 1), aInt("ceil_mode", 1)},
			seq(1, 1, 1, 4), tensor.FromFloat32([]float32{1, 3, 4}, 1, 1, 3), nil},
		// Dilation 2 over 1..5: windows {1,3,5}.
		{"max dilation", "MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 3), aInts("dilations", 2)},
			seq(1, 1, 1, 5), tensor.FromFloat32([]float32{5}, 1, 1, 1), nil},
		{"avg dilation opset 19", "AveragePool", 19, []*onnx.Attribute{aInts("kernel_shape", 2), aInts("dilations", 2)},
			seq(1, 1, 1, 5), tensor.FromFloat32([]float32{2, 3, 4}, 1, 1, 3), nil},
		// SAME_LOWER, in 4, k 2: one pad before: windows (-1,0),(0,1),(1,2),(2,3).
		{"max same_lower", "MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 2), aString("auto_pad", "SAME_LOWER")},
			seq(1, 1, 1, 4), tensor.FromFloat32([]float32{1, 2, 3, 4}, 1, 1, 4), nil},
		{"global avg", "GlobalAveragePool", 1, nil, seq(1, 1, 2, 2, 2), tensor.FromFloat32([]float32{2.5, 6.5}, 1, 2, 1, 1), nil},
		{"global max", "GlobalMaxPool", 1, nil, seq(1, 1, 2, 3), tensor.FromFloat32([]float32{3, 6}, 1, 2, 1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nout := 1
			if tt.wantIx != nil {
				nout = 2
			}
			got, err := runOp(tt.op, tt.opset, tt.attrs, nout, tt.x)
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, tt.op, got[0], tt.want, 1e-6)
			if tt.wantIx != nil {
				checkClose(t, "Indices", got[1], tensor.FromInt64(tt.wantIx, tt.want.Shape...), 0)
			}
		})
	}
}

func TestMaxPoolInt8(t *testing.T) {
	x := &tensor.Tensor{DType: tensor.Int8, Shape: []int{1, 1, 4}, I8: []int8{-5, -3, -7, -1}}
	got, err := runOp("MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 2), aInts("strides", 2)}, 1, x)
	if err != nil {
		t.Fatal(err)
	}
	if g := got[0].I8; len(g) != 2 || g[0] != -3 || g[1] != -1 {
		t.Errorf("MaxPool(int8) = %v, want [-3 -1]", g)
	}
}

func TestPoolErrors(t *testing.T) {
	x := tensor.New(tensor.Float32, 1, 1, 4, 4)
	tests := []struct {
		name  string
		op    string
		opset int64
		attrs []*onnx.Attribute
		x     *tensor.Tensor
		want  string
	}{
		{"no kernel", "MaxPool", 12, nil, x, `attribute "kernel_shape" is required`},
		{"big kernel", "MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 5, 5)}, x, "smaller than the kernel extent 5"},
		{"kernel rank", "MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 2)}, x, "kernel has 1 axes"},
		{"dilations before 19", "AveragePool", 18, []*onnx.Attribute{aInts("kernel_shape", 2, 2), aInts("dilations", 1, 1)}, x, "not supported by this opset"},
		{"ceil before 10", "MaxPool", 8, []*onnx.Attribute{aInts("kernel_shape", 2, 2), aInt("ceil_mode", 1)}, x, "not supported by this opset"},
		{"int avg", "AveragePool", 11, []*onnx.Attribute{aInts("kernel_shape", 2, 2)}, tensor.New(tensor.Uint8, 1, 1, 4, 4), "want a float input"},
		{"rank 2", "MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 2)}, tensor.New(tensor.Float32, 4, 4), "want rank 3"},
		{"negative pads", "MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 2, 2), aInts("pads", -1, 0, 0, 0)}, x, "out of range"},
		{"global rank", "GlobalMaxPool", 1, nil, tensor.New(tensor.Float32, 4), "want rank 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runOp(tt.op, tt.opset, tt.attrs, 1, tt.x)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), `node "n" (`+tt.op+`): `) {
				t.Errorf("%s error = %v, want one naming the node and containing %q", tt.op, err, tt.want)
			}
		})
	}
}

func TestMaxPoolUint8Float64_2D(t *testing.T) {
	// 2x2 of [[1 200] [3 4]] with a 2x2 window: one maximum, 200 at offset 1.
	x := &tensor.Tensor{DType: tensor.Uint8, Shape: []int{1, 1, 2, 2}, U8: []uint8{1, 200, 3, 4}}
	got, err := runOp("MaxPool", 12, []*onnx.Attribute{aInts("kernel_shape", 2, 2)}, 2, x)
	if err != nil {
		t.Fatal(err)
	}
	if g := got[0].U8; len(g) != 1 || g[0] != 200 || got[1].I64[0] != 1 {
		t.Errorf("MaxPool(uint8) = %v, %v, want [200], [1]", g, got[1].I64)
	}
	// float64 average of the same values: (1+200+3+4)/4 = 52.
	xf := &tensor.Tensor{DType: tensor.Float64, Shape: []int{1, 1, 2, 2}, F64: []float64{1, 200, 3, 4}}
	got, err = runOp("AveragePool", 11, []*onnx.Attribute{aInts("kernel_shape", 2, 2)}, 1, xf)
	if err != nil {
		t.Fatal(err)
	}
	if g := got[0].F64; len(g) != 1 || g[0] != 52 {
		t.Errorf("AveragePool(float64) = %v, want [52]", g)
	}
}

// TestPool2DMatchesND checks the 1-D and 2-D fast path (pool2d, through
// pool2dRun, serial and split across goroutines) against the N-D pool on
// random geometries: the same values bit for bit, and the same Indices.
func TestPool2DMatchesND(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for iter := range 400 {
		nsp := 1 + iter%2
		var w window
		var in []int
		for range nsp {
			k := 1 + rng.Intn(4)
			if iter%8 == 1 { // wide rows: the vector kernels run
				in = append(in, k+rng.Intn(40))
			} else {
				in = append(in, k+rng.Intn(8))
			}
			w.kernel = append(w.kernel, k)
			w.strides = append(w.strides, 1+rng.Intn(3))
		}
		for range 2 * nsp {
			w.pads = append(w.pads, rng.Intn(w.kernel[len(w.pads)%nsp]))
		}
		w.ceil = rng.Intn(2) == 1
		o := &poolOp{max: rng.Intn(2) == 1, w: w, countPad: rng.Intn(2) == 1, colMajor: rng.Intn(2) == 1}
		g, err := w.geometry(in, w.kernel)
		if err != nil {
			continue
		}
		g2, ok := g.as2D()
		if !ok {
			t.Fatalf("as2D(%+v) not ok", g)
		}
		// Many planes make pool2dRun split the work when GOMAXPROCS > 1.
		planes := 1 + rng.Intn(3)
		if iter%5 == 0 {
			planes = 1<<16/(g.outSize()*g.kSize()) + 1
		}
		name := fmt.Sprintf("in %v, %+v, planes %d", in, *o, planes)
		x := make([]float64, planes*g.inSize())
		for i := range x {
			x[i] = float64(rng.Intn(7)) - 3 // small integers: many ties
			if rng.Intn(50) == 0 {
				x[i] = math.NaN()
			}
		}
		want, wantIx := make([]float64, planes*g.outSize()), make([]int64, planes*g.outSize())
		pool(o, &g, planes, x, want, wantIx)
		got, gotIx := make([]float64, len(want)), make([]int64, len(want))
		var s scratch
		if err := pool2dRun(o, &s, &g2, planes, x, got, gotIx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) || (o.max && gotIx[i] != wantIx[i]) {
				t.Fatalf("%s: element %d: pool2d = %v (index %d), pool = %v (index %d)", name, i, got[i], gotIx[i], want[i], wantIx[i])
			}
		}
		if tk, ok := s.task.(*pool2dTask[float64]); ok && tk.x != nil {
			t.Fatalf("%s: pool2dRun kept a reference to its input", name)
		}
		// In float32 without Indices, max pooling takes kernel.MaxRows for
		// the windows inside the input: the same values bit for bit.
		xf := make([]float32, len(x))
		for i, v := range x {
			xf[i] = float32(v)
		}
		wantF, gotF := make([]float32, len(want)), make([]float32, len(want))
		pool(o, &g, planes, xf, wantF, nil)
		var sf scratch
		if err := pool2dRun(o, &sf, &g2, planes, xf, gotF, nil); err != nil {
			t.Fatalf("%s float32: %v", name, err)
		}
		for i := range wantF {
			if math.Float32bits(gotF[i]) != math.Float32bits(wantF[i]) {
				t.Fatalf("%s float32: element %d: pool2d = %v, pool = %v", name, i, gotF[i], wantF[i])
			}
		}
	}
}

// BenchmarkPool compares the 2-D fast path with the N-D path on LeNet5's
// first pooling (64 x 6 x 28 x 28, 2x2 windows, stride 2), serially.
func BenchmarkPool(b *testing.B) {
	w := window{kernel: []int{2, 2}, strides: []int{2, 2}}
	g, err := w.geometry([]int{28, 28}, w.kernel)
	if err != nil {
		b.Fatal(err)
	}
	planes := 64 * 6
	x := make([]float32, planes*g.inSize())
	for i := range x {
		x[i] = float32(i%251) - 125
	}
	y := make([]float32, planes*g.outSize())
	for _, o := range []*poolOp{{max: true, w: w}, {w: w}} {
		name := "avg"
		if o.max {
			name = "max"
		}
		b.Run(name+"/2d", func(b *testing.B) {
			for b.Loop() {
				pool2d(o, &g, 0, planes, x, y, nil)
			}
		})
		b.Run(name+"/nd", func(b *testing.B) {
			for b.Loop() {
				pool(o, &g, planes, x, y, nil)
			}
		})
	}
}

// TestPool2x2MatchesND checks the 2x2 path (pool2x2, with the vector
// kernel for float32 max pooling at stride 1) against the N-D pool: the
// same values bit for bit, NaNs and ties included.
func TestPool2x2MatchesND(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	for iter := range 120 {
		var w window
		w.kernel = []int{2, 2}
		w.strides = []int{1 + rng.Intn(3), 1 + rng.Intn(3)}
		w.pads = []int{0, 0, 0, 0}
		in := []int{2 + rng.Intn(30), 2 + rng.Intn(30)}
		o := &poolOp{max: iter%2 == 0, w: w}
		g, err := w.geometry(in, w.kernel)
		if err != nil {
			t.Fatal(err)
		}
		planes := 1 + rng.Intn(4)
		x := make([]float32, planes*g.inSize())
		for i := range x {
			x[i] = float32(rng.Intn(7) - 3)
			if rng.Intn(30) == 0 {
				x[i] = float32(math.NaN())
			}
		}
		want := make([]float32, planes*g.outSize())
		pool(o, &g, planes, x, want, nil)
		got := make([]float32, len(want))
		var s scratch
		if err := pool2dRun(o, &s, &g, planes, x, got, nil); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("in %v strides %v max %v: element %d: pool2x2 = %v, pool = %v", in, w.strides, o.max, i, got[i], want[i])
			}
		}
	}
}

// TestLpPoolNodeCases runs the official ONNX node cases of LpPool (1-D to
// 3-D, pads, strides, dilations, SAME_UPPER/LOWER), whose expected outputs
// come from the ONNX reference implementation; then checks a refusal.
func TestLpPoolNodeCases(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(nodeTestDirs[0], "test_lppool_*"))
	if len(dirs) == 0 {
		t.Skip("ONNX node test cases not installed")
	}
	for _, dir := range dirs {
		if !strings.HasSuffix(dir, "_expanded") {
			t.Run(filepath.Base(dir), func(t *testing.T) { runNodeCase(t, dir) })
		}
	}
	n := &onnx.Node{Name: "lp", OpType: "LpPool", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{
		{Name: "kernel_shape", Type: onnx.AttrInts, Ints: []int64{2}}, {Name: "p", Type: onnx.AttrInt, I: 0}}}
	if _, err := buildLpPool(n, 18); err == nil || !strings.Contains(err.Error(), `"p"`) {
		t.Errorf("LpPool(p 0) error %v, want one naming attribute p", err)
	}
	n.Attrs = append(n.Attrs[:1], &onnx.Attribute{Name: "ceil_mode", Type: onnx.AttrInt, I: 1})
	if _, err := buildLpPool(n, 11); err == nil || !strings.Contains(err.Error(), "ceil_mode") {
		t.Errorf("LpPool-11(ceil_mode) error %v, want one naming ceil_mode", err)
	}
}

// TestMaxUnpoolNodeCases runs the official ONNX node cases of MaxUnpool
// (with and without output_shape; expected outputs from the ONNX reference
// implementation), then checks that an index outside the output is refused.
func TestMaxUnpoolNodeCases(t *testing.T) {
	for _, root := range nodeTestDirs {
		dirs, _ := filepath.Glob(filepath.Join(root, "test_maxunpool_*"))
		for _, dir := range dirs {
			t.Run(dir, func(t *testing.T) { runNodeCase(t, dir) })
		}
	}
	n := &onnx.Node{Name: "unpool", OpType: "MaxUnpool", Inputs: []string{"x", "i"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{
		{Name: "kernel_shape", Type: onnx.AttrInts, Ints: []int64{2, 2}}, {Name: "strides", Type: onnx.AttrInts, Ints: []int64{2, 2}}}}
	o, err := buildMaxUnpool(n, 11)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.FromFloat32([]float32{1}, 1, 1, 1, 1)
	err = o.run(&scratch{}, []*tensor.Tensor{x, tensor.FromInt64([]int64{4}, 1, 1, 1, 1)}, []*tensor.Tensor{{}})
	if err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("MaxUnpool(index 4 of 4) error %v, want out of range", err)
	}
}

// TestCol2ImNodeCases runs the official ONNX node cases of Col2Im (2-D and
// 3-D images, dilations, pads, strides; expected outputs from the ONNX
// reference implementation), then checks refusals of inconsistent shapes.
func TestCol2ImNodeCases(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(nodeTestDirs[0], "test_col2im*"))
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { runNodeCase(t, dir) })
	}
	n := &onnx.Node{Name: "c2i", OpType: "Col2Im", Inputs: []string{"x", "img", "blk"}, Outputs: []string{"y"}}
	o, err := buildCol2Im(n, 18)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.Float32, 1, 4, 4)
	for _, tc := range []struct{ img, blk []int64 }{
		{[]int64{3, 3}, []int64{2, 3}},             // 6 rows per channel do not divide 4
		{[]int64{3, 3}, []int64{1 << 30, 1 << 30}}, // blocks far larger than the rows
		{[]int64{3, 3}, []int64{2, 0}},
	} {
		err := o.run(&scratch{}, []*tensor.Tensor{x, tensor.FromInt64(tc.img, 2), tensor.FromInt64(tc.blk, 2)}, []*tensor.Tensor{{}})
		if err == nil {
			t.Errorf("Col2Im(image %v, block %v) succeeded, want an error", tc.img, tc.blk)
		}
	}
}
