#!/usr/bin/python3
"""Builds the model zoo: the architectures PyTorch users export, with seeded
random weights, exported to ONNX at several opsets with PyTorch's outputs.

    OMP_NUM_THREADS=2 /usr/bin/python3 scripts/make_zoo.py [--models a,b] [--opsets 11,13,17] [--force]

writes, under --out (default testdata/zoo, not committed), one folder per model
and opset in the ONNX test layout, named <model>-op<opset>:

    model.onnx                    torch.onnx.export with a symbolic batch axis "N"
    test_data_set_0/input_i.pb    the inputs, batch 2 (onnx.numpy_helper)
    test_data_set_0/output_i.pb   PyTorch's outputs for them
    test_data_set_1/...           the same at batch 1
    info.json                     how the folder was made: seed, torch version, op types

Every model is built after torch.manual_seed(--seed), so --models resnet18
rebuilds the same weights as a full run. BatchNorm layers get real statistics
before export (momentum None, a few forward passes in train mode on random
input, then eval), so the outputs are O(1); the script stops if an output is
not. A folder that exists is kept unless --force. Each export is checked by
onnx.checker.check_model. Run the zoo with `go test ./verify -run Zoo -v`.
"""

import argparse
import json
import math
import os
import shutil
import sys
import time
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import numpy_helper

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
warnings.filterwarnings("ignore")  # the exporter's tracer warnings, one screen per model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCHES = (2, 1)  # batch of test_data_set_0, test_data_set_1


def log(*a):
    print(*a, flush=True)


# ---- models that torchvision does not have ----

class Encoder(nn.Module):
    """A BERT-style encoder written out the way Hugging Face models are, so
    the export has Gather (embeddings), Split (fused qkv), Reshape, Transpose,
    MatMul, Softmax, Erf (exact GELU) and LayerNorm. Inputs: input_ids int64
    [N,S], attention_mask int64 [N,S] (1 = token, 0 = padding)."""

    def __init__(self, vocab=100, seq=16, hidden=64, heads=4, ffn=128, layers=2, classes=3):
        super().__init__()
        self.heads = heads
        self.tok = nn.Embedding(vocab, hidden)
        self.pos = nn.Embedding(seq, hidden)
        self.ln0 = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(EncoderLayer(hidden, heads, ffn, use_chunk=(i % 2 == 1)) for i in range(layers))
        self.pool = nn.Linear(hidden, hidden)
        self.cls = nn.Linear(hidden, classes)

    def forward(self, ids, mask):                               # ids, mask: N x S
        pos = torch.arange(ids.shape[1], device=ids.device)    # S
        x = self.ln0(self.tok(ids) + self.pos(pos))            # N x S x H
        bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * -10000.0  # N x 1 x 1 x S
        for layer in self.layers:
            x = layer(x, bias)
        pooled = torch.tanh(self.pool(x[:, 0]))                # N x H
        return x, self.cls(pooled)                             # N x S x H, N x classes


class EncoderLayer(nn.Module):
    def __init__(self, hidden, heads, ffn, use_chunk):
        super().__init__()
        self.heads, self.use_chunk = heads, use_chunk
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
        self.fc1 = nn.Linear(hidden, ffn)
        self.fc2 = nn.Linear(ffn, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-12)
        self.act = nn.GELU()  # exact: 0.5 x (1 + erf(x / sqrt 2))

    def split_heads(self, t):                                  # N x S x H -> N x h x S x H/h
        n, s, h = t.shape
        return t.reshape(n, s, self.heads, h // self.heads).transpose(1, 2)

    def forward(self, x, bias):                                # x: N x S x H
        qkv = self.qkv(x)                                      # N x S x 3H
        if self.use_chunk:
            q, k, v = qkv.chunk(3, dim=-1)
        else:
            q, k, v = torch.split(qkv, x.shape[-1], dim=-1)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1]) + bias
        ctx = torch.matmul(scores.softmax(dim=-1), v)          # N x h x S x H/h
        ctx = ctx.transpose(1, 2).reshape(x.shape)             # N x S x H
        x = self.ln1(x + self.out(ctx))
        return self.ln2(x + self.fc2(self.act(self.fc1(x))))


class RowLSTM(nn.Module):
    """A 2-layer LSTM reading a 28x28 image row by row (batch_first), a Linear
    head on the last step. Input [N,28,28]."""

    def __init__(self, hidden=48):
        super().__init__()
        self.rnn = nn.LSTM(28, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):                                      # N x 28 x 28
        y, _ = self.rnn(x)                                     # N x 28 x hidden
        return self.head(y[:, -1])                             # N x 10


