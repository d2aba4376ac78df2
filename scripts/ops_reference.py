"""Writes small ONNX test folders (model.onnx + test_data_set_0) whose expected
outputs come from PyTorch, for infer's LayerNormalization, HardSwish and Gelu:

  layernorm_mlp/   a PyTorch export (opset 17): Linear, LayerNorm, HardSwish, Linear
  zoo_opset12/, zoo_opset17/  a PyTorch export of a small convolutional net with
                   the activations, norms and reductions of this family, as
                   torch.onnx writes them at opsets 12 and 17
  layernorm_stats/ one LayerNormalization node over the last two axes with its
                   Mean and InvStdDev outputs, from torch.native_layer_norm
  gelu_none/, gelu_tanh/  one Gelu node (opset 20), from F.gelu
  the other folders: one node of an activation, math, reduction or
                   normalization op on edge-case inputs, with PyTorch's result

Run with Debian's interpreter:
  OMP_NUM_THREADS=2 /usr/bin/python3 scripts/ops_reference.py [--out infer/testdata/torch]
"""

import argparse
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper

from torchref import REPO, write_pb


class LayerNormMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 16)
        self.norm = nn.LayerNorm(16)
        self.act = nn.Hardswish()
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):                    # x: N x 12
        x = self.norm(self.fc1(x))           # N x 16
        return self.fc2(self.act(x))         # N x 4


