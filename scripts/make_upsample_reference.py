#!/usr/bin/python3
"""Exports small PyTorch upsampling layers to ONNX with PyTorch's outputs, in
the ONNX test layout, for infer's ConvTranspose, Resize and Upsample tests.

    OMP_NUM_THREADS=2 /usr/bin/python3 scripts/make_upsample_reference.py

writes under --out (default infer/testdata/upsample), for each case and opset:

    <case>_op<opset>/model.onnx                  torch.onnx.export, input "input", output "output"
    <case>_op<opset>/test_data_set_0/input_0.pb  seeded random input
    <case>_op<opset>/test_data_set_0/output_0.pb PyTorch's output for it

Cases (see cases()): ConvTranspose2d(4, 6, 3, stride 2, padding 1,
output_padding 1, groups 2, dilation 2) with bias, the same with the weights
as a graph input, a DCGAN-like 4x4 stride-2 layer, ConvTranspose1d and
ConvTranspose3d; nn.Upsample / F.interpolate nearest (scale 2, size 7 x 9,
1-D scale 3), bilinear with align_corners False (scale 2, size 7 x 9, down to
3 x 2) and True, bicubic (scale 2; align_corners True to 6 x 7), trilinear
(scales 2, 1.5, 2); a small DCGAN generator (three ConvTranspose2d with
BatchNorm, ReLU, Tanh) and a small U-Net (nearest upsampling, concat).
torch.manual_seed(--seed) before each layer's input (the
layers' weights come from the seeded construction in cases()).
"""

import argparse
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchref import REPO, write_pb  # noqa: E402


class Interp(nn.Module):
    """F.interpolate with fixed arguments."""

    def __init__(self, **kw):
        super().__init__()
        self.kw = kw

    def forward(self, x):
        return F.interpolate(x, **self.kw)


class ConvTransposeW(nn.Module):
    """F.conv_transpose2d with the weights as a second graph input."""

    def forward(self, x, w):
        return F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=2, dilation=2)


class Generator(nn.Module):
    """A DCGAN generator in small: z [N, 4, 1, 1] to an image [N, 1, 16, 16]."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(4, 8, 4, 1, 0, bias=False), nn.BatchNorm2d(8), nn.ReLU(),   # 8 x 4 x 4
            nn.ConvTranspose2d(8, 4, 4, 2, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),   # 4 x 8 x 8
            nn.ConvTranspose2d(4, 1, 4, 2, 1, bias=False), nn.Tanh())                      # 1 x 16 x 16
        # Real BatchNorm statistics: a few training-mode passes.
        for bn in (self.net[1], self.net[4]):
            bn.momentum = None
        self.train()
        with torch.no_grad():
            for _ in range(4):
                self(torch.randn(8, 4, 1, 1))

    def forward(self, z):
        return self.net(z)


class UNet(nn.Module):
    """A U-Net in small: conv, pool, conv, nearest 2x upsampling, concat
    with the skip connection, 1x1 conv."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(1, 4, 3, padding=1)
        self.mid = nn.Conv2d(4, 4, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.out = nn.Conv2d(8, 2, 1)

    def forward(self, x):                        # x: N x 1 x 8 x 8
        e = F.relu(self.enc(x))                  # N x 4 x 8 x 8
        m = F.relu(self.mid(F.max_pool2d(e, 2)))  # N x 4 x 4 x 4
        return self.out(torch.cat([self.up(m), e], 1))  # N x 2 x 8 x 8


def cases():
    """(name, module, input shapes) of every case."""
    return [
        ("convtranspose2d",
         nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2),
         [(2, 4, 5, 6)]),
        ("convtranspose2d_weight_input", ConvTransposeW(), [(2, 4, 5, 6), (4, 3, 3, 3)]),
        ("convtranspose2d_dcgan", nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1, bias=False), [(2, 8, 8, 8)]),
        ("convtranspose1d", nn.ConvTranspose1d(3, 4, 5, stride=3, padding=2, output_padding=1), [(2, 3, 7)]),
        ("convtranspose3d",
         nn.ConvTranspose3d(2, 4, (2, 3, 2), stride=(2, 1, 2), padding=(0, 1, 1), groups=2),
         [(1, 2, 3, 4, 3)]),
        ("convtranspose_dcgan_generator", Generator(), [(2, 4, 1, 1)]),
        ("nearest_unet", UNet(), [(2, 1, 8, 8)]),
        ("nearest_scale2", nn.Upsample(scale_factor=2, mode="nearest"), [(1, 2, 4, 5)]),
        ("nearest_size7x9", Interp(size=(7, 9), mode="nearest"), [(1, 2, 4, 5)]),
        ("nearest_1d_scale3", Interp(scale_factor=3, mode="nearest"), [(1, 2, 5)]),
        ("bilinear_scale2", nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), [(1, 2, 4, 5)]),
        ("bilinear_size7x9", Interp(size=(7, 9), mode="bilinear", align_corners=False), [(1, 2, 4, 5)]),
        ("bilinear_down_size3x2", Interp(size=(3, 2), mode="bilinear", align_corners=False), [(1, 2, 7, 5)]),
        ("bilinear_align_corners", nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), [(1, 2, 4, 5)]),
        ("bicubic_scale2", Interp(scale_factor=2, mode="bicubic", align_corners=False), [(1, 2, 4, 5)]),
        ("bicubic_align_corners_size6x7", Interp(size=(6, 7), mode="bicubic", align_corners=True), [(1, 1, 4, 5)]),
        ("trilinear_scale2x1.5x2", Interp(scale_factor=(2, 1.5, 2), mode="trilinear"), [(1, 1, 3, 4, 3)]),
    ]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(REPO, "infer", "testdata", "upsample"))
    p.add_argument("--opsets", default="11,13")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    for opset in [int(v) for v in args.opsets.split(",")]:
        torch.manual_seed(args.seed)
        for name, module, shapes in cases():
            torch.manual_seed(args.seed)
            module.eval()
            xs = [torch.randn(*shape) for shape in shapes]
            with torch.no_grad():
                y = module(*xs)
            d = os.path.join(args.out, "%s_op%d" % (name, opset))
            os.makedirs(d, exist_ok=True)
            names = ["input", "weight"][:len(xs)]
            torch.onnx.export(module, tuple(xs), os.path.join(d, "model.onnx"), opset_version=opset,
                              input_names=names, output_names=["output"])
            for i, (x, n) in enumerate(zip(xs, names)):
                write_pb(os.path.join(d, "test_data_set_0", "input_%d.pb" % i), x.numpy(), n)
            write_pb(os.path.join(d, "test_data_set_0", "output_0.pb"), y.numpy(), "output")
            print("wrote %s: %s -> %s" % (d, [tuple(x.shape) for x in xs], tuple(y.shape)))


if __name__ == "__main__":
    main()
