#!/usr/bin/env python3
"""make_float16.py writes a float16 copy of an ONNX model the way
onnxconverter-common's float16.convert_float_to_float16(model,
keep_io_types=True) does: every float32 initializer and Constant tensor
becomes float16, every float32 value_info float16, every Cast to float32 a Cast to
float16, and the graph keeps its
float32 inputs and outputs through Cast nodes at the edges
(graph_input_cast_N after each input, graph_output_cast_N before each
output). The test_data_set_N folders are copied unchanged: the outputs stay
PyTorch's float32 ones, so a runtime is checked against them at float16
tolerance.

    /usr/bin/python3 scripts/make_float16.py testdata/pytorch/lenet5 testdata/float16/lenet5

It uses only the onnx package (Debian's python3-onnx 1.12).
"""
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def to_half(t):
    """Returns a float16 copy of a float32 TensorProto (others unchanged)."""
    if t.data_type != TensorProto.FLOAT:
        return t
    h = numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name)
    return h


def convert(model):
    g = model.graph
    for i, t in enumerate(g.initializer):
        g.initializer[i].CopyFrom(to_half(t))
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                a.t.CopyFrom(to_half(a.t))
        if n.op_type == "Cast":  # a Cast to float32 now makes float16
            for a in n.attribute:
                if a.name == "to" and a.i == TensorProto.FLOAT:
                    a.i = TensorProto.FLOAT16
    for vi in g.value_info:
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            vi.type.tensor_type.elem_type = TensorProto.FLOAT16

    casts = []
    # Inputs: the float32 input feeds a Cast whose output the nodes read.
    for k, vi in enumerate(x for x in g.input if x.type.tensor_type.elem_type == TensorProto.FLOAT):
        if any(t.name == vi.name for t in g.initializer):
            continue
        name = "graph_input_cast_%d" % k
        for n in g.node:
            for j, x in enumerate(n.input):
                if x == vi.name:
                    n.input[j] = name
        casts.append((0, helper.make_node("Cast", [vi.name], [name], name=name, to=TensorProto.FLOAT16)))
    # Outputs: the node producing a float32 output writes a float16 value
    # that a Cast turns back into the output.
    for k, vi in enumerate(x for x in g.output if x.type.tensor_type.elem_type == TensorProto.FLOAT):
        name = "graph_output_cast_%d" % k
        for n in g.node:
            for j, x in enumerate(n.output):
                if x == vi.name:
                    n.output[j] = name
            for j, x in enumerate(n.input):
                if x == vi.name:
                    n.input[j] = name
        casts.append((1, helper.make_node("Cast", [name], [vi.name], name=name, to=TensorProto.FLOAT)))
    nodes = [n for first, n in casts if first == 0] + list(g.node) + [n for first, n in casts if first == 1]
    del g.node[:]
    g.node.extend(nodes)
    model.doc_string = (model.doc_string + "\n" if model.doc_string else "") + \
        "float16 copy by scripts/make_float16.py (initializers float16, Casts at the graph's edges)"
    return model


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: make_float16.py SRC_DIR DST_DIR")
    src, dst = sys.argv[1], sys.argv[2]
    m = convert(onnx.load(os.path.join(src, "model.onnx")))
    onnx.checker.check_model(m)
    os.makedirs(dst, exist_ok=True)
    onnx.save(m, os.path.join(dst, "model.onnx"))
    for d in sorted(os.listdir(src)):
        if d.startswith("test_data_set_"):
            shutil.rmtree(os.path.join(dst, d), ignore_errors=True)
            shutil.copytree(os.path.join(src, d), os.path.join(dst, d))
    print("wrote", os.path.join(dst, "model.onnx"), os.path.getsize(os.path.join(dst, "model.onnx")), "bytes")


if __name__ == "__main__":
    main()
