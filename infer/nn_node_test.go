package infer

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/onnxkit/onnxkit/onnx"
	"github.com/onnxkit/onnxkit/tensor"
)

// nodeTestDirs are where the official ONNX node test cases may be installed.
var nodeTestDirs = []string{
	"/work/shared/onnx-conformance/node",
	"/usr/share/libonnx-testdata/data/node",
}

// nnNodeTests lists the official ONNX node test cases of this file's ops
// that must pass: Go output equal to the case's expected output within the
// backend test tolerance (rtol 1e-3, atol 1e-7).
var nnNodeTests = []string{
	"test_averagepool_1d_default",
	"test_averagepool_2d_ceil",
	"test_averagepool_2d_ceil_last_window_starts_on_pad",
	"test_averagepool_2d_default",
	"test_averagepool_2d_dilations",
	"test_averagepool_2d_pads",
	"test_averagepool_2d_pads_count_include_pad",
	"test_averagepool_2d_precomputed_pads",
	"test_averagepool_2d_precomputed_pads_count_include_pad",
	"test_averagepool_2d_precomputed_same_upper",
	"test_averagepool_2d_precomputed_strides",
	"test_averagepool_2d_same_lower",
	"test_averagepool_2d_same_upper",
	"test_averagepool_2d_strides",
	"test_averagepool_3d_default",
	"test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_False",
	"test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_True",
	"test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_False",
	"test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_True",
	"test_averagepool_3d_dilations_small",
	"test_basic_conv_with_padding",
	"test_basic_conv_without_padding",
	"test_batchnorm_epsilon",
	"test_batchnorm_example",
	"test_constant_pad",
	"test_constant_pad_axes",
	"test_constant_pad_negative_axes",
	"test_conv_with_autopad_same",
	"test_conv_with_strides_and_asymmetric_padding",
	"test_conv_with_strides_no_padding",
	"test_conv_with_strides_padding",
	"test_edge_pad",
	"test_gemm_all_attributes",
	"test_gemm_alpha",
	"test_gemm_beta",
	"test_gemm_default_matrix_bias",
	"test_gemm_default_no_bias",
	"test_gemm_default_scalar_bias",
	"test_gemm_default_single_elem_vector_bias",
	"test_gemm_default_vector_bias",
	"test_gemm_default_zero_bias",
	"test_gemm_transposeA",
	"test_gemm_transposeB",
	"test_globalaveragepool",
	"test_globalaveragepool_precomputed",
	"test_globalmaxpool",
	"test_globalmaxpool_precomputed",
	"test_matmul_1d_1d",
	"test_matmul_1d_3d",
	"test_matmul_2d",
	"test_matmul_3d",
	"test_matmul_4d",
	"test_matmul_4d_1d",
	"test_matmul_bcast",
	"test_maxpool_1d_default",
	"test_maxpool_2d_ceil",
	"test_maxpool_2d_ceil_output_size_reduce_by_one",
	"test_maxpool_2d_default",
	"test_maxpool_2d_dilations",
	"test_maxpool_2d_pads",
	"test_maxpool_2d_precomputed_pads",
	"test_maxpool_2d_precomputed_same_upper",
	"test_maxpool_2d_precomputed_strides",
	"test_maxpool_2d_same_lower",
	"test_maxpool_2d_same_upper",
	"test_maxpool_2d_strides",
	"test_maxpool_2d_uint8",
	"test_maxpool_3d_default",
	"test_maxpool_3d_dilations",
	"test_maxpool_3d_dilations_use_ref_impl",
	"test_maxpool_3d_dilations_use_ref_impl_large",
	"test_maxpool_with_argmax_2d_precomputed_pads",
	"test_maxpool_with_argmax_2d_precomputed_strides",
	"test_reflect_pad",
	"test_wrap_pad",
}

// TestNNNodeCases spot-checks the ops of this package's neural-network
// files against the official ONNX node test cases, when installed.
func TestNNNodeCases(t *testing.T) {
	found := false
	for i, root := range nodeTestDirs {
		if _, err := os.Stat(root); err != nil {
			continue
		}
		found = true
		// The installations hold different ONNX releases, hence different
		// opset versions of the same cases.
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			for _, name := range nnNodeTests {
				t.Run(strings.TrimPrefix(name, "test_"), func(t *testing.T) {
					dir := filepath.Join(root, name)
					if _, err := os.Stat(dir); err != nil {
						t.Skip("case not installed")
					}
					runNodeCase(t, dir)
				})
			}
		})
	}
	if !found {
		t.Skip("ONNX node test cases not installed")
	}
}

