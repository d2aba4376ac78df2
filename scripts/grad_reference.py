#!/usr/bin/python3
"""Dumps PyTorch's loss, gradients and Adam steps for LeNet5 and the CNN on one
fixed MNIST batch, for checking the Go training code tensor by tensor.

    OMP_NUM_THREADS=2 /usr/bin/python3 scripts/grad_reference.py

For each model (torch.manual_seed(0), then the model is built with PyTorch's
default initialization; the CNN's Dropout is off: the model runs in eval mode,
which for these models changes nothing else) and the first --images MNIST
training images (pixels /255), writes under --out/<model>/ (default
testdata/pytorch/grad):

    input.pb               float32 [B,1,28,28]
    labels.pb              int64   [B]
    logits.pb              float32 [B,10] at the initial weights
    loss.pb                float32 []  mean CrossEntropyLoss at the initial weights
    init_<key>.pb          initial weights, one per state_dict key (conv1.weight, ...)
    grad_<key>.pb          d loss / d <key> at the initial weights
    adam_loss.pb           float32 [steps] loss before each Adam step (the first is loss.pb)
    adam3_<key>.pb         weights after 3 Adam steps (lr 1e-3, betas (0.9, 0.999),
                           eps 1e-8, no weight decay) on the same batch

All tensors are ONNX TensorProto files (onnx.numpy_helper, raw_data) named
after the file stem.

The model "resnet_tiny" (--models resnet_tiny) is a small residual CNN with
BatchNorm, a padded MaxPool, a strided 1x1 downsample, a residual Add, a
dilated depthwise convolution, a grouped convolution and global average
pooling (TinyResNet below; train/reference_test.go builds the same graph). It
runs in training mode (BatchNorm uses batch statistics) and also writes
running_mean/running_var after the 4 forward passes (init, then 3 Adam steps)
as adam3_<bn>.running_mean/var, as every state_dict key is.
"""

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torchref  # noqa: E402


class TinyResNet(nn.Module):
    """conv1-bn1-relu-maxpool(3,2,1), one ResNet basic block with a 1x1
    stride-2 downsample (convolutions before a BatchNorm without bias, as
    torchvision's), a dilated depthwise conv, a grouped conv, global
    average pooling and a Linear head. N x 1 x 28 x 28 -> N x 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(3, 2, padding=1)
        self.b1conv1 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.b1bn1 = nn.BatchNorm2d(16)
        self.b1conv2 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.b1bn2 = nn.BatchNorm2d(16)
        self.down = nn.Conv2d(8, 16, 1, stride=2, bias=False)
        self.downbn = nn.BatchNorm2d(16)
        self.dw = nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=16)
        self.gconv = nn.Conv2d(16, 32, 3, padding=1, groups=4)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):                                   # N x 1 x 28 x 28
        x = self.pool(F.relu(self.bn1(self.conv1(x))))      # N x 8 x 14 x 14
        y = F.relu(self.b1bn1(self.b1conv1(x)))             # N x 16 x 7 x 7
        y = self.b1bn2(self.b1conv2(y))
        x = F.relu(y + self.downbn(self.down(x)))           # residual Add
        x = F.relu(self.dw(x))                              # depthwise, dilation 2
        x = F.relu(self.gconv(x))                           # N x 32 x 7 x 7, 4 groups
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)   # N x 32
        return self.fc(x)                                   # N x 10


EXTRA = {"resnet_tiny": TinyResNet}
TRAIN_MODE = {"resnet_tiny"}


def dump(name, out, x, y, steps, seed):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)

    def w(stem, arr):
        torchref.write_pb(os.path.join(d, stem + ".pb"), arr, stem)

    torch.manual_seed(seed)
    model = (EXTRA.get(name) or torchref.MODELS[name])()
    model.train(name in TRAIN_MODE)  # else Dropout as identity; the tutorial's models have no other train/eval difference
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = nn.CrossEntropyLoss()

    w("input", x)
    w("labels", y)
    for k, v in model.state_dict().items():
        if v.is_floating_point():
            w("init_" + k, v.numpy())

    logits = model(xt)
    loss = loss_fn(logits, yt)
    loss.backward()
    w("logits", logits.detach().numpy())
    w("loss", np.array(loss.item(), dtype=np.float32))
    for k, p in model.named_parameters():
        w("grad_" + k, p.grad.numpy())

    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    w("adam_loss", np.array(losses, dtype=np.float32))
    for k, v in model.state_dict().items():
        if v.is_floating_point():
            w(f"adam{steps}_" + k, v.numpy())
    gnorm = {k: float(p.grad.norm()) for k, p in model.named_parameters()}
    print(f"{name}: loss {losses[0]:.6f}, adam losses {' '.join(f'{l:.6f}' for l in losses)}",
          file=sys.stderr)
    print(f"{name}: grad norms at step {steps} (before its update): " +
          " ".join(f"{k}={v:.3g}" for k, v in gnorm.items()), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(torchref.REPO, "testdata", "pytorch", "grad"))
    ap.add_argument("--models", default="lenet5,cnn", help="comma-separated: lenet5, cnn, mlp, resnet_tiny")
    ap.add_argument("--images", type=int, default=8, help="first N training images form the batch")
    ap.add_argument("--steps", type=int, default=3, help="Adam steps")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mnist", help="folder with the four MNIST .gz files (default: GoMNIST module)")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))

    names = [s.strip() for s in args.models.split(",") if s.strip()]
    for n in names:
        if n not in torchref.MODELS and n not in EXTRA:
            ap.error(f"unknown model {n!r}")
    x, y = torchref.load_mnist("train", args.mnist)
    x, y = x[:args.images].copy(), y[:args.images].copy()
    for n in names:
        dump(n, args.out, x, y, args.steps, args.seed)


if __name__ == "__main__":
    main()
