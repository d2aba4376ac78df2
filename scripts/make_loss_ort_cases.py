#!/usr/bin/python3
"""Writes one-node loss, RMS/Lp normalization and bitwise models with seeded
random inputs, in the ONNX test layout, for combinations the node suites
leave out (weights with ignore_index on 4-D scores, float64, int32 targets,
every sample ignored, zero norms, float64 X with stash_type 1 or 11,
int8/uint8 bitwise broadcasting). scripts/ort_run.js then writes
onnxruntime's outputs next to them:

    /usr/bin/python3 scripts/make_loss_ort_cases.py
    NODE_PATH=.tools/node_modules node scripts/ort_run.js --write infer/testdata/loss_ort/*/
"""

import os

import numpy as np
import onnx
from onnx import helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "infer", "testdata", "loss_ort")
rng = np.random.default_rng(20261204)


def case(name, opset, op, inputs, outs, out_types, **attrs):
    """One node with graph inputs named after inputs' keys."""
    node = helper.make_node(op, list(inputs), outs, **attrs)
    vi = [helper.make_tensor_value_info(k, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[v.dtype], v.shape) for k, v in inputs.items()]
    vo = [helper.make_tensor_value_info(o, t, None) for o, t in zip(outs, out_types)]
    model = helper.make_model(helper.make_graph([node], name, vi, vo), opset_imports=[helper.make_opsetid("", opset)])
    d = os.path.join(OUT, name, "test_data_set_0")
    os.makedirs(d, exist_ok=True)
    onnx.save(model, os.path.join(OUT, name, "model.onnx"))
    for i, (k, v) in enumerate(inputs.items()):
        with open(os.path.join(d, "input_%d.pb" % i), "wb") as f:
            f.write(numpy_helper.from_array(v, k).SerializeToString())


F, D = onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE
x = rng.standard_normal((3, 5, 2, 4)).astype(np.float32)
t = rng.integers(0, 5, (3, 2, 4)).astype(np.int64)
t[0, 0, :] = 2
w = rng.random(5).astype(np.float32)
for red in ["none", "sum", "mean"]:
    case("sce_weight_ignore_" + red, 13, "SoftmaxCrossEntropyLoss", {"x": x, "t": t, "w": w}, ["y", "lp"], [F, F],
         reduction=red, ignore_index=2)
    case("nll_weight_ignore_" + red, 22, "NegativeLogLikelihoodLoss", {"x": x, "t": t.astype(np.int32), "w": w}, ["y"], [F],
         reduction=red, ignore_index=2)
case("sce_f64_mean", 12, "SoftmaxCrossEntropyLoss", {"x": x[:, :, 0, 0].astype(np.float64), "t": t[:, 0, 0]}, ["y"], [D])
case("nll_all_ignored_mean", 13, "NegativeLogLikelihoodLoss",
     {"x": x[:, :, 0, :1], "t": np.full((3, 1), 1, np.int64)}, ["y"], [F], ignore_index=1)
z = rng.standard_normal((4, 3)).astype(np.float32)
z[:, 1] = 0
case("lp_p1_axis0_zero", 22, "LpNormalization", {"x": z}, ["y"], [F], p=1, axis=0)
case("lp_p2_f64", 1, "LpNormalization", {"x": rng.standard_normal((2, 3, 4))}, ["y"], [D], axis=1)
case("rms_f64_stash1", 23, "RMSNormalization", {"x": rng.standard_normal((2, 3, 4)), "s": rng.standard_normal((4,))},
     ["y"], [D], axis=1)
case("rms_f64_stash11", 23, "RMSNormalization", {"x": rng.standard_normal((2, 3, 4)), "s": rng.standard_normal((3, 1))},
     ["y"], [D], axis=-2, stash_type=11)
case("rms_scale_bcast", 23, "RMSNormalization",
     {"x": rng.standard_normal((2, 3, 4)).astype(np.float32), "s": rng.standard_normal((1, 4)).astype(np.float32)},
     ["y"], [F], axis=-2, epsilon=0.1)
a8 = rng.integers(-128, 128, (2, 3, 4)).astype(np.int8)
b8 = rng.integers(-128, 128, (4,)).astype(np.int8)
case("bitwise_xor_int8_bcast", 18, "BitwiseXor", {"a": a8, "b": b8}, ["y"], [onnx.TensorProto.INT8])
case("bitwise_not_uint8", 18, "BitwiseNot", {"a": a8.view(np.uint8)}, ["y"], [onnx.TensorProto.UINT8])