class Zoo(nn.Module):
    """A small net whose export uses InstanceNormalization (also for
    GroupNorm), PRelu, Elu, Selu, Celu, Softplus, HardSigmoid, LeakyRelu,
    the Reduce ops, CumSum, Sign, Floor, Round and Reciprocal."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.gn = nn.GroupNorm(4, 8)
        self.inorm = nn.InstanceNorm2d(8, affine=True)
        self.prelu = nn.PReLU(8)
        self.fc = nn.Linear(8, 6)

    def forward(self, x):                                # x: N x 3 x 6 x 6
        x = self.prelu(self.gn(self.conv(x)))            # N x 8 x 6 x 6
        x = F.elu(self.inorm(x)) + F.selu(x) + F.celu(x, 0.5)
        x = F.softplus(x) * F.hardsigmoid(x) - F.leaky_relu(x, 0.2)
        a = torch.amax(x, (2, 3)) + torch.amin(x, 3).sum(2)          # N x 8
        b = torch.logsumexp(x, 2).mean(2) + x.norm(2, (2, 3)) + x.abs().sum((2, 3)) / 36
        y = self.fc(a + b + torch.prod(torch.sigmoid(x), 3).sum(2))  # N x 6
        y = torch.cumsum(y, 1) + torch.sign(y) + torch.floor(y) * 0.25 + torch.round(y * 3)
        return torch.reciprocal(y.abs() + 1)


def case(out, name, model_bytes, inputs, outputs):
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(model_bytes)
    for i, (n, a) in enumerate(inputs):
        write_pb(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), a, n)
    for i, (n, a) in enumerate(outputs):
        write_pb(os.path.join(d, "test_data_set_0", f"output_{i}.pb"), a, n)


def node_model(op, opset, inputs, outputs, **attrs):
    """A one-node model: inputs and outputs are (name, array) pairs."""
    node = helper.make_node(op, [n for n, _ in inputs], [n for n, _ in outputs], **attrs)
    vi = lambda n, a: helper.make_tensor_value_info(n, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype], a.shape)
    g = helper.make_graph([node], op.lower(), [vi(n, a) for n, a in inputs], [vi(n, a) for n, a in outputs])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m.SerializeToString()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "infer", "testdata", "torch"))
    args = ap.parse_args()
    torch.manual_seed(7)

    # A PyTorch export: LayerNorm becomes LayerNormalization at opset 17,
    # Hardswish becomes HardSwish.
    m = LayerNormMLP().eval()
    with torch.no_grad():
        m.norm.weight.uniform_(0.5, 1.5)
        m.norm.bias.uniform_(-0.5, 0.5)
    x = torch.randn(5, 12) * 3
    path = os.path.join(args.out, "layernorm_mlp.onnx")
    os.makedirs(args.out, exist_ok=True)
    torch.onnx.export(m, x, path, opset_version=17, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    model = onnx.load(path)
    os.remove(path)
    ops = {n.op_type for n in model.graph.node}
    assert {"LayerNormalization", "HardSwish"} <= ops, ops
    with torch.no_grad():
        y = m(x)
    case(args.out, "layernorm_mlp", model.SerializeToString(), [("x", x.numpy())], [("y", y.numpy())])


    # LayerNormalization over the last two axes (axis -2) with Mean and
    # InvStdDev, from PyTorch's native_layer_norm (which returns both).
    x = torch.randn(2, 3, 4, 5) * 2 + 1
    w, b = torch.rand(4, 5) + 0.5, torch.randn(4, 5)
    y, mean, rstd = torch.native_layer_norm(x, [4, 5], w, b, 1e-3)
    ins = [("X", x.numpy()), ("Scale", w.numpy()), ("B", b.numpy())]
    outs = [("Y", y.numpy()), ("Mean", mean.numpy()), ("InvStdDev", rstd.numpy())]
    case(args.out, "layernorm_stats", node_model("LayerNormalization", 17, ins, outs, axis=-2, epsilon=1e-3), ins, outs)

    # Gelu (opset 20) both ways; torch 1.13 exports Gelu as Erf arithmetic,
    # so the node is written by hand and the outputs come from F.gelu.
    x = torch.linspace(-12, 12, 97).reshape(97, 1) * torch.tensor([1.0, 0.1, 0.01])
    for approx in ["none", "tanh"]:
        y = F.gelu(x, approximate=approx)
        ins, outs = [("x", x.numpy())], [("y", y.numpy())]
        case(args.out, "gelu_" + approx, node_model("Gelu", 20, ins, outs, approximate=approx), ins, outs)

    # One node each, on inputs that reach the ops' edges: large |x| (exp
    # overflow), zeros, ties, negative integers.
    t = lambda *v, dt=torch.float32: torch.tensor(v, dtype=dt)
    wide = torch.cat([torch.linspace(-30, 30, 61), t(-1e-4, 1e-4, -100, 100, 0.5, -0.5)])
    one = lambda name, op, opset, ins, y, **attrs: case(args.out, name, node_model(
        op, opset, [(n, a.numpy()) for n, a in ins], [("y", y.numpy())], **attrs),
        [(n, a.numpy()) for n, a in ins], [("y", y.numpy())])
    for dt, sfx in [(torch.float32, ""), (torch.float64, "_f64")]:
        x = wide.to(dt)
        one("elu" + sfx, "Elu", 6, [("x", x)], F.elu(x, 0.7), alpha=0.7)
        one("selu" + sfx, "Selu", 6, [("x", x)], F.selu(x))
        one("celu" + sfx, "Celu", 12, [("x", x)], F.celu(x, 1.5), alpha=1.5)
        one("mish" + sfx, "Mish", 18, [("x", x)], F.mish(x))
        one("softplus" + sfx, "Softplus", 1, [("x", x)], F.softplus(x))
        one("softsign" + sfx, "Softsign", 1, [("x", x)], F.softsign(x))
        one("hardsigmoid" + sfx, "HardSigmoid", 6, [("x", x)], F.hardsigmoid(x), alpha=1 / 6)
        one("hardswish" + sfx, "HardSwish", 14, [("x", x)], F.hardswish(x))
        one("softshrink" + sfx, "Shrink", 9, [("x", x)], F.softshrink(x, 1.5), lambd=1.5, bias=1.5)
        one("gelu_tanh_wide" + sfx, "Gelu", 20, [("x", x)], F.gelu(x, approximate="tanh"), approximate="tanh")
    x = torch.randn(2, 3, 4)
    one("prelu_bcast", "PRelu", 16, [("x", x), ("slope", t(0.1, -2, 3).reshape(3, 1))],
        F.prelu(x, t(0.1, -2, 3)))
    # Math and integer ops.
    one("round_half_even", "Round", 11, [("x", t(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999997, -0.0))],
        torch.round(t(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999997, -0.0)))
    a, b = t(-7, 7, -7, 7, 5, -5, dt=torch.int32), t(3, -3, -3, 3, 5, 2, dt=torch.int32)
    one("mod_int", "Mod", 13, [("a", a), ("b", b)], torch.remainder(a, b))
    one("mod_int_fmod", "Mod", 13, [("a", a), ("b", b)], torch.fmod(a, b), fmod=1)
    fa, fb = t(-7.5, 7.5, -0.0, 5.25), t(2, -2, 3, 0.5)
    one("mod_float_fmod", "Mod", 13, [("a", fa), ("b", fb)], torch.fmod(fa, fb), fmod=1)
    # Reductions (axes as an input from opset 18).
    x = torch.randn(3, 4, 5) * 4
    ax = lambda *v: ("axes", t(*v, dt=torch.int64))
    one("reduce_logsumexp_large", "ReduceLogSumExp", 18, [("x", x * 100), ax(1)],
        torch.logsumexp(x * 100, 1, keepdim=True))
    one("reduce_max_axes02", "ReduceMax", 18, [("x", x), ax(0, -1)], torch.amax(x, (0, 2)), keepdims=0)
    one("reduce_min_keep", "ReduceMin", 13, [("x", x)], torch.amin(x, 1, keepdim=True), axes=[1])
    one("reduce_prod_int", "ReduceProd", 18, [("x", (x.abs() + 1).to(torch.int64)), ax(2)],
        torch.prod((x.abs() + 1).to(torch.int64), 2, keepdim=True))
    one("reduce_l1", "ReduceL1", 18, [("x", x), ax(2)], torch.norm(x, 1, 2, keepdim=True))
    one("reduce_l2_f64", "ReduceL2", 11, [("x", x.double())], torch.norm(x.double(), 2, (0, 1)), axes=[0, 1], keepdims=0)
    one("reduce_sumsquare", "ReduceSumSquare", 18, [("x", x), ax(-2)], (x * x).sum(-2, keepdim=True))
    one("reduce_logsum", "ReduceLogSum", 18, [("x", x.abs()), ax(0)], torch.log(x.abs().sum(0, keepdim=True)))
    bx = x > 0
    one("reduce_max_bool", "ReduceMax", 20, [("x", bx), ax(1)], bx.any(1, keepdim=True))
    one("reduce_min_bool", "ReduceMin", 20, [("x", bx), ax(1)], bx.all(1, keepdim=True))
    # CumSum, exclusive and reverse: the reverse exclusive sum is the flipped
    # sum of the flipped input, shifted by one.
    x = torch.arange(-6, 6, dtype=torch.int64).reshape(3, 4)
    r = x.flip(1).cumsum(1).flip(1)
    one("cumsum_reverse_exclusive", "CumSum", 14, [("x", x), ("axis", t(1, dt=torch.int32))], r - x,
        exclusive=1, reverse=1)
    # Normalizations.
    x = torch.randn(2, 6, 3, 4) * 3 + 2
    sc, bi = torch.rand(6) + 0.5, torch.randn(6)
    one("instancenorm", "InstanceNormalization", 6, [("x", x), ("scale", sc), ("B", bi)],
        F.instance_norm(x, weight=sc, bias=bi, eps=1e-4), epsilon=1e-4)
    one("groupnorm_v21", "GroupNormalization", 21, [("x", x), ("scale", sc), ("bias", bi)],
        F.group_norm(x, 3, sc, bi, 1e-4), num_groups=3, epsilon=1e-4)
    gs, gb = torch.rand(3) + 0.5, torch.randn(3)
    one("groupnorm_v18", "GroupNormalization", 18, [("x", x), ("scale", gs), ("bias", gb)],
        F.group_norm(x, 3, gs.repeat_interleave(2), gb.repeat_interleave(2), 1e-4), num_groups=3, epsilon=1e-4)
    xd = x.double()
    w, b = torch.rand(3, 4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    one("layernorm_f64", "LayerNormalization", 17, [("x", xd), ("scale", w), ("B", b)],
        F.layer_norm(xd, [3, 4], w, b.expand(3, 4)), axis=2)
    # Scale and B that broadcast to X other than as a row (one scale; a bias
    # per row of the first axis).
    x = torch.randn(3, 4, 5)
    sc, bi = t(2.0), torch.randn(3, 1, 1)
    one("layernorm_bcast", "LayerNormalization", 17, [("x", x), ("scale", sc), ("B", bi)],
        F.layer_norm(x, [5]) * sc + bi)

    # Last, so that adding it left the cases above as they were.
    zoo = Zoo()
    with torch.no_grad():
        zoo.inorm.weight.uniform_(0.5, 1.5)
        zoo.inorm.bias.uniform_(-0.5, 0.5)
    zoo.eval()
    x = torch.randn(2, 3, 6, 6)
    with torch.no_grad():
        y = zoo(x)
    for opset in [12, 17]:
        path = os.path.join(args.out, "zoo.onnx")
        torch.onnx.export(zoo, x, path, opset_version=opset, input_names=["x"], output_names=["y"])
        model = onnx.load(path)
        os.remove(path)
        print(opset, sorted({n.op_type for n in model.graph.node}))
        case(args.out, "zoo_opset%d" % opset, model.SerializeToString(), [("x", x.numpy())], [("y", y.numpy())])


if __name__ == "__main__":
    main()
