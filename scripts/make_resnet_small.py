#!/usr/bin/python3
"""Exports a small ResNet built from torchvision's BasicBlock, the way a
torchvision ResNet-18 is exported, for the fine-tuning tests (train -init).

    OMP_NUM_THREADS=2 /usr/bin/python3 scripts/make_resnet_small.py

The model (torch.manual_seed(0)): conv 3->16 3x3 (no bias), BatchNorm, ReLU,
MaxPool(3, 2, padding 1), layer1 = BasicBlock(16, 16), layer2 =
BasicBlock(16, 32, stride 2) with a 1x1 stride-2 conv + BatchNorm downsample,
AdaptiveAvgPool2d(1), flatten, fc = Linear(32, 7); input N x 3 x 32 x 32.
BatchNorm gets real statistics (momentum None, 5 train-mode passes on random
input), then the model is exported in eval mode at opset 13 with a symbolic
batch axis "N" (PyTorch folds each BatchNorm into its Conv, as in the zoo's
ResNet-18: Conv, Relu, MaxPool, Add, GlobalAveragePool, Flatten, Gemm).
Writes testdata/pytorch/resnet_small/model.onnx and test_data_set_0/
input_0.pb (float32 [2,3,32,32], uniform [0, 1)) and output_0.pb
(PyTorch's logits [2,7]).
"""

import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torchref  # noqa: E402


class SmallResNet(nn.Module):
    def __init__(self, classes=7):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, padding=1)
        self.layer1 = BasicBlock(16, 16)
        down = nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))
        self.layer2 = BasicBlock(16, 32, stride=2, downsample=down)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):                                      # N x 3 x 32 x 32
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))   # N x 16 x 16 x 16
        x = self.layer2(self.layer1(x))                        # N x 32 x 8 x 8
        return self.fc(torch.flatten(self.avgpool(x), 1))      # N x 7


def main():
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    torch.manual_seed(0)
    model = SmallResNet()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(5):
            model(torch.rand(16, 3, 32, 32))
    model.eval()
    d = os.path.join(torchref.REPO, "testdata", "pytorch", "resnet_small")
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    path = os.path.join(d, "model.onnx")
    torch.onnx.export(model, torch.rand(1, 3, 32, 32), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    onnx.checker.check_model(onnx.load(path))
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        y = model(x)
    torchref.write_pb(os.path.join(d, "test_data_set_0", "input_0.pb"), x.numpy(), "input")
    torchref.write_pb(os.path.join(d, "test_data_set_0", "output_0.pb"), y.numpy(), "logits")
    ops = [n.op_type for n in onnx.load(path).graph.node]
    print(f"wrote {path}: {len(ops)} nodes, ops {sorted(set(ops))}; logits {y.numpy().round(4).tolist()}", file=sys.stderr)


if __name__ == "__main__":
    main()
