#!/usr/bin/python3
"""Exports a small PyTorch model built from index and layout ops (split,
chunk, topk, argmax, gather, tril, pixel_shuffle, einsum, scatter_add,
repeat, nonzero) at several opsets, with PyTorch's outputs, in the ONNX test
layout:

    OMP_NUM_THREADS=2 /usr/bin/python3 scripts/make_index_exports.py

writes testdata/pytorch-ops/index_op<N>/{model.onnx,test_data_set_0/*.pb}.
"""

import os

import onnx
import torch
from onnx import numpy_helper


class IndexOps(torch.nn.Module):
    def forward(self, x):  # x: [2, 8, 4, 4]
        a, b = torch.split(x, [3, 5], dim=1)  # Split
        c = torch.chunk(x, 3, dim=1)  # Split into 3, 3 and 2 channels
        v, i = torch.topk(a.flatten(1), 4, dim=1)  # TopK
        am = torch.argmax(b, dim=1)  # ArgMax
        g = torch.gather(b, 1, am.unsqueeze(1))  # GatherElements
        t = torch.tril(c[0].sum(1), -1)  # Trilu
        ps = torch.nn.functional.pixel_shuffle(c[1][:, :2].repeat(1, 2, 1, 1), 2)  # Tile, DepthToSpace CRD
        e = torch.einsum("bchw,bdhw->bcd", a, b)  # Einsum
        s = torch.zeros(2, 48).scatter_add(1, i, v)  # ScatterElements
        r = c[2].repeat(1, 2, 1, 1)  # Tile
        nz = torch.nonzero(am > 2)  # NonZero
        return v, i, am, g, t, ps, e, s, r, nz


def main():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 4, 4)
    model = IndexOps().eval()
    with torch.no_grad():
        outs = model(x)
    for opset in (14, 16, 17):
        d = os.path.join("testdata", "pytorch-ops", f"index_op{opset}")
        os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
        names = [f"out{k}" for k in range(len(outs))]
        torch.onnx.export(model, (x,), os.path.join(d, "model.onnx"), opset_version=opset,
                          input_names=["input"], output_names=names)
        ds = os.path.join(d, "test_data_set_0")
        with open(os.path.join(ds, "input_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(x.numpy(), "input").SerializeToString())
        for k, (n, o) in enumerate(zip(names, outs)):
            with open(os.path.join(ds, f"output_{k}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(o.numpy(), n).SerializeToString())
        m = onnx.load(os.path.join(d, "model.onnx"))
        print(d, sorted({n.op_type for n in m.graph.node}))


if __name__ == "__main__":
    main()
