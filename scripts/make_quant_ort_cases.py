#!/usr/bin/python3
"""Writes one-node quantization models (QuantizeLinear, DequantizeLinear,
DynamicQuantizeLinear, MatMulInteger, QLinearMatMul, ConvInteger,
QLinearConv) for cases the ONNX node suite leaves out: ties and saturation,
negative axes, ragged blocks, per-row and per-column zero points, batch
broadcasting, groups, padding, strides, dilations, 1-D and 3-D
convolutions. Inputs are seeded random; scripts/ort_expect.js then writes
onnxruntime's outputs next to them:

    /usr/bin/python3 scripts/make_quant_ort_cases.py
    NODE_PATH=.tools/node_modules node scripts/ort_expect.js infer/testdata/quant_ort/*/

The first input is fed, the others are initializers.

onnxruntime's AVX2 kernel for uint8 x int8 products adds pairs of products
in int16 with saturation (VPMADDUBSW): with full-range operands its sums are
not exact (a 3x70 by 70x2 MatMulInteger gave -97365 for the exact -97638).
The uint8 x int8 cases here therefore keep the int8 operand in [-64, 63],
where no pair saturates; the exact full-range products are checked against
a direct loop in internal/kernel.
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchref import REPO, write_pb  # noqa: E402

F32, U8, I8, I32 = np.float32, np.uint8, np.int8, np.int32
ELEM = {np.dtype(F32): 1, np.dtype(U8): 2, np.dtype(I8): 3, np.dtype(I32): 6}


def cases(rng):
    r = lambda *s: rng.standard_normal(s).astype(F32)  # noqa: E731
    u8 = lambda *s: rng.integers(0, 256, s).astype(U8)  # noqa: E731
    i8 = lambda *s: rng.integers(-128, 128, s).astype(I8)  # noqa: E731
    i7 = lambda *s: rng.integers(-64, 64, s).astype(I8)  # noqa: E731  (see the note above)
    ties = F32([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 126.5, 127.5, -128.5, 1e9, -1e9])
    return {
        # name: (op, opset, attrs, inputs (first fed), output count)
        "quantize_ties_uint8": ("QuantizeLinear", 13, {}, [ties, F32(1), U8(128)], 1),
        "quantize_ties_int8": ("QuantizeLinear", 10, {}, [ties * F32(0.5), F32(0.5), I8(-1)], 1),
        "quantize_default_zero_point": ("QuantizeLinear", 13, {}, [r(2, 3) * 100, F32(0.7)], 1),
        "quantize_axis_negative": ("QuantizeLinear", 13, {"axis": -1},
                                   [r(2, 3, 4) * 50, F32([0.5, 1, 2, 0.25]), I8([-3, 0, 5, 100])], 1),
        "quantize_blocked_ragged": ("QuantizeLinear", 21, {"axis": 1, "block_size": 2},
                                    [r(2, 5, 3) * 10, np.abs(r(2, 3, 3)) + F32(0.1), u8(2, 3, 3)], 1),
        "quantize_output_dtype_int8": ("QuantizeLinear", 21, {"output_dtype": 3}, [r(3, 4) * 40, F32(0.3)], 1),
        "dequantize_int32": ("DequantizeLinear", 13, {}, [rng.integers(-100000, 100000, (5,)).astype(I32), F32(0.01)], 1),
        "dequantize_axis0_uint8": ("DequantizeLinear", 13, {"axis": 0}, [u8(3, 2), F32([0.5, 2, 0.125]), U8([0, 128, 255])], 1),
        "dequantize_blocked_ragged": ("DequantizeLinear", 21, {"axis": 0, "block_size": 3},
                                      [i8(4, 3), np.abs(r(2, 3)), i8(2, 3)], 1),
        "dynamicquantize_zeros": ("DynamicQuantizeLinear", 11, {}, [np.zeros((2, 3), F32)], 3),
        "dynamicquantize_negative": ("DynamicQuantizeLinear", 11, {}, [-np.abs(r(3, 4)) - 1], 3),
        "dynamicquantize_random": ("DynamicQuantizeLinear", 11, {}, [r(4, 5) * 3], 3),
        "matmulinteger_col_zero_points": ("MatMulInteger", 10, {}, [u8(2, 3, 4), u8(4, 5), U8(7), u8(5)], 1),
        "matmulinteger_bcast_int8": ("MatMulInteger", 10, {}, [i8(2, 1, 3, 5), i8(4, 5, 2), I8(-3), I8(2)], 1),
        "matmulinteger_no_zero_points": ("MatMulInteger", 10, {}, [u8(3, 70), i7(70, 2)], 1),
        "qlinearmatmul_per_column": ("QLinearMatMul", 10, {},
                                     [i8(3, 4), F32(0.05), I8(2), i8(4, 5), np.abs(r(5)) * F32(0.02), i8(5) * 0,
                                      F32(0.04), I8(-5)], 1),
        "qlinearmatmul_bcast_uint8": ("QLinearMatMul", 21, {},
                                      [u8(2, 2, 3), F32(0.1), U8(120), u8(3, 4), F32(0.02), U8(130), F32(0.3), U8(100)], 1),
        "qlinearconv_group_per_channel": ("QLinearConv", 10,
                                          {"group": 2, "pads": [1, 0, 1, 2], "strides": [2, 1], "dilations": [1, 2]},
                                          [u8(1, 4, 5, 6), F32(0.02), U8(100), i7(6, 2, 3, 3), np.abs(r(6)) * F32(0.01),
                                           np.zeros(6, I8), F32(0.05), U8(90),
                                           rng.integers(-2000, 2000, (6,)).astype(I32)], 1),
        "qlinearconv_1d_same_upper": ("QLinearConv", 10, {"auto_pad": "SAME_UPPER", "strides": [2]},
                                      [u8(2, 3, 7), F32(0.03), U8(10), u8(4, 3, 3), F32(0.01), U8(128),
                                       F32(0.2), U8(50)], 1),
        "qlinearconv_int8_3d": ("QLinearConv", 10, {"pads": [1, 0, 0, 0, 1, 1]},
                                [i8(1, 2, 3, 3, 4), F32(0.05), I8(-4), i8(3, 2, 2, 2, 2), F32(0.01), I8(0),
                                 F32(0.1), I8(6)], 1),
        "convinteger_zero_points_padding": ("ConvInteger", 10, {"pads": [1, 1, 1, 1], "strides": [1, 2]},
                                            [u8(2, 2, 4, 5), u8(3, 2, 2, 2), U8(5), U8(3)], 1),
        # Long sums of large uint8 products (k*255*255 >= 2^24): not exact in
        # float32, so infer takes its integer kernel.
        "matmulinteger_long_uint8": ("MatMulInteger", 10, {}, [u8(2, 300), u8(300, 3)], 1),
        "qlinearconv_long_uint8": ("QLinearConv", 10, {"pads": [1, 1, 1, 1]},
                                   [u8(1, 40, 4, 4), F32(0.01), U8(0), u8(2, 40, 3, 3), F32(0.01), U8(0),
                                    F32(100), U8(3)], 1),
        "convinteger_group_3d": ("ConvInteger", 10, {"group": 2},
                                 [u8(1, 2, 3, 3, 3), u8(4, 1, 2, 1, 2), U8(200)], 1),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(REPO, "infer", "testdata", "quant_ort"))
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    for name, (op, opset, attrs, ins, nout) in cases(np.random.default_rng(args.seed)).items():
        d = os.path.join(args.out, name)
        names = ["in%d" % i for i in range(len(ins))]
        outs = ["out%d" % i for i in range(nout)]
        node = helper.make_node(op, names, outs, **attrs)
        x = np.asarray(ins[0])
        inits = [numpy_helper.from_array(np.asarray(v), n) for v, n in zip(ins[1:], names[1:])]
        graph = helper.make_graph([node], name, [helper.make_tensor_value_info("in0", ELEM[x.dtype], x.shape)],
                                  [onnx.ValueInfoProto(name=o) for o in outs], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=7 if opset < 21 else 10)
        os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(model.SerializeToString())
        write_pb(os.path.join(d, "test_data_set_0", "input_0.pb"), x, "in0")
        with open(os.path.join(d, "inputs.json"), "w") as f:
            json.dump([{"name": "in0", "type": str(x.dtype), "dims": list(x.shape), "data": x.ravel().tolist()}], f)
        print("wrote", d)


if __name__ == "__main__":
    main()
