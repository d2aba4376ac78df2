#!/usr/bin/python3
"""torch_bench.py: the PyTorch peer of the onnxkit bench harness (../main.go).

Trains one of the MNIST tutorial's models for one epoch (or its first N batches)
and prints one JSON line: {"seconds", "images", "batches", "loss", "threads", "torch"}.

    OMP_NUM_THREADS=2 /usr/bin/python3 torch_bench.py --model lenet5 \
        --images DIR/train-images-idx3-ubyte.gz --labels DIR/train-labels-idx1-ubyte.gz [--batches N]

The IDX files may be gzip-compressed (.gz) or raw; the harness passes the GoMNIST
module's data/*.gz. The images stay uint8 in memory; each batch is gathered
through a fresh torch.randperm shuffle and converted to float32 / 255 inside the
timed loop, as the Go trainer does (no torchvision, no DataLoader workers).
Only the training loop is timed: per batch the gather and conversion, forward,
CrossEntropyLoss, backward and the optimizer step. MLP: SGD lr 0.01; CNN and
LeNet5: Adam lr 1e-3; batch 100.
"""
import argparse
import gzip
import json
import sys
import time

import numpy as np
import torch
from torch import nn


def peak_kb():
    """This process's peak resident memory in kilobytes (VmHWM), or 0."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def read_idx(path):
    """Reads an unsigned-byte IDX file straight into one numpy array."""
    with (gzip.open(path, 'rb') if path.endswith('.gz') else open(path, 'rb')) as f:
        head = f.read(4)
        if len(head) != 4 or head[0] != 0 or head[1] != 0 or head[2] != 8:
            raise SystemExit(f'torch_bench: {path}: not an unsigned-byte IDX file')
        ndim = head[3]
        dims = [int.from_bytes(f.read(4), 'big') for _ in range(ndim)]
        a = np.empty(dims, dtype=np.uint8)
        if f.readinto(memoryview(a).cast('B')) != a.size:
            raise SystemExit(f'torch_bench: {path}: truncated')
    return a


def make_model(kind):
    if kind == 'mlp':
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 784), nn.ReLU(), nn.Linear(784, 10))
    if kind == 'cnn':
        return nn.Sequential(
            nn.Conv2d(1, 10, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, stride=1), nn.Dropout(0.2),
            nn.Flatten(), nn.Linear(7290, 128), nn.ReLU(), nn.Linear(128, 10))
    if kind == 'lenet5':
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2, 2),
            nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
            nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))
    if kind == 'best':
        def block(a, b):
            return [nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU()]
        return nn.Sequential(
            *block(1, 16), nn.MaxPool2d(2), *block(16, 32), *block(32, 32), nn.MaxPool2d(2),
            *block(32, 64), *block(64, 64), nn.AvgPool2d(7), nn.Flatten(), nn.Linear(64, 10))
    raise SystemExit(f'torch_bench: unknown model {kind!r}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True, choices=['mlp', 'cnn', 'lenet5', 'best'])
    ap.add_argument('--images', required=True, help='train-images-idx3-ubyte(.gz)')
    ap.add_argument('--labels', required=True, help='train-labels-idx1-ubyte(.gz)')
    ap.add_argument('--batches', type=int, default=0, help='time only N batches (0: the whole epoch)')
    ap.add_argument('--warmup', type=int, default=3, help='untimed batches run first')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch-size', type=int, help='default: 100, 128 for best')
    ap.add_argument('--seed', type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    images = torch.from_numpy(read_idx(a.images))
    labels = torch.from_numpy(read_idx(a.labels).astype(np.int64))
    n = images.shape[0]
    images = images.view(n, 1, 28, 28)

    model = make_model(a.model)
    model.train()
    best = a.model == 'best'
    bs = a.batch_size or (128 if best else 100)
    sched = None
    if a.model == 'mlp':
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
    elif best:
        # onnxkit's best recipe for one epoch: one-cycle SGD, label smoothing,
        # shifts of up to 2 pixels (scripts/make_reference.py trains it in full).
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=(n + bs - 1) // bs + a.warmup)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1 if best else 0.0)

    def shift(x, k=2):
        b, _, h, w = x.shape
        padded = nn.functional.pad(x, (k, k, k, k))
        d = torch.randint(0, 2 * k + 1, (b, 2))
        out = torch.empty_like(x)
        for i in range(b):
            dy, dx = int(d[i, 0]), int(d[i, 1])
            out[i] = padded[i, :, dy:dy + h, dx:dx + w]
        return out

    def step(idx):
        x = images[idx].float().div_(255)
        if best:
            x = shift(x)
        y = labels[idx]
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if sched:
            sched.step()
        return loss

    for b in range(a.warmup):
        step(torch.arange(b * bs, (b + 1) * bs))

    batches = (n + bs - 1) // bs
    if 0 < a.batches < batches:
        batches = a.batches
    start = time.perf_counter()
    perm = torch.randperm(n)
    loss = None
    for b in range(batches):
        loss = step(perm[b * bs:(b + 1) * bs])
    loss = float(loss)  # waits for nothing on CPU, but keeps the last step inside the timing
    secs = time.perf_counter() - start
    json.dump({'seconds': secs, 'images': min(batches * bs, n), 'batches': batches, 'loss': loss,
               'threads': torch.get_num_threads(), 'torch': torch.__version__,
               'vmhwm_kb': peak_kb()}, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
