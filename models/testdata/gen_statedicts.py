#!/usr/bin/python3
"""Writes PyTorch state_dict fixtures for models.FromTensorsAt (torchvision ResNets and OpenOOD's
ResNet18_32x32), with PyTorch's outputs on a few random images.

Run with Debian's Python, python3-torch 1.13 and python3-torchvision 0.14 (never pip):

    /usr/bin/python3 models/testdata/gen_statedicts.py           # small fixtures (committed)
    /usr/bin/python3 models/testdata/gen_statedicts.py --large   # full-size networks, ~200 MB

The small fixtures (narrow networks, a few hundred KB) go to models/testdata/statedicts/ next to
this script. The large ones (torchvision resnet18/34/50 at 64×64 and a full-width
ResNet18_32x32 at 32×32) go to $ODIN_STATEDICT_FIXTURES, else <user cache>/odin/statedict-fixtures.

Every network has random weights from a fixed seed, including random batch-norm running
statistics (the defaults, mean 0 and variance 1, would hide a mistake in them). For each network
NAME the folder holds:
  NAME.pt          torch.save(model.state_dict()) (zip format)
  NAME-input.bin   N images, float32 little-endian, N×3×S×S in [0, 1] (before normalisation)
  NAME-grad.bin    the input gradient of ODIN's loss CE(f(x)/T, argmax f(x)) with respect to the
                   normalised images, N×3×S×S float32
and index.json lists them with arch, size, mean, std, logits and ODIN scores (T = 1000,
eps = 0.0014, x~ = x - eps*sign(grad)/std_c with sign(0) = +1, score = max softmax(f(x~)/T)).

ResNet18_32x32 is written here from its description (OpenOOD v1.5, after He et al. 2016): a 3×3
stride-1 convolution to 64 channels with batch norm and ReLU, no max-pool, four stages of two
basic blocks (64, 128, 256, 512 channels; strides 1, 2, 2, 2) whose shortcut is a 1×1 convolution
and batch norm where the shape changes ("shortcut.0", "shortcut.1"), global average pooling and
a linear layer "fc".
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck

HERE = os.path.dirname(os.path.abspath(__file__))
T, EPS = 1000.0, 0.0014
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
OPENOOD_CIFAR10 = ([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])


class Block32(nn.Module):
    """A basic block of ResNet18_32x32."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + self.shortcut(x))


class ResNet18x32(nn.Module):
    def __init__(self, classes=10, width=64, blocks=(2, 2, 2, 2)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        cin = width
        for i, n in enumerate(blocks):
            cout = width * 2 ** i
            layers = []
            for j in range(n):
                layers.append(Block32(cin, cout, 2 if (j == 0 and i > 0) else 1))
                cin = cout
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*layers))
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for i in range(4):
            x = getattr(self, "layer%d" % (i + 1))(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class NarrowTV(nn.Module):
    """torchvision's ResNet layout (same names, torchvision's own block classes) with a narrow
    stem and stages, so that the fixture is small."""

    def __init__(self, block, blocks, width, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = width
        for i, n in enumerate(blocks):
            planes = width * 2 ** i
            layers = []
            for j in range(n):
                stride = 2 if (j == 0 and i > 0) else 1
                down = None
                if stride != 1 or cin != planes * block.expansion:
                    down = nn.Sequential(nn.Conv2d(cin, planes * block.expansion, 1, stride, bias=False),
                                         nn.BatchNorm2d(planes * block.expansion))
                layers.append(block(cin, planes, stride, down))
                cin = planes * block.expansion
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*layers))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(4):
            x = getattr(self, "layer%d" % (i + 1))(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=g))
            elif name.endswith("running_mean") or name.endswith(".bias"):
                t.copy_(0.1 * torch.randn(t.shape, generator=g))
            elif name.endswith("weight") and t.dim() == 1:  # batch-norm scale
                t.copy_(1 + 0.2 * torch.randn(t.shape, generator=g))
            else:  # He-like initialisation keeps activations of order one through the depth
                fan_in = t[0].numel()
                t.copy_(torch.randn(t.shape, generator=g) * (1.0 / fan_in) ** 0.5)
    model.eval()
    return model


def outputs(model, x, mean, std):
    mean_t = torch.tensor(mean).view(1, 3, 1, 1)
    std_t = torch.tensor(std).view(1, 3, 1, 1)
    xn = ((x - mean_t) / std_t).requires_grad_(True)
    logits = model(xn)
    loss = F.cross_entropy(logits / T, logits.argmax(1), reduction="sum")
    (grad,) = torch.autograd.grad(loss, xn)
    sign = torch.where(grad >= 0, torch.ones_like(grad), -torch.ones_like(grad))
    with torch.no_grad():
        xp = xn - EPS * sign / std_t
        odin = F.softmax(model(xp).double() / T, dim=1).max(1).values
    return logits.detach(), grad, odin


def write(folder, name, arch, model, size, n, stats, seed, index):
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.rand((n, 3, size, size), generator=g)
    logits, grad, odin = outputs(model, x, *stats)
    torch.save(model.state_dict(), os.path.join(folder, name + ".pt"))
    x.numpy().astype("<f4").tofile(os.path.join(folder, name + "-input.bin"))
    grad.numpy().astype("<f4").tofile(os.path.join(folder, name + "-grad.bin"))
    index["networks"].append({
        "name": name, "arch": arch, "size": size, "images": n,
        "mean": stats[0], "std": stats[1],
        "logits": logits.double().tolist(), "odin": odin.tolist(),
    })
    print(name, "written", file=sys.stderr)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    large = "--large" in sys.argv[1:]
    index = {"torch_version": torch.__version__, "torchvision_version": torchvision.__version__,
             "temperature": T, "epsilon": EPS, "networks": []}
    if large:
        folder = os.environ.get("ODIN_STATEDICT_FIXTURES") or os.path.join(
            os.path.expanduser(os.environ.get("XDG_CACHE_HOME", "~/.cache")), "odin", "statedict-fixtures")
        os.makedirs(folder, exist_ok=True)
        for i, name in enumerate(["resnet18", "resnet34", "resnet50"]):
            m = randomise(getattr(torchvision.models, name)(num_classes=1000), 10 + i)
            write(folder, name, "torchvision_resnet", m, 64, 2, IMAGENET, 10 + i, index)
        m = randomise(ResNet18x32(classes=10), 20)
        write(folder, "resnet18_32x32", "openood_resnet18_32x32", m, 32, 4, OPENOOD_CIFAR10, 20, index)
    else:
        folder = os.path.join(HERE, "statedicts")
        os.makedirs(folder, exist_ok=True)
        m = randomise(NarrowTV(BasicBlock, [2, 1, 1, 1], 8, 7), 1)
        write(folder, "tv_basic_narrow", "torchvision_resnet", m, 48, 3, IMAGENET, 1, index)
        m = randomise(NarrowTV(Bottleneck, [1, 2, 1, 1], 4, 5), 2)
        write(folder, "tv_bottleneck_narrow", "torchvision_resnet", m, 40, 3, IMAGENET, 2, index)
        m = randomise(ResNet18x32(classes=10, width=8), 3)
        write(folder, "resnet18_32x32_narrow", "openood_resnet18_32x32", m, 32, 3, OPENOOD_CIFAR10, 3, index)
    with open(os.path.join(folder, "index.json"), "w") as f:
        json.dump(index, f, indent=1)


if __name__ == "__main__":
    main()
