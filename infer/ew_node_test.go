package infer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ewNodeTests lists the official ONNX node test cases of the elementwise,
// activation and shape ops that must pass. The ONNX node tests of these ops
// that are left out use dtypes the tensor package lacks (float16, bfloat16,
// float8, int4, int16, uint16-64, strings), other ops (the _expanded cases
// that use CastLike, Size, Loop...), or sequences and optionals; the ops of
// activation.go, math.go, reduce.go and norm.go are checked by
// verify.TestConformance and TestTorchOpCases.
var ewNodeTests = []string{
	"test_abs", "test_add", "test_add_bcast", "test_add_int8", "test_add_uint8", "test_cast_DOUBLE_to_FLOAT",
	"test_cast_FLOAT_to_DOUBLE", "test_clip", "test_clip_default_inbounds",
	"test_clip_default_inbounds_expanded", "test_clip_default_int8_inbounds",
	"test_clip_default_int8_inbounds_expanded", "test_clip_default_int8_max",
	"test_clip_default_int8_max_expanded", "test_clip_default_int8_min", "test_clip_default_int8_min_expanded",
	"test_clip_default_max", "test_clip_default_max_expanded", "test_clip_default_min",
	"test_clip_default_min_expanded", "test_clip_example", "test_clip_example_expanded", "test_clip_expanded",
	"test_clip_inbounds", "test_clip_inbounds_expanded", "test_clip_min_greater_than_max",
	"test_clip_min_greater_than_max_expanded", "test_clip_outbounds", "test_clip_outbounds_expanded",
	"test_clip_splitbounds", "test_clip_splitbounds_expanded", "test_concat_1d_axis_0",
	"test_concat_1d_axis_negative_1", "test_concat_2d_axis_0", "test_concat_2d_axis_1",
	"test_concat_2d_axis_negative_1", "test_concat_2d_axis_negative_2", "test_concat_3d_axis_0",
	"test_concat_3d_axis_1", "test_concat_3d_axis_2", "test_concat_3d_axis_negative_1",
	"test_concat_3d_axis_negative_2", "test_concat_3d_axis_negative_3", "test_constant", "test_constant_pad",
	"test_constant_pad_axes", "test_constant_pad_negative_axes", "test_constantofshape_float_ones",
	"test_constantofshape_int_shape_zero", "test_constantofshape_int_zeros", "test_div", "test_div_bcast",
	"test_div_example", "test_div_int32_trunc", "test_div_int8", "test_div_uint8", "test_dropout_default",
	"test_dropout_default_mask", "test_dropout_default_mask_ratio", "test_dropout_default_old",
	"test_dropout_default_ratio", "test_dropout_random_old", "test_equal", "test_equal_bcast",
	"test_equal_int8", "test_equal_uint8", "test_erf", "test_exp", "test_exp_example",
	"test_expand_dim_changed", "test_expand_dim_unchanged", "test_flatten_axis0", "test_flatten_axis1",
	"test_flatten_axis2", "test_flatten_axis3", "test_flatten_default_axis", "test_flatten_negative_axis1",
	"test_flatten_negative_axis2", "test_flatten_negative_axis3", "test_flatten_negative_axis4",
	"test_gather_0", "test_gather_1", "test_gather_2d_indices", "test_gather_negative_indices", "test_greater",
	"test_greater_bcast", "test_greater_equal", "test_greater_equal_bcast", "test_greater_equal_int8",
	"test_greater_equal_uint8", "test_greater_int8", "test_greater_uint8", "test_identity", "test_leakyrelu",
	"test_leakyrelu_default", "test_leakyrelu_example", "test_less", "test_less_bcast", "test_less_equal",
	"test_less_equal_bcast", "test_less_equal_int8", "test_less_equal_uint8", "test_less_int8",
	"test_less_uint8", "test_log", "test_log_example", "test_logsoftmax_axis_0", "test_logsoftmax_axis_1",
	"test_logsoftmax_axis_2", "test_logsoftmax_default_axis", "test_logsoftmax_example_1",
	"test_logsoftmax_large_number", "test_logsoftmax_negative_axis", "test_max_example", "test_max_float32",
	"test_max_float64", "test_max_int32", "test_max_int64", "test_max_int8", "test_max_one_input",
	"test_max_two_inputs", "test_max_uint8", "test_min_example", "test_min_float32", "test_min_float64",
	"test_min_int32", "test_min_int64", "test_min_int8", "test_min_one_input", "test_min_two_inputs",
	"test_min_uint8", "test_mul", "test_mul_bcast", "test_mul_example", "test_mul_int8", "test_mul_uint8",
	"test_neg", "test_neg_example", "test_pow", "test_pow_bcast_array", "test_pow_bcast_scalar",
	"test_pow_example", "test_pow_types_float", "test_pow_types_float32_int32", "test_pow_types_float32_int64",
	"test_pow_types_int", "test_pow_types_int32_float32", "test_pow_types_int32_int32",
	"test_pow_types_int64_float32", "test_pow_types_int64_int64", "test_range_float_type_positive_delta",
	"test_range_int32_type_negative_delta", "test_reduce_mean_default_axes_keepdims_example",
	"test_reduce_mean_default_axes_keepdims_random", "test_reduce_mean_do_not_keepdims_example",
	"test_reduce_mean_do_not_keepdims_random", "test_reduce_mean_keepdims_example",
	"test_reduce_mean_keepdims_random", "test_reduce_mean_negative_axes_keepdims_example",
	"test_reduce_mean_negative_axes_keepdims_random", "test_reduce_sum_default_axes_keepdims_example",
	"test_reduce_sum_default_axes_keepdims_random", "test_reduce_sum_do_not_keepdims_example",
	"test_reduce_sum_do_not_keepdims_random", "test_reduce_sum_empty_axes_input_noop",
	"test_reduce_sum_empty_axes_input_noop_example", "test_reduce_sum_empty_axes_input_noop_random",
	"test_reduce_sum_empty_set", "test_reduce_sum_empty_set_non_reduced_axis_zero",
	"test_reduce_sum_keepdims_example", "test_reduce_sum_keepdims_random",
	"test_reduce_sum_negative_axes_keepdims_example", "test_reduce_sum_negative_axes_keepdims_random",
	"test_reduce_sum_square_default_axes_keepdims_example_expanded",
	"test_reduce_sum_square_default_axes_keepdims_random_expanded",
	"test_reduce_sum_square_do_not_keepdims_example_expanded",
	"test_reduce_sum_square_do_not_keepdims_random_expanded", "test_reduce_sum_square_empty_set_expanded",
	"test_reduce_sum_square_keepdims_example_expanded", "test_reduce_sum_square_keepdims_random_expanded",
	"test_reduce_sum_square_negative_axes_keepdims_example_expanded",
	"test_reduce_sum_square_negative_axes_keepdims_random_expanded", "test_relu",
	"test_reshape_allowzero_reordered", "test_reshape_extended_dims", "test_reshape_negative_dim",
	"test_reshape_negative_extended_dims", "test_reshape_one_dim", "test_reshape_reduced_dims",
	"test_reshape_reordered_all_dims", "test_reshape_reordered_last_dims", "test_reshape_zero_and_negative_dim",
	"test_reshape_zero_dim", "test_shape", "test_shape_clip_end", "test_shape_clip_start", "test_shape_end_1",
	"test_shape_end_negative_1", "test_shape_example", "test_shape_start_1", "test_shape_start_1_end_2",
	"test_shape_start_1_end_negative_1", "test_shape_start_greater_than_end", "test_shape_start_negative_1",
	"test_sigmoid", "test_sigmoid_example", "test_slice", "test_slice_default_axes", "test_slice_default_steps",
	"test_slice_end_out_of_bounds", "test_slice_neg", "test_slice_neg_steps", "test_slice_negative_axes",
	"test_slice_start_out_of_bounds", "test_softmax_axis_0", "test_softmax_axis_1", "test_softmax_axis_2",
	"test_softmax_default_axis", "test_softmax_example", "test_softmax_large_number",
	"test_softmax_negative_axis", "test_sqrt", "test_sqrt_example", "test_squeeze",
	"test_squeeze_negative_axes", "test_sub", "test_sub_bcast", "test_sub_example", "test_sub_int8",
	"test_sub_uint8", "test_sum_example", "test_sum_one_input", "test_sum_two_inputs", "test_tanh",
	"test_tanh_example", "test_transpose_all_permutations_0", "test_transpose_all_permutations_1",
	"test_transpose_all_permutations_2", "test_transpose_all_permutations_3",
	"test_transpose_all_permutations_4", "test_transpose_all_permutations_5", "test_transpose_default",
	"test_unsqueeze_axis_0", "test_unsqueeze_axis_1", "test_unsqueeze_axis_2", "test_unsqueeze_axis_3",
	"test_unsqueeze_negative_axes", "test_unsqueeze_three_axes", "test_unsqueeze_two_axes",
	"test_unsqueeze_unsorted_axes", "test_where_example", "test_where_long_example",
}

// TestEWNodeCases runs ewNodeTests through a Session, in every installed
// copy of the node test cases (two ONNX releases, so two opset versions of
// many cases). It skips when none is installed.
func TestEWNodeCases(t *testing.T) {
	found := false
	for i, root := range nodeTestDirs {
		if _, err := os.Stat(root); err != nil {
			continue
		}
		found = true
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			for _, name := range ewNodeTests {
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