class RowGRU(nn.Module):
    """A bidirectional GRU reading a 28x28 image row by row (batch_first) from
    a given initial state, a Linear head on both directions' final states.
    Inputs [N,28,28] and h0 [2,N,hidden]."""

    def __init__(self, hidden=32):
        super().__init__()
        self.rnn = nn.GRU(28, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 10)

    def forward(self, x, h0):                                  # N x 28 x 28, 2 x N x hidden
        _, hn = self.rnn(x, h0)                                # 2 x N x hidden
        return self.head(torch.cat([hn[0], hn[1]], dim=1))     # N x 10


def cbr(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class UNet(nn.Module):
    """A small encoder-decoder over [N,1,28,28]: Conv+BatchNorm+ReLU down,
    ConvTranspose2d up (one with output_padding), nearest and bilinear
    upsampling (align_corners False and True), concatenated skips, Sigmoid."""

    def __init__(self):
        super().__init__()
        self.enc1 = cbr(1, 8)                                   # 28
        self.enc2 = cbr(8, 16, 2)                               # 14
        self.enc3 = cbr(16, 32, 2)                              # 7
        self.up1 = nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1)  # 7 -> 14
        self.near = nn.Upsample(scale_factor=2, mode="nearest")                          # 7 -> 14
        self.dec1 = cbr(16 + 16 + 32, 16)
        self.up2 = nn.ConvTranspose2d(16, 8, 2, stride=2)                                # 14 -> 28
        self.bil = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)     # 14 -> 28
        self.bil_ac = nn.Upsample(scale_factor=4, mode="bilinear", align_corners=True)   # 7 -> 28
        self.dec2 = cbr(8 + 8 + 16 + 32, 8)
        self.head = nn.Conv2d(8, 1, 1)

    def forward(self, x):                                      # N x 1 x 28 x 28
        e1 = self.enc1(x)                                      # N x 8 x 28 x 28
        e2 = self.enc2(e1)                                     # N x 16 x 14 x 14
        e3 = self.enc3(e2)                                     # N x 32 x 7 x 7
        d1 = self.dec1(torch.cat([self.up1(e3), e2, self.near(e3)], 1))              # N x 16 x 14 x 14
        d2 = self.dec2(torch.cat([self.up2(d1), e1, self.bil(d1), self.bil_ac(e3)], 1))  # N x 8 x 28 x 28
        return torch.sigmoid(self.head(d2))                    # N x 1 x 28 x 28


# ---- the zoo ----

def image(*shape):
    """Inputs of shape [n, *shape], standard normal."""
    return lambda g, n: (torch.randn(n, *shape, generator=g),)


