#!/usr/bin/python3
"""Writes one-node ConvTranspose, Resize and Upsample models for attribute
combinations that neither the ONNX node suites nor PyTorch's exports cover,
with seeded random inputs, in the ONNX test layout. scripts/ort_expect.js then
writes onnxruntime's outputs next to them:

    /usr/bin/python3 scripts/make_upsample_ort_cases.py
    node scripts/ort_expect.js infer/testdata/upsample_ort/*/

Each folder holds model.onnx, test_data_set_0/input_<i>.pb and inputs.json
(the same inputs for the Node script, which it deletes after writing
test_data_set_0/output_0.pb).
"""

import argparse
import json
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchref import REPO, write_pb  # noqa: E402

F32 = np.float32


def resize(opset, attrs, x, roi=None, scales=None, sizes=None, op="Resize"):
    """A Resize (or Upsample) case: X fed, the other inputs initializers."""
    inits, names = [], ["X"]
    for name, v in (("roi", roi), ("scales", scales), ("sizes", sizes)):
        if op == "Upsample" or opset < 11:  # X, scales
            if name != "scales":
                continue
        if v is None:
            if opset >= 11 and op == "Resize":
                names.append("")
            continue
        inits.append(numpy_helper.from_array(np.asarray(v), name))
        names.append(name)
    while names and names[-1] == "":
        names.pop()
    return op, opset, attrs, [x], names, inits


def convt(opset, attrs, x, w, b=None):
    inits = [numpy_helper.from_array(w, "W")]
    names = ["X", "W"]
    if b is not None:
        inits.append(numpy_helper.from_array(b, "B"))
        names.append("B")
    return "ConvTranspose", opset, attrs, [x], names, inits


