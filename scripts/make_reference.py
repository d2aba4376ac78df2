#!/usr/bin/python3
"""Trains the MNIST tutorial's models in PyTorch, exports them to ONNX and
writes reference outputs in the ONNX test layout.

    OMP_NUM_THREADS=2 /usr/bin/python3 scripts/make_reference.py

writes, for each model in --models, under --out (default testdata/pytorch):

    <model>/model.onnx                      torch.onnx.export, input "input" N x 1 x 28 x 28,
                                            output "logits" N x 10
    <model>/test_data_set_0/input_0.pb      the first MNIST test image, 1 x 1 x 28 x 28
    <model>/test_data_set_0/output_0.pb     PyTorch's logits for it, 1 x 10
    <model>/test_data_set_1/{input_0,output_0}.pb   the first --batch test images (default 64)
    <model>/info.json                       seed, epochs, opset, torch version, test accuracy
    lenet5/predictions.pb                   int64 [10000]: PyTorch's argmax for every test image
    README.md                               regenerated from the info.json files

Each model is seeded on its own (torch.manual_seed(--seed) before it is built,
and a generator seeded the same way shuffles the training set each epoch), so
--models lenet5 rebuilds the same LeNet5 as a run over all three models.

A LeNet5 variant for another opset or batch size, to check a runtime on an
export made apart from the committed one:

    OMP_NUM_THREADS=2 /usr/bin/python3 scripts/make_reference.py \\
        --models lenet5 --opset 11 --batch 32 --out /tmp/lenet5-op11

--static-batch exports with a fixed batch dimension of --batch instead of the
symbolic N (both test data sets then hold --batch images). --epochs 0 exports
the initial, untrained weights (fast; the outputs are still exact references).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torchref  # noqa: E402

RECIPES = {
    # model: (optimizer, learning rate)
    "mlp": ("sgd", 0.01),
    "cnn": ("adam", 1e-3),
    "lenet5": ("adam", 1e-3),
    # onnxkit's best recipe (train/best.go): peak lr of a per-batch OneCycleLR with
    # PyTorch's defaults, SGD momentum 0.9 (cycled 0.95-0.85), weight decay 5e-4,
    # label smoothing 0.1, random shifts of up to 2 pixels, batches of 128, 6 epochs.
    "best": ("sgd", 0.1),
}
BATCH = {"best": 128}      # others: 100
EPOCHS = {"best": 6}       # others: --epochs (default 2)


def shift(xb, k, gen):
    """Moves each image of xb [B,1,H,W] by up to k pixels in each direction,
    filling with 0 (onnxkit's Augment{Shift: k}; its draws come from another
    generator)."""
    b, _, h, w = xb.shape
    padded = nn.functional.pad(xb, (k, k, k, k))
    d = torch.randint(0, 2 * k + 1, (b, 2), generator=gen)
    out = torch.empty_like(xb)
    for i in range(b):
        dy, dx = int(d[i, 0]), int(d[i, 1])
        out[i] = padded[i, :, dy:dy + h, dx:dx + w]
    return out


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def train(name, model, x, y, epochs, batch, seed, test=None):
    opt_name, lr = RECIPES[name]
    best = name == "best"
    if best:
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    elif opt_name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1 if best else 0.0)
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = xt.shape[0]
    steps = (n + batch - 1) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps) if best else None
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        t0, total = time.time(), 0.0
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb = shift(xt[idx], 2, gen) if best else xt[idx]
            opt.zero_grad()
            loss = loss_fn(model(xb), yt[idx])
            loss.backward()
            opt.step()
            if sched:
                sched.step()
            total += loss.item() * idx.numel()
        msg = f"{name}: epoch {epoch + 1}/{epochs}: mean loss {total / n:.4f} ({time.time() - t0:.1f}s)"
        if best and test is not None:  # onnxkit's train prints the test accuracy of every epoch
            model.eval()
            acc = (predict(model, test[0]).argmax(axis=1) == test[1]).mean()
            msg += f", test accuracy {acc * 100:.2f}%"
        log(msg)
    model.eval()


@torch.no_grad()
def predict(model, x, batch=1000):
    out = [model(torch.from_numpy(x[i:i + batch])) for i in range(0, x.shape[0], batch)]
    return torch.cat(out).numpy()


def export(model, path, sample, opset, static_batch):
    dynamic = None if static_batch else {"input": {0: "N"}, "logits": {0: "N"}}
    torch.onnx.export(model, torch.from_numpy(sample), path,
                      opset_version=opset, input_names=["input"],
                      output_names=["logits"], dynamic_axes=dynamic)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def torch_package():
    """Debian's version of python3-torch (torch.__version__ reads 1.13.0a0 there), or ""."""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "python3-torch"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def write_case(folder, x, logits):
    torchref.write_pb(os.path.join(folder, "input_0.pb"), x, "input")
    torchref.write_pb(os.path.join(folder, "output_0.pb"), logits, "logits")