def tokens(g, n, seq=16, vocab=100):
    ids = torch.randint(0, vocab, (n, seq), generator=g)
    mask = torch.ones(n, seq, dtype=torch.int64)
    mask[n // 2:, seq * 3 // 4:] = 0  # the second half of the batch ends in padding
    return ids, mask


def tv(name, linear_default_init=False, **kw):
    """A torchvision model with random weights. linear_default_init gives its
    Linear layers PyTorch's default init instead of the model's N(0, 0.01),
    which leaves logits around 0.01."""
    def build():
        m = getattr(torchvision.models, name)(weights=None, **kw)
        if linear_default_init:
            for layer in m.modules():
                if isinstance(layer, nn.Linear):
                    layer.reset_parameters()
        return m
    return build


IMAGENET = image(3, 224, 224)
ROWS = image(28, 28)

# name: (constructor, input names, output names, sample(generator, batch) -> inputs,
#        {input or output name: batch axis other than 0})
MODELS = {
    "resnet18": (tv("resnet18"), ["input"], ["logits"], IMAGENET, None),
    "resnet50": (tv("resnet50"), ["input"], ["logits"], IMAGENET, None),
    "mobilenet_v2": (tv("mobilenet_v2"), ["input"], ["logits"], IMAGENET, None),
    "efficientnet_b0": (tv("efficientnet_b0"), ["input"], ["logits"], IMAGENET, None),
    "squeezenet1_1": (tv("squeezenet1_1"), ["input"], ["logits"], IMAGENET, None),
    "shufflenet_v2_x0_5": (tv("shufflenet_v2_x0_5"), ["input"], ["logits"], IMAGENET, None),
    "mnasnet0_5": (tv("mnasnet0_5"), ["input"], ["logits"], IMAGENET, None),
    "regnet_x_400mf": (tv("regnet_x_400mf"), ["input"], ["logits"], IMAGENET, None),
    "googlenet": (tv("googlenet", aux_logits=False, init_weights=True), ["input"], ["logits"], IMAGENET, None),
    "densenet121": (tv("densenet121"), ["input"], ["logits"], IMAGENET, None),
    "mobilenet_v3_small": (tv("mobilenet_v3_small", linear_default_init=True), ["input"], ["logits"], IMAGENET, None),
    "convnext_tiny": (tv("convnext_tiny"), ["input"], ["logits"], IMAGENET, None),
    "bert_tiny": (Encoder, ["input_ids", "attention_mask"], ["last_hidden_state", "logits"], tokens, None),
    "lstm_rows": (RowLSTM, ["input"], ["logits"], ROWS, None),
    "gru_rows": (RowGRU, ["input", "h0"], ["logits"],
                 lambda g, n: (torch.rand(n, 28, 28, generator=g), torch.randn(2, n, 32, generator=g)),
                 {"h0": 1}),
    "unet_small": (UNet, ["input"], ["output"], image(1, 28, 28), None),
}


def calibrate(model, sample, g, passes=3, batch=4):
    """Gives every BatchNorm the average of its batch statistics over a few
    train-mode passes on fresh random inputs from sample, then evals."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return model.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(passes):
            model(*sample(g, batch))
    return model.eval()


def outputs(model, xs):
    with torch.no_grad():
        y = model(*xs)
    return list(y) if isinstance(y, (tuple, list)) else [y]


def check_scale(name, ys):
    for i, y in enumerate(ys):
        a = y.float()
        if not torch.isfinite(a).all():
            sys.exit(f"{name}: output {i} is not finite")
        s = a.std().item()
        if not 1e-2 < s < 1e3:
            sys.exit(f"{name}: output {i} has std {s:.3g}, want O(1): BatchNorm statistics or init are off")


def write_pb(path, array, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(array), name=name).SerializeToString())


def export(name, model, spec, sets, opset, folder, seed):
    """Exports model at opset into folder (through folder.tmp, renamed when
    complete) with sets, a list of (inputs, PyTorch's outputs), as
    test_data_set_0, 1, ..."""
    _, in_names, out_names, _, axes = spec
    axes = axes or {}
    dynamic = {n: {axes.get(n, 0): "N"} for n in in_names + out_names}
    tmp = folder + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)  # left by an interrupted run
    os.makedirs(tmp)
    path = os.path.join(tmp, "model.onnx")
    torch.onnx.export(model, tuple(sets[0][0]), path, opset_version=opset, input_names=in_names,
                      output_names=out_names, dynamic_axes=dynamic)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    for k, (xs, ys) in enumerate(sets):
        d = os.path.join(tmp, f"test_data_set_{k}")
        os.makedirs(d, exist_ok=True)
        for i, (n, x) in enumerate(zip(in_names, xs)):
            write_pb(os.path.join(d, f"input_{i}.pb"), x.numpy(), n)
        for i, (n, y) in enumerate(zip(out_names, ys)):
            write_pb(os.path.join(d, f"output_{i}.pb"), y.numpy(), n)
    ops = sorted({n.op_type for n in m.graph.node})
    info = {"model": name, "opset": opset, "seed": seed, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "onnx": onnx.__version__,
            "batches": BATCHES, "inputs": in_names, "outputs": out_names, "ops": ops}
    with open(os.path.join(tmp, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    shutil.rmtree(folder, ignore_errors=True)  # --force
    os.rename(tmp, folder)
    return m, ops


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(REPO, "testdata", "zoo"))
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of: " + ", ".join(MODELS))
    p.add_argument("--opsets", default="11,13,17")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--force", action="store_true", help="rebuild folders that exist")
    args = p.parse_args()
    names = [n for n in args.models.split(",") if n]
    for n in names:
        if n not in MODELS:
            p.error(f"unknown model {n!r}; known: {', '.join(MODELS)}")
    try:
        opsets = [int(o) for o in args.opsets.split(",") if o]
    except ValueError:
        p.error(f"--opsets {args.opsets!r}: want comma-separated integers")
    torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", "2"))))
    start = time.time()
    for name in names:
        todo = [o for o in opsets if args.force or not os.path.exists(os.path.join(args.out, f"{name}-op{o}"))]
        if not todo:
            log(f"{name}: all opsets present, skipped (--force rebuilds)")
            continue
        t0 = time.time()
        spec = MODELS[name]
        torch.manual_seed(args.seed)
        model = spec[0]()
        g = torch.Generator().manual_seed(args.seed)
        calibrate(model, spec[3], g)
        gin = torch.Generator().manual_seed(args.seed + 1)
        sets = []
        for b in BATCHES:
            xs = spec[3](gin, b)
            sets.append((xs, outputs(model, xs)))
        ys = sets[0][1]
        check_scale(name, ys)
        for o in todo:
            t1 = time.time()
            folder = os.path.join(args.out, f"{name}-op{o}")
            m, ops = export(name, model, spec, sets, o, folder, args.seed)
            mb = os.path.getsize(os.path.join(folder, "model.onnx")) / 1e6
            log(f"{name}-op{o}: {len(m.graph.node)} nodes, {mb:.1f} MB, output std "
                f"{', '.join(f'{y.float().std().item():.3g}' for y in ys)}, {time.time() - t1:.1f}s "
                f"(model {time.time() - t0:.1f}s); ops {' '.join(ops)}")
    log(f"done in {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
