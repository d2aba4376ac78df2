package infer

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// TestResizePyTorch checks nn.Upsample and F.interpolate exports (nearest,
// bilinear with and without align_corners, bicubic, trilinear; by scale
// and by size; opsets 11 and 13) against PyTorch's outputs, at rtol 1e-4,
// atol 1e-5 (fixtures from scripts/make_upsample_reference.py).
func TestResizePyTorch(t *testing.T) {
	for _, prefix := range []string{"nearest", "bilinear", "bicubic", "trilinear"} {
		for _, dir := range upsampleFixtures(t, prefix) {
			t.Run(filepath.Base(dir), func(t *testing.T) { runNodeCaseTol(t, dir, 1e-4, 1e-5) })
		}
	}
}

// TestResizeNodeCases runs the official test_resize_* and test_upsample_*
// cases (expected outputs from the ONNX node suites 1.12 and 1.22).
func TestResizeNodeCases(t *testing.T) {
	for _, prefix := range []string{"test_resize", "test_upsample"} {
		for _, dir := range nodeSuiteCases(t, prefix) {
			t.Run(filepath.Base(filepath.Dir(filepath.Dir(dir)))+"/"+filepath.Base(dir), func(t *testing.T) { runNodeCase(t, dir) })
		}
	}
}

func TestResizeErrors(t *testing.T) {
	x := tensor.New(tensor.Float32, 1, 1, 2, 3)
	sc := func(v ...float32) *tensor.Tensor { return tensor.FromFloat32(v, len(v)) }
	sz := func(v ...int64) *tensor.Tensor { return tensor.FromInt64(v, len(v)) }
	empty := tensor.New(tensor.Float32, 0)
	nan := float32(math.NaN())
	tests := []struct {
		name  string
		op    string
		opset int64
		attrs []*onnx.Attribute
		ins   []*tensor.Tensor
		want  string
	}{
		{"mode", "Resize", 13, []*onnx.Attribute{aString("mode", "area")}, []*tensor.Tensor{x, nil, sc(1, 1, 2, 2)}, `attribute "mode": unknown value "area"`},
		{"cubic at 10", "Resize", 10, []*onnx.Attribute{aString("mode", "cubic")}, []*tensor.Tensor{x, sc(1, 1, 2, 2)}, `attribute "mode": unknown value "cubic"`},
		{"symmetric at 18", "Resize", 18, []*onnx.Attribute{aString("coordinate_transformation_mode", "half_pixel_symmetric")}, []*tensor.Tensor{x, nil, sc(1, 1, 2, 2)}, `unknown value "half_pixel_symmetric" for opset 18`},
		{"tf_half_pixel_for_nn at 13", "Resize", 13, []*onnx.Attribute{aString("coordinate_transformation_mode", "tf_half_pixel_for_nn")}, []*tensor.Tensor{x, nil, sc(1, 1, 2, 2)}, `unknown value "tf_half_pixel_for_nn" for opset 13`},
		{"nearest_mode", "Resize", 13, []*onnx.Attribute{aString("nearest_mode", "round")}, []*tensor.Tensor{x, nil, sc(1, 1, 2, 2)}, `attribute "nearest_mode": unknown value "round"`},
		{"exclude_outside", "Resize", 13, []*onnx.Attribute{aInt("exclude_outside", 2)}, []*tensor.Tensor{x, nil, sc(1, 1, 2, 2)}, `attribute "exclude_outside": want 0 or 1, got 2`},
		{"antialias", "Resize", 18, []*onnx.Attribute{aInt("antialias", -1)}, []*tensor.Tensor{x, nil, sc(1, 1, 2, 2)}, `attribute "antialias": want 0 or 1, got -1`},
		{"axes repeated", "Resize", 18, []*onnx.Attribute{aInts("axes", 2, 2)}, []*tensor.Tensor{x, nil, sc(2, 2)}, `attribute "axes": axis 2 repeated`},
		{"axes range", "Resize", 18, []*onnx.Attribute{aInts("axes", 2, 4)}, []*tensor.Tensor{x, nil, sc(2, 2)}, `attribute "axes": axis 4 out of range for rank 4`},
		{"policy", "Resize", 18, []*onnx.Attribute{aString("keep_aspect_ratio_policy", "fit")}, []*tensor.Tensor{x, nil, nil, sz(1, 1, 4, 4)}, `attribute "keep_aspect_ratio_policy": unknown value "fit"`},
		{"both", "Resize", 13, nil, []*tensor.Tensor{x, nil, sc(1, 1, 2, 2), sz(1, 1, 4, 6)}, "inputs scales and sizes are both given"},
		{"neither", "Resize", 13, nil, []*tensor.Tensor{x, nil, empty}, "want input scales or sizes, got neither"},
		{"scales length", "Resize", 13, nil, []*tensor.Tensor{x, nil, sc(2, 2)}, "input scales: want float32[4], got float32[2]"},
		{"scales length with axes", "Resize", 18, []*onnx.Attribute{aInts("axes", 3)}, []*tensor.Tensor{x, nil, sc(2, 2)}, "input scales: want float32[1], got float32[2]"},
		{"zero scale", "Resize", 13, nil, []*tensor.Tensor{x, nil, sc(1, 1, 0, 2)}, "input scales: value 0 on axis 2 is not a positive number"},
		{"NaN scale", "Resize", 13, nil, []*tensor.Tensor{x, nil, sc(1, 1, nan, 2)}, "input scales: value NaN on axis 2"},
		{"huge scale", "Resize", 13, nil, []*tensor.Tensor{x, nil, sc(1, 1, 1e30, 1)}, "output size out of range"},
		{"huge output", "Resize", 13, nil, []*tensor.Tensor{x, nil, sc(1, 1, 1e5, 1e5)}, "more than"},
		{"negative size", "Resize", 13, nil, []*tensor.Tensor{x, nil, nil, sz(1, 1, -1, 2)}, "input sizes: value -1 on axis 2 out of range"},
		{"huge sizes", "Resize", 13, nil, []*tensor.Tensor{x, nil, nil, sz(1, 1, 1<<20, 1<<20)}, "more than"},
		{"sizes dtype", "Resize", 13, nil, []*tensor.Tensor{x, nil, nil, sc(1, 1, 2, 2)}, "input sizes: want int64[4]"},
		{"roi length", "Resize", 13, []*onnx.Attribute{aString("coordinate_transformation_mode", "tf_crop_and_resize")}, []*tensor.Tensor{x, sc(0, 1), nil, sz(1, 1, 2, 2)}, "input roi: want 8 float values"},
		{"linear on int64", "Resize", 13, []*onnx.Attribute{aString("mode", "linear")}, []*tensor.Tensor{tensor.New(tensor.Int64, 1, 1, 2, 2), nil, sc(1, 1, 2, 2)}, "mode linear and cubic need float32 or float64"},
		{"empty axis", "Resize", 13, nil, []*tensor.Tensor{tensor.New(tensor.Float32, 1, 1, 0, 2), nil, nil, sz(1, 1, 2, 2)}, "axis 2 is empty"},
		{"Resize-11 arity", "Resize", 11, nil, []*tensor.Tensor{x, sc(1, 1, 2, 2)}, "want 3 to 4 inputs"},
		{"Upsample-7 scales", "Upsample", 7, []*onnx.Attribute{aString("mode", "nearest")}, []*tensor.Tensor{x}, `attribute "scales" is required`},
		{"Upsample-7 below 1", "Upsample", 7, []*onnx.Attribute{&onnx.Attribute{Name: "scales", Type: onnx.AttrFloats, Floats: []float32{1, 1, 0.5, 1}}}, []*tensor.Tensor{x}, `attribute "scales": want values from 1`},
		{"Upsample-9 below 1", "Upsample", 9, nil, []*tensor.Tensor{x, sc(1, 1, 0.5, 1)}, "input scales: value 0.5 on axis 2 is below 1"},
		{"antialias at 13", "Resize", 13, []*onnx.Attribute{aInt("antialias", 1)}, []*tensor.Tensor{x, nil, sc(1, 1, 2, 2)}, `attribute "antialias" is not defined for Resize-13`},
		{"nearest_mode at 10", "Resize", 10, []*onnx.Attribute{aString("nearest_mode", "floor")}, []*tensor.Tensor{x, sc(1, 1, 2, 2)}, `attribute "nearest_mode" is not defined for Resize-10`},
		{"scales attribute at 9", "Upsample", 9, []*onnx.Attribute{&onnx.Attribute{Name: "scales", Type: onnx.AttrFloats, Floats: []float32{1, 1, 2, 2}}}, []*tensor.Tensor{x, sc(1, 1, 2, 2)}, `attribute "scales" is not defined for Upsample-9`},
		{"Upsample mode", "Upsample", 9, []*onnx.Attribute{aString("mode", "cubic")}, []*tensor.Tensor{x, sc(1, 1, 2, 2)}, `attribute "mode": unknown value "cubic"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runOp(tt.op, tt.opset, tt.attrs, 1, tt.ins...)
			prefix := `node "n" (` + tt.op + `): `
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("%s-%d error = %v, want one naming the node and containing %q", tt.op, tt.opset, err, tt.want)
			}
		})
	}
}

// TestUpsampleOpsNoPanic runs Resize, Upsample and ConvTranspose, all
// inputs but X constant, on combinations of odd inputs and attributes (empty and zero-sized
// tensors, NaN, infinite, huge and negative values, wrong dtypes and
// ranks) and checks that each run succeeds with a valid output or
// returns an error naming the node, never panics (which a session
// reports as an internal error).
func TestUpsampleOpsNoPanic(t *testing.T) {
	f := func(shape ...int) *tensor.Tensor { return ewIota(shape...) }
	sc := func(v ...float32) *tensor.Tensor { return tensor.FromFloat32(v, len(v)) }
	sz := func(v ...int64) *tensor.Tensor { return tensor.FromInt64(v, len(v)) }
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	xs := []*tensor.Tensor{f(1, 1, 2, 3), f(2, 0, 3), f(3), ewF32(nil, 1), ewI64([]int{1, 2}, 3, 4), ewBool([]int{2}, true, false)}
	params := []*tensor.Tensor{nil, sc(), sc(1, 1, 2, 2), sc(1, 1, 0.01, 1e-9), sc(1, 1, nan, inf), sc(1, 1, -1, 3), sc(2, 0.5, 1.5),
		sc(0.5, 1), sz(), sz(1, 1, 4, 5), sz(1, 1, 0, 1<<40), sz(2, 7, 1), sz(1, 1, 1, 1)}
	attrSets := [][]*onnx.Attribute{
		nil,
		{aString("mode", "linear"), aString("coordinate_transformation_mode", "align_corners"), aInt("antialias", 1)},
		{aString("mode", "cubic"), aInt("exclude_outside", 1), aString("coordinate_transformation_mode", "tf_crop_and_resize"), aFloat("extrapolation_value", nan)},
		{aString("mode", "linear"), aInts("axes", -1, 2), aString("keep_aspect_ratio_policy", "not_smaller"), aString("coordinate_transformation_mode", "pytorch_half_pixel")},
		{aString("nearest_mode", "ceil"), aInts("axes", 0), aString("coordinate_transformation_mode", "half_pixel_symmetric")},
	}
	runs := 0
	try := func(op string, opset int64, attrs []*onnx.Attribute, in []*tensor.Tensor) {
		runs++
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("%s-%d on %v: panic: %v", op, opset, in, r)
			}
		}()
		out, err := runOpConst(1, op, opset, attrs, 1, in...)
		if err != nil {
			if !strings.HasPrefix(err.Error(), `node "n" (`+op+`)`) && !strings.Contains(err.Error(), `node "n" (`+op+`, domain`) {
				t.Errorf("%s-%d: error %q does not name the node", op, opset, err)
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Errorf("%s-%d on %v: %v", op, opset, in, err)
			}
			return
		}
		if !out[0].Valid() {
			t.Errorf("%s-%d on %v: invalid output %v", op, opset, in, out[0])
		}
	}
	for _, x := range xs {
		for _, p := range params {
			for _, q := range params {
				for _, attrs := range attrSets {
					for _, opset := range []int64{11, 13, 19} {
						try("Resize", opset, attrs, []*tensor.Tensor{x, p, q, nil}[:4])
						try("Resize", opset, attrs, []*tensor.Tensor{x, nil, p, q})
					}
				}
				try("Resize", 10, nil, []*tensor.Tensor{x, p})
				try("Upsample", 9, []*onnx.Attribute{aString("mode", "linear")}, []*tensor.Tensor{x, p})
			}
		}
	}
	ws := []*tensor.Tensor{f(1, 2, 3, 3), f(2, 1, 1, 1), f(1, 1, 2), f(1, 1, 1, 1, 1), f(0, 2, 2, 2), f(2, 0, 3, 3)}
	ctAttrs := [][]*onnx.Attribute{
		nil,
		{aInts("strides", 3, 2), aInts("output_padding", 2, 1), aString("auto_pad", "SAME_LOWER")},
		{aInts("output_shape", 9, 1), aInts("dilations", 2, 3), aInt("group", 2)},
		{aInts("pads", 5, 0, 0, 5), aString("auto_pad", "VALID")},
		{aInts("kernel_shape", 3, 3), aInts("strides", 1<<20, 1<<20)},
	}
	for _, x := range []*tensor.Tensor{f(1, 1, 2, 3), f(2, 2, 3, 1), f(1, 2, 0, 3), f(1, 1, 4), f(1, 1, 1, 1, 1)} {
		for _, w := range ws {
			for _, attrs := range ctAttrs {
				try("ConvTranspose", 22, attrs, []*tensor.Tensor{x, w})
				try("ConvTranspose", 22, attrs, []*tensor.Tensor{x, w, sc(1, 2)})
			}
		}
	}
	t.Logf("%d runs", runs)
}

// TestUpsampleOnnxruntime checks one-node ConvTranspose, Resize and
// Upsample models for attribute combinations the node suites and PyTorch's
// exports leave out (Resize-10, Upsample-7 and 9, tf_half_pixel_for_nn,
// roi with scales, nearest at exact halves, integer types, resized N and
// C axes, 3-D linear, antialias with exclude_outside, axes with
// keep_aspect_ratio_policy, half_pixel_symmetric; ConvTranspose SAME_*
// with odd padding, output_shape, 3-D groups, output_padding with
// dilation, opset 1) against onnxruntime 1.30's outputs, at rtol 1e-4,
// atol 1e-5 (fixtures from scripts/make_upsample_ort_cases.py and
// scripts/ort_expect.js).
func TestUpsampleOnnxruntime(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "upsample_ort", "*"))
	if len(dirs) == 0 {
		t.Fatal("no fixtures under testdata/upsample_ort")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { runNodeCaseTol(t, dir, 1e-4, 1e-5) })
	}
}

// BenchmarkResize times 2x upsampling of a 1x128x40x40 feature map
// (YOLO's neck, a U-Net decoder), nearest and bilinear.
func BenchmarkResize(b *testing.B) {
	for _, mode := range []string{"nearest", "linear", "cubic"} {
		b.Run(mode, func(b *testing.B) {
			x := ewIota(1, 128, 40, 40)
			scales := tensor.FromFloat32([]float32{1, 1, 2, 2}, 4)
			n := &onnx.Node{Name: "r", OpType: "Resize", Inputs: []string{"x", "", "s"}, Outputs: []string{"y"},
				Attrs: []*onnx.Attribute{aString("mode", mode)}}
			o, err := buildResize(n, 13)
			if err != nil {
				b.Fatal(err)
			}
			s, in, out := &scratch{}, []*tensor.Tensor{x, nil, scales}, []*tensor.Tensor{{}}
			for b.Loop() {
				if err := o.run(s, in, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestUpsampleOpsNoAllocs checks that Resize and ConvTranspose allocate
// nothing once their outputs and scratch are warm (Session.RunInto's
// promise).
func TestUpsampleOpsNoAllocs(t *testing.T) {
	x := ewIota(2, 3, 4, 5)
	sc := tensor.FromFloat32([]float32{1, 1, 2, 1.5}, 4)
	cases := []struct {
		name  string
		op    string
		attrs []*onnx.Attribute
		in    []*tensor.Tensor
	}{
		{"nearest", "Resize", nil, []*tensor.Tensor{x, nil, sc}},
		{"linear", "Resize", []*onnx.Attribute{aString("mode", "linear")}, []*tensor.Tensor{x, nil, sc}},
		{"cubic antialias", "Resize", []*onnx.Attribute{aString("mode", "cubic"), aInt("antialias", 1)},
			[]*tensor.Tensor{x, nil, tensor.FromFloat32([]float32{1, 1, 0.5, 0.7}, 4)}},
		{"convtranspose", "ConvTranspose", []*onnx.Attribute{aInts("strides", 2, 2), aInt("group", 3)},
			[]*tensor.Tensor{x, ewIota(3, 2, 3, 3), ewIota(6)}},
	}
	for _, c := range cases {
		n := &onnx.Node{Name: c.name, OpType: c.op, Attrs: c.attrs, Outputs: []string{"y"}, Inputs: make([]string, len(c.in))}
		for i, in := range c.in {
			if in != nil {
				n.Inputs[i] = "x"
			}
		}
		o, err := ewBuilder(c.op, 19)(n, 19)
		if err != nil {
			t.Fatal(err)
		}
		s, out := &scratch{}, []*tensor.Tensor{{}}
		if err := o.run(s, c.in, out); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(10, func() {
			if err := o.run(s, c.in, out); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run, want 0", c.name, allocs)
		}
	}
}