def make(name, args, train_x, train_y, test_x, test_y):
    torch.manual_seed(args.seed)
    model = torchref.MODELS[name]()
    epochs = args.epochs if args.epochs is not None else EPOCHS.get(name, 2)
    t0 = time.time()
    train(name, model, train_x, train_y, epochs, BATCH.get(name, 100), args.seed, (test_x, test_y))
    train_s = time.time() - t0

    logits = predict(model, test_x)
    pred = logits.argmax(axis=1).astype(np.int64)
    acc = float((pred == test_y).mean())
    log(f"{name}: test accuracy {acc * 100:.2f}% on {len(test_y)} images")

    d = os.path.join(args.out, name)
    os.makedirs(d, exist_ok=True)
    b = args.batch
    sets = [test_x[b:2 * b], test_x[:b]] if args.static_batch else [test_x[:1], test_x[:b]]
    m = export(model, os.path.join(d, "model.onnx"), sets[1], args.opset, args.static_batch)
    ops = [n.op_type for n in m.graph.node]
    log(f"{name}: exported opset {args.opset}: {' '.join(ops)}")

    for i, x in enumerate(sets):
        write_case(os.path.join(d, f"test_data_set_{i}"), x, predict(model, x))
    if name == "lenet5":
        torchref.write_pb(os.path.join(d, "predictions.pb"), pred, "predictions")

    info = {
        "model": name,
        "torch": torch.__version__,
        "torch_package": torch_package(),
        "onnx": onnx.__version__,
        "seed": args.seed,
        "epochs": epochs,
        "batch_size": BATCH.get(name, 100),
        "optimizer": RECIPES[name][0],
        "lr": RECIPES[name][1],
        "opset": args.opset,
        "static_batch": args.static_batch,
        "test_data_set_1_batch": b,
        "test_accuracy": round(acc, 4),
        "train_seconds": round(train_s, 1),
        "threads": torch.get_num_threads(),
        "ops": ops,
    }
    with open(os.path.join(d, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    return info


def write_readme(out, argv):
    infos = []
    for name in sorted(os.listdir(out)):
        p = os.path.join(out, name, "info.json")
        if os.path.exists(p):
            with open(p) as f:
                infos.append(json.load(f))
    lines = [
        "# PyTorch reference exports",
        "",
        "Generated by scripts/make_reference.py (do not edit by hand; README.md is rewritten on each run):",
        "",
        "    OMP_NUM_THREADS=2 /usr/bin/python3 scripts/make_reference.py" + "".join(" " + a for a in argv),
        "",
        "Each folder is in the ONNX backend-test layout: model.onnx plus test_data_set_N/input_0.pb",
        "(float32 N x 1 x 28 x 28, pixels /255, no normalization) and output_0.pb (PyTorch's float32",
        "logits, N x 10). test_data_set_0 is the first MNIST test image, test_data_set_1 the first",
        "64 (or --batch). lenet5/predictions.pb is an int64 [10000] tensor of PyTorch's argmax class",
        "for every test image. info.json records how each folder was made.",
        "",
        "Training: torch.manual_seed(seed) before building each model, training set reshuffled each",
        "epoch by torch.randperm with a generator seeded with the same seed, batch 100,",
        "CrossEntropyLoss; MLP SGD lr 0.01, CNN and LeNet5 Adam lr 1e-3.",
        "",
        "| model | torch (Debian package) | seed | epochs | opset | test accuracy (10,000 images) | ops |",
        "|---|---|---|---|---|---|---|",
    ]
    for i in infos:
        lines.append(f"| {i['model']} | {i['torch']} ({i.get('torch_package') or '?'}) | {i['seed']} | {i['epochs']} | {i['opset']} | "
                     f"{i['test_accuracy'] * 100:.2f}% | {' '.join(i['ops'])} |")
    lines += [
        "",
        "Check them in ONNX Runtime (onnxruntime-node 1.30.0):",
        "",
        "    NODE_PATH=/tmp/ort/node_modules node scripts/ort_run.js testdata/pytorch/lenet5",
        "",
        "A LeNet5 export made apart from the committed one (another opset, batch size, or a fixed",
        "batch with --static-batch), for checking a runtime:",
        "",
        "    OMP_NUM_THREADS=2 /usr/bin/python3 scripts/make_reference.py --models lenet5 --opset 11 --batch 32 --out /tmp/lenet5-op11",
        "",
        "Training is deterministic on CPU: a rerun on the 2-core dev machine wrote byte-identical lenet5",
        "files (other BLAS builds or thread counts may differ in the last bits). grad/ holds the",
        "gradient and Adam references from scripts/grad_reference.py (see grad/README.md);",
        "resnet_small/ a small ResNet of torchvision BasicBlocks (3 x 32 x 32 in, 7 classes) exported",
        "as a ResNet-18 is, for the fine-tuning tests, from scripts/make_resnet_small.py.",
        "",
    ]
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(torchref.REPO, "testdata", "pytorch"))
    ap.add_argument("--models", default="lenet5,mlp,cnn", help="comma-separated: lenet5, mlp, cnn, best")
    ap.add_argument("--epochs", type=int, help="default: 2, best's recipe 6")
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--batch", type=int, default=64, help="images in test_data_set_1")
    ap.add_argument("--static-batch", action="store_true", help="export with a fixed batch of --batch")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mnist", help="folder with the four MNIST .gz files (default: GoMNIST module)")
    args = ap.parse_args()

    names = [s.strip() for s in args.models.split(",") if s.strip()]
    for n in names:
        if n not in torchref.MODELS:
            ap.error(f"unknown model {n!r}")
    if not 1 <= args.batch <= 5000:
        ap.error("--batch must be in [1, 5000]")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))

    train_x, train_y = torchref.load_mnist("train", args.mnist)
    test_x, test_y = torchref.load_mnist("test", args.mnist)
    for n in names:
        make(n, args, train_x, train_y, test_x, test_y)
    write_readme(args.out, sys.argv[1:])


if __name__ == "__main__":
    main()