// runNodeCase runs every data set of an ONNX test case folder, feeding
// inputs and matching outputs by position, with the ONNX backend test
// tolerances (rtol 1e-3, atol 1e-7).
func runNodeCase(t *testing.T, dir string) {
	t.Helper()
	runNodeCaseTol(t, dir, 1e-3, 1e-7)
}

// runNodeCaseTol is runNodeCase with the given tolerances.
func runNodeCaseTol(t *testing.T, dir string, rtol, atol float64) {
	t.Helper()
	modelPath, sets, err := onnx.LoadTestCase(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	ins, outs := s.Inputs(), s.Outputs()
	for _, set := range sets {
		feeds := make(map[string]*tensor.Tensor)
		for i, in := range set.Inputs {
			if i < len(ins) {
				feeds[ins[i].Name] = in.Tensor
			}
		}
		got, err := s.Run(feeds)
		if err != nil {
			t.Fatalf("%s: Run: %v", set.Dir, err)
		}
		for i, want := range set.Outputs {
			if i >= len(outs) {
				t.Fatalf("%s: %d expected outputs, model has %d", set.Dir, len(set.Outputs), len(outs))
			}
			if msg := compareTensors(got[outs[i].Name], want.Tensor, rtol, atol); msg != "" {
				t.Errorf("%s: output %q: %s", set.Dir, outs[i].Name, msg)
			}
		}
	}
}

// compareTensors returns "" if got matches want: same dtype and shape, and
// every element within atol + rtol*|want| (NaN matching NaN).
func compareTensors(got, want *tensor.Tensor, rtol, atol float64) string {
	if got == nil {
		return "missing"
	}
	if got.DType != want.DType || tensor.ShapeString(got.Shape) != tensor.ShapeString(want.Shape) {
		return "got " + got.String() + ", want " + want.String()
	}
	bad := 0
	first := ""
	for i := 0; i < want.Len(); i++ {
		g, w := got.Float64At(i), want.Float64At(i)
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if math.Abs(g-w) > atol+rtol*math.Abs(w) || math.IsNaN(g) != math.IsNaN(w) {
			if bad == 0 {
				first = "element " + itoa(i) + ": got " + ftoa(g) + ", want " + ftoa(w)
			}
			bad++
		}
	}
	if bad > 0 {
		return itoa(bad) + " elements differ; first " + first
	}
	return ""
}

func itoa(i int) string     { return strconv.Itoa(i) }
func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', 8, 64) }

// TestNNNodeCasesUnsupported checks that node test cases using what is not
// implemented fail at load with an UnsupportedOpsError.
func TestNNNodeCasesUnsupported(t *testing.T) {
	for _, root := range nodeTestDirs {
		for _, name := range []string{"test_batchnorm_example_training_mode", "test_batchnorm_epsilon_training_mode"} {
			path := filepath.Join(root, name, "model.onnx")
			if _, err := os.Stat(path); err != nil {
				continue
			}
			_, err := Load(path)
			var ue *UnsupportedOpsError
			if !errors.As(err, &ue) || len(ue.Ops) != 1 || ue.Ops[0].OpType != "BatchNormalization" {
				t.Errorf("Load(%s) = %v, want an UnsupportedOpsError for BatchNormalization", path, err)
			}
		}
	}
}

// TestPyTorchModels runs the PyTorch exports under testdata/pytorch (MLP,
// CNN, LeNet5, with the logits PyTorch computed for the same images) through
// a Session.
func TestPyTorchModels(t *testing.T) {
	for _, name := range []string{"mlp", "cnn", "lenet5"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "testdata", "pytorch", name)
			if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err != nil {
				t.Skip("reference export not present")
			}
			// Logits are sums of hundreds of products, accumulated in
			// another order than PyTorch's: compare with an absolute
			// tolerance too (the largest logits are about 10-20).
			runNodeCaseTol(t, dir, 1e-4, 1e-5)
		})
	}
}
