#!/usr/bin/python3
"""Writes single-node Einsum models (opset 12) for 25 equations (matmul,
transposes, diagonals, traces, ellipsis with a broadcast dimension,
implicit outputs, three operands, uppercase subscripts) in float32 and
int64, with torch.einsum's outputs, in the ONNX test layout:

    OMP_NUM_THREADS=2 /usr/bin/python3 scripts/make_einsum_cases.py

writes testdata/pytorch-ops/einsum/c<NN>_<dtype>/{model.onnx,test_data_set_0/*.pb}.
"""
import torch, random, os, onnx, numpy as np
from onnx import helper, TensorProto, numpy_helper
random.seed(1); torch.manual_seed(1)
letters = "abcdefg"
cases = ["ij,jk", "ij,jk->ki", "ii->i", "ii", "bij,bjk->bik", "i,i", "i,j", "ij->", "...ij->...ji", "...ii->...i",
         "ab,bc,cd->ad", "abc,cd,de", "iij->j", "ij,ij->ij", "bhqd,bhkd->bhqk", "b...d,b...d->b...", "i...,...i", "ijk,ikj->i",
         "aab,bc->ac", "a,b,c->abc", "...,...->...", "ba", "Ab,bc", "ij,kl->", "iji->j"]
dims = {}
def shape_for(term, ell):
    s = []
    for ch in term.replace("...", "."):
        if ch == ".":
            s += ell
        else:
            s.append(dims.setdefault(ch, random.randint(1, 4)))
    return s
for n, eq in enumerate(cases):
    dims.clear()
    lhs = eq.split("->")[0]
    ell = [random.randint(1, 3) for _ in range(random.randint(0, 2))]
    terms = lhs.split(",")
    ins = []
    for k, t in enumerate(terms):
        e = list(ell)
        if "..." in t and k == 1 and e:
            e = [1] + e[1:]  # a broadcast dimension
        ins.append(torch.randn(*shape_for(t, e)))
    for dt in ("float32", "int64"):
        xs = [x if dt == "float32" else (x * 3).round().to(torch.int64) for x in ins]
        y = torch.einsum(eq, *xs)
        tp = TensorProto.FLOAT if dt == "float32" else TensorProto.INT64
        node = helper.make_node("Einsum", [f"x{k}" for k in range(len(xs))], ["y"], equation=eq)
        g = helper.make_graph([node], "g", [helper.make_tensor_value_info(f"x{k}", tp, list(x.shape)) for k, x in enumerate(xs)],
                              [helper.make_tensor_value_info("y", tp, None)])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 12)]); m.ir_version = 7
        d = f"testdata/pytorch-ops/einsum/c{n:02d}_{dt}"; os.makedirs(d + "/test_data_set_0", exist_ok=True)
        onnx.save(m, d + "/model.onnx")
        for k, x in enumerate(xs):
            open(f"{d}/test_data_set_0/input_{k}.pb", "wb").write(numpy_helper.from_array(x.numpy(), f"x{k}").SerializeToString())
        open(f"{d}/test_data_set_0/output_0.pb", "wb").write(numpy_helper.from_array(y.numpy(), "y").SerializeToString())
        print(d, eq, [list(x.shape) for x in xs], list(y.shape))