def cases(rng):
    r = lambda *s: rng.standard_normal(s).astype(F32)  # noqa: E731
    return {
        # Resize-10 and Upsample: asymmetric coordinates.
        "resize10_nearest_up": resize(10, {}, r(1, 1, 2, 3), scales=F32([1, 1, 2, 1.5])),
        "resize10_nearest_down": resize(10, {}, r(1, 1, 4, 5), scales=F32([1, 1, 0.6, 0.7])),
        "resize10_linear": resize(10, {"mode": "linear"}, r(1, 1, 3, 4), scales=F32([1, 1, 1.7, 2.5])),
        "upsample7_nearest": ("Upsample", 7, {"scales": [1.0, 1.0, 2.0, 3.0]}, [r(1, 2, 2, 3)], ["X"], []),
        "upsample7_linear": ("Upsample", 7, {"mode": "linear", "scales": [1.0, 1.0, 2.0, 2.5]}, [r(1, 2, 2, 3)], ["X"], []),
        "upsample9_linear": resize(9, {"mode": "linear"}, r(1, 2, 3, 2), scales=F32([1, 1, 1.5, 2]), op="Upsample"),
        # Resize-11: tf_half_pixel_for_nn, roi with scales.
        "resize11_tf_half_pixel_for_nn": resize(11, {"coordinate_transformation_mode": "tf_half_pixel_for_nn"},
                                                r(1, 1, 3, 4), roi=F32([]), scales=F32([]), sizes=np.int64([1, 1, 5, 7])),
        "resize11_tf_crop_and_resize_scales": resize(
            11, {"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize", "extrapolation_value": 7.5},
            r(1, 1, 4, 5), roi=F32([0, 0, -0.2, 0.1, 1, 1, 0.9, 1.3]), scales=F32([1, 1, 1.5, 1.2])),
        # Nearest at exact halves.
        "resize13_round_prefer_floor": resize(13, {"coordinate_transformation_mode": "asymmetric"},
                                              r(1, 1, 2, 5), scales=F32([1, 1, 2, 2])),
        "resize13_round_prefer_ceil": resize(13, {"coordinate_transformation_mode": "asymmetric",
                                                  "nearest_mode": "round_prefer_ceil"},
                                             r(1, 1, 2, 5), scales=F32([1, 1, 2, 2])),
        "resize13_ceil_align_corners_down": resize(13, {"coordinate_transformation_mode": "align_corners",
                                                        "nearest_mode": "ceil"},
                                                   r(1, 1, 7, 6), sizes=np.int64([1, 1, 3, 4])),
        # Other element types, and resizing N and C.
        "resize13_nearest_uint8": resize(13, {}, rng.integers(0, 256, (1, 2, 3, 3)).astype(np.uint8),
                                         sizes=np.int64([1, 2, 5, 4])),
        "resize13_nearest_int32_nc": resize(13, {"nearest_mode": "floor"},
                                            rng.integers(-1000, 1000, (2, 3, 2, 2)).astype(np.int32),
                                            scales=F32([1.5, 2, 1, 1.5])),
        "resize13_linear_pytorch_half_pixel_to_1": resize(
            13, {"mode": "linear", "coordinate_transformation_mode": "pytorch_half_pixel"},
            r(1, 1, 4, 6), sizes=np.int64([1, 1, 1, 3])),
        "resize13_linear_5d": resize(13, {"mode": "linear"}, r(1, 1, 3, 4, 2), scales=F32([1, 1, 2, 0.75, 1.5])),
        "resize13_cubic_exclude_half_pixel": resize(13, {"mode": "cubic", "exclude_outside": 1, "cubic_coeff_a": -0.5},
                                                    r(1, 1, 5, 4), scales=F32([1, 1, 1.6, 0.8])),
        # Resize-18 and 19: antialias, axes, keep_aspect_ratio_policy, half_pixel_symmetric.
        "resize18_cubic_antialias_exclude": resize(18, {"mode": "cubic", "antialias": 1, "exclude_outside": 1},
                                                   r(1, 1, 8, 7), scales=F32([1, 1, 0.4, 0.6])),
        "resize18_linear_antialias_axes_not_larger": resize(
            18, {"mode": "linear", "antialias": 1, "axes": [3, 2], "keep_aspect_ratio_policy": "not_larger"},
            r(1, 2, 9, 8), sizes=np.int64([3, 5])),
        "resize18_nearest_axes_not_smaller": resize(
            18, {"axes": [3, 2], "keep_aspect_ratio_policy": "not_smaller"}, r(1, 1, 3, 5), sizes=np.int64([7, 4])),
        "resize19_cubic_half_pixel_symmetric": resize(
            19, {"mode": "cubic", "coordinate_transformation_mode": "half_pixel_symmetric"},
            r(1, 1, 4, 5), scales=F32([1, 1, 1.7, 0.7])),
        # ConvTranspose: SAME padding with odd totals (onnxruntime clips a
        # negative total to 0, and its output then differs from the spec's
        # in*stride: not a case to take from it), output_shape, 3-D groups, output_padding under a dilation.
        "convtranspose_same_lower_odd": convt(11, {"auto_pad": "SAME_LOWER", "strides": [2, 2]},
                                              r(1, 1, 3, 4), r(1, 2, 4, 3), r(2)),
        "convtranspose_same_upper_odd": convt(11, {"auto_pad": "SAME_UPPER", "strides": [2, 2]},
                                              r(1, 1, 3, 4), r(1, 2, 4, 3)),
        "convtranspose_output_shape_odd": convt(11, {"output_shape": [6, 9], "strides": [2, 2]},
                                                r(1, 2, 3, 4), r(2, 3, 3, 4), r(3)),
        "convtranspose_3d_group_output_shape": convt(11, {"group": 2, "strides": [2, 1, 2], "output_shape": [4, 4, 5]},
                                                     r(1, 4, 2, 3, 2), r(4, 1, 2, 2, 3), r(2)),
        "convtranspose_1d_output_padding_dilation": convt(11, {"dilations": [3], "strides": [2], "output_padding": [1], "pads": [1, 0]},
                                                          r(2, 3, 5), r(3, 2, 3), r(2)),
        "convtranspose_opset1_pads": convt(1, {"pads": [1, 0, 0, 2], "strides": [1, 2], "kernel_shape": [2, 3]},
                                           r(1, 2, 4, 3), r(2, 2, 2, 3)),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(REPO, "infer", "testdata", "upsample_ort"))
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    for name, (op, opset, attrs, xs, names, inits) in cases(np.random.default_rng(args.seed)).items():
        d = os.path.join(args.out, name)
        node = helper.make_node(op, names, ["Y"], **attrs)
        x = xs[0]
        elem = helper.np_dtype_to_tensor_dtype(x.dtype) if hasattr(helper, "np_dtype_to_tensor_dtype") else \
            {np.dtype(F32): TensorProto.FLOAT, np.dtype(np.uint8): TensorProto.UINT8,
             np.dtype(np.int32): TensorProto.INT32}[x.dtype]
        graph = helper.make_graph([node], name, [helper.make_tensor_value_info("X", elem, x.shape)],
                                  [helper.make_tensor_value_info("Y", elem, None)], inits)
        ir = 3 if opset < 9 else 7
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=ir)
        os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(model.SerializeToString())
        write_pb(os.path.join(d, "test_data_set_0", "input_0.pb"), x, "X")
        with open(os.path.join(d, "inputs.json"), "w") as f:
            json.dump([{"name": "X", "type": str(x.dtype), "dims": list(x.shape), "data": x.ravel().tolist()}], f)
        print("wrote", d)


if __name__ == "__main__":
    main()
