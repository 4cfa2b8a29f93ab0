#!/usr/bin/python3
"""Generates the PyTorch reference fixtures that the models package tests compare against.

Run from anywhere with Debian's Python and PyTorch (CPU):

    /usr/bin/python3 models/testdata/gen_torch.py             # fixtures; keeps recorded accuracies
    /usr/bin/python3 models/testdata/gen_torch.py --accuracy  # also the full 10,000-image accuracies

It reads the shared real data (../shared/data from the module root, or $ODIN_SHARED_DATA) and writes,
next to this script:

    fixtures.json          index: torch version, ODIN settings, per network its logits,
                           predictions, ODIN and baseline scores, and the name of its gradient file
    <net>-grad.bin         ODIN input gradients, little-endian float32, n×3×32×32
    random-images.bin      4 random images as bytes (value = byte/255), 3×32×32 each, for the
                           random networks below
    wrn-10-1.pth           random Wide ResNet, whole pickled model, legacy format (module wideresnet)
    densenet-22-4.pth      random DenseNet-BC, whole pickled model, legacy format (module densenet)
    resnet8.pt             random CIFAR ResNet-8 state_dict, zip format

The module definitions below are written for this project from the papers' descriptions. The
seed's densenet checkpoints unpickle into them: pickle restores each module's state (_modules,
_parameters, _buffers, attributes) and our forward methods run on it.

ODIN as the tests check it: x is the normalised image, f the logits, ŷ = argmax f,
loss = cross-entropy(f/T, ŷ) summed over images, g = ∂loss/∂x, x̃ = x − ε·sign(g)/std_c with
sign(g) = +1 where g ≥ 0, score = max softmax(f(x̃)/T) in float64. Baseline = max softmax(f) in
float64. T = 1000, ε = 0.0014.
"""

import argparse
import json
import os
import sys
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("ODIN_SHARED_DATA") or os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data"))
CIFAR_TEST = os.path.join(SHARED, "cifar-10-batches-bin", "test_batch.bin")

T = 1000.0
EPS = 0.0014
CIFAR_MEAN = (125.3 / 255, 123.0 / 255, 113.9 / 255)
CIFAR_STD = (63.0 / 255, 62.1 / 255, 66.7 / 255)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def as_module(name, *classes):
    """Registers classes as members of an importable module, so pickle finds them by that name."""
    mod = types.ModuleType(name)
    for c in classes:
        c.__module__ = name
        c.__qualname__ = c.__name__
        setattr(mod, c.__name__, c)
    sys.modules[name] = mod
    return mod


# DenseNet-BC (Huang et al. 2017). Submodule names follow the seed's pickles.

class BottleneckBlock(nn.Module):
    def __init__(self, cin, growth, droprate=0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)
        self.droprate = droprate

    def forward(self, x):
        # Dropout is an identity at inference; every fixture runs in eval mode.
        h = self.conv1(F.relu(self.bn1(x)))
        h = self.conv2(F.relu(self.bn2(h)))
        return torch.cat([x, h], 1)


class TransitionBlock(nn.Module):
    def __init__(self, cin, cout, droprate=0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, cout, 1, bias=False)
        self.droprate = droprate

    def forward(self, x):
        return F.avg_pool2d(self.conv1(F.relu(self.bn1(x))), 2)


class DenseBlock(nn.Module):
    def __init__(self, layers, cin, growth, droprate=0.0):
        super().__init__()
        self.layer = nn.Sequential(*[BottleneckBlock(cin + i * growth, growth, droprate) for i in range(layers)])

    def forward(self, x):
        return self.layer(x)


class DenseNet3(nn.Module):
    def __init__(self, depth, classes, growth=12, reduction=0.5):
        super().__init__()
        layers = (depth - 4) // 6
        c = 2 * growth
        self.conv1 = nn.Conv2d(3, c, 3, padding=1, bias=False)
        self.block1 = DenseBlock(layers, c, growth)
        c += layers * growth
        self.trans1 = TransitionBlock(c, int(c * reduction))
        c = int(c * reduction)
        self.block2 = DenseBlock(layers, c, growth)
        c += layers * growth
        self.trans2 = TransitionBlock(c, int(c * reduction))
        c = int(c * reduction)
        self.block3 = DenseBlock(layers, c, growth)
        c += layers * growth
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(c, classes)
        self.in_planes = c

    def forward(self, x):
        x = self.trans1(self.block1(self.conv1(x)))
        x = self.trans2(self.block2(x))
        x = F.relu(self.bn1(self.block3(x)))
        return self.fc(F.avg_pool2d(x, 8).flatten(1))


as_module("densenet", DenseNet3, DenseBlock, BottleneckBlock, TransitionBlock)


# Wide ResNet (Zagoruyko & Komodakis 2016), pre-activation basic blocks.

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, droprate=0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.droprate = droprate
        self.equalInOut = cin == cout and stride == 1
        self.convShortcut = None if self.equalInOut else nn.Conv2d(cin, cout, 1, stride=stride, bias=False)

    def forward(self, x):
        a = F.relu(self.bn1(x))
        h = self.conv2(F.relu(self.bn2(self.conv1(a))))
        return (x if self.equalInOut else self.convShortcut(a)) + h


class NetworkBlock(nn.Module):
    def __init__(self, blocks, cin, cout, stride, droprate=0.0):
        super().__init__()
        self.layer = nn.Sequential(*[BasicBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1, droprate) for i in range(blocks)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, classes, widen=1, droprate=0.0):
        super().__init__()
        n = (depth - 4) // 6
        w = [16, 16 * widen, 32 * widen, 64 * widen]
        self.conv1 = nn.Conv2d(3, w[0], 3, padding=1, bias=False)
        self.block1 = NetworkBlock(n, w[0], w[1], 1, droprate)
        self.block2 = NetworkBlock(n, w[1], w[2], 2, droprate)
        self.block3 = NetworkBlock(n, w[2], w[3], 2, droprate)
        self.bn1 = nn.BatchNorm2d(w[3])
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(w[3], classes)
        self.nChannels = w[3]

    def forward(self, x):
        x = self.block3(self.block2(self.block1(self.conv1(x))))
        x = F.relu(self.bn1(x))
        return self.fc(F.avg_pool2d(x, 8).flatten(1))


as_module("wideresnet", WideResNet, NetworkBlock, BasicBlock)


# CIFAR ResNet (He et al. 2016, section 4.2): post-activation basic blocks, option-A shortcuts.

class ResBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = 0 if stride == 1 and cin == cout else cout // 4

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        if self.pad:
            x = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(h + x)


class CIFARResNet(nn.Module):
    def __init__(self, depth, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for s, w in enumerate([16, 32, 64]):
            blocks = []
            for i in range(n):
                blocks.append(ResBlock(cin, w, 2 if i == 0 and s > 0 else 1))
                cin = w
            setattr(self, "layer%d" % (s + 1), nn.Sequential(*blocks))
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.linear(F.adaptive_avg_pool2d(x, 1).flatten(1))


def modernise(model):
    """Gives modules unpickled from old PyTorch the attributes PyTorch 1.13's forward reads."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            if not hasattr(m, "track_running_stats"):
                m.track_running_stats = True
            if "num_batches_tracked" not in m._buffers:
                m._buffers["num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
        if isinstance(m, nn.Conv2d) and not hasattr(m, "padding_mode"):
            m.padding_mode = "zeros"
        if not hasattr(m, "_non_persistent_buffers_set"):
            m._non_persistent_buffers_set = set()
    return model.eval()


def load_pickled_model(path):
    import warnings
    with warnings.catch_warnings():
        # Old pickles carry their classes' source; ours differs by design.
        warnings.simplefilter("ignore")
        return modernise(torch.load(path, map_location="cpu", encoding="latin1"))


def save_legacy(model, name):
    """Saves a whole model as the seed did: legacy (pre-1.6) format, pickle protocol 2."""
    import warnings
    with warnings.catch_warnings():
        # Our classes are defined in this script, whose source torch.save cannot attach.
        warnings.simplefilter("ignore")
        torch.save(model, os.path.join(HERE, name), _use_new_zipfile_serialization=False, pickle_protocol=2)


def load_cifar_resnet(path, depth):
    ck = torch.load(path, map_location="cpu", encoding="latin1")
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in ck["state_dict"].items()}
    model = CIFARResNet(depth, 10)
    model.load_state_dict(sd, strict=True)
    return model.eval()


def randomise(model, gen):
    """Random weights and BatchNorm statistics far from the identity, so BN mistakes show."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=gen))
                m.bias.copy_(0.2 * torch.randn(c, generator=gen))
                m.running_mean.copy_(0.3 * torch.randn(c, generator=gen))
                m.running_var.copy_(0.3 + 1.5 * torch.rand(c, generator=gen))
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (3.0 / m.in_features) ** 0.5)
                m.bias.copy_(0.5 * torch.randn(m.bias.shape, generator=gen))
    return model.eval()


def centre_classifier(model, fc, x):
    """Re-centres the random linear layer on these images' features (bias = −W·mean feature), so
    that the predicted class depends on the image rather than on a dominant random bias."""
    feats = []
    hook = fc.register_forward_hook(lambda m, inp, out: feats.append(inp[0].detach()))
    with torch.no_grad():
        model(x)
    hook.remove()
    f = feats[0]
    with torch.no_grad():
        d = f - f.mean(0, keepdim=True)
        scale = 4.0 / max(float((d @ fc.weight.t()).std()), 1e-6)
        fc.weight.mul_(scale)
        fc.bias.copy_(-(f.mean(0) @ fc.weight.t()) + 0.1 * fc.bias)
    return model


def cifar_test(n):
    """The first n CIFAR-10 test images in [0,1] (n×3×32×32 float32) and their labels."""
    rec = 1 + 3072
    with open(CIFAR_TEST, "rb") as f:
        raw = np.frombuffer(f.read(n * rec), dtype=np.uint8)
    if raw.size != n * rec:
        raise SystemExit("%s: truncated: %d of %d bytes" % (CIFAR_TEST, raw.size, n * rec))
    raw = raw.reshape(n, rec)
    return torch.from_numpy(raw[:, 1:].reshape(n, 3, 32, 32).astype(np.float32) / np.float32(255)), raw[:, 0].astype(np.int64)


def normalise(x, mean, std):
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - m) / s


def odin(model, x, std):
    """Logits, ODIN input gradient, ODIN scores and baseline scores for normalised images x."""
    x = x.clone().requires_grad_(True)
    f = model(x)
    yhat = f.argmax(1)
    F.cross_entropy(f / T, yhat, reduction="sum").backward()
    g = x.grad.detach()
    sign = torch.where(g >= 0, 1.0, -1.0)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    with torch.no_grad():
        f2 = model(x.detach() - EPS * sign / s)
    score = torch.softmax(f2.double() / T, 1).max(1).values
    base = torch.softmax(f.detach().double(), 1).max(1).values
    return f.detach(), yhat, g, score, base


def accuracy(model, mean, std, n=10000, batch=500):
    x, y = cifar_test(n)
    preds = []
    with torch.no_grad():
        for lo in range(0, n, batch):
            preds.append(model(normalise(x[lo:lo + batch], mean, std)).argmax(1))
    p = torch.cat(preds).numpy()
    return p, y


def fixture(name, model, images, std, mean, source, arch_name, labels=None):
    x = normalise(images, mean, std)
    f, yhat, g, score, base = odin(model, x, std)
    grad_file = name + "-grad.bin"
    g.numpy().astype("<f4").tofile(os.path.join(HERE, grad_file))
    entry = {
        "name": name,
        "source": source,
        "model_name": arch_name,
        "images": images.shape[0],
        "mean": list(mean),
        "std": list(std),
        "logits": [[float(v) for v in row] for row in f.numpy()],
        "predictions": [int(v) for v in yhat],
        "odin": [float(v) for v in score],
        "baseline": [float(v) for v in base],
        "grad_file": grad_file,
    }
    if labels is not None:
        entry["labels"] = [int(v) for v in labels]
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accuracy", action="store_true", help="also measure accuracy on all 10,000 CIFAR-10 test images")
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    index_path = os.path.join(HERE, "fixtures.json")
    old = {}
    if os.path.exists(index_path):
        with open(index_path) as f:
            old = json.load(f)

    nets = []
    models_dir = os.path.join(SHARED, "models")
    images, labels = cifar_test(8)
    dn10 = load_pickled_model(os.path.join(models_dir, "densenet10.pth"))
    nets.append(fixture("densenet10", dn10, images, CIFAR_STD, CIFAR_MEAN, "shared:models/densenet10.pth",
                        "DenseNet-BC-100 (k=12)", labels))
    r20 = load_cifar_resnet(os.path.join(models_dir, "resnet20-cifar10.th"), 20)
    nets.append(fixture("resnet20", r20, images, IMAGENET_STD, IMAGENET_MEAN, "shared:models/resnet20-cifar10.th",
                        "ResNet-20", labels))

    # Small random networks saved here, run on random images, so that tests need no shared data.
    rng = np.random.default_rng(20180430)
    # Coarse random patterns plus noise, each image with its own colour and contrast, so that the
    # random networks do not see four statistically identical inputs.
    coarse = rng.uniform(-1, 1, size=(4, 3, 8, 8)).repeat(4, axis=2).repeat(4, axis=3)
    colour = rng.uniform(0.2, 0.8, size=(4, 3, 1, 1))
    contrast = rng.uniform(0.1, 0.4, size=(4, 1, 1, 1))
    noise = rng.uniform(-0.1, 0.1, size=(4, 3, 32, 32))
    pix = np.clip(np.rint(255 * (colour + contrast * coarse + noise)), 0, 255).astype(np.uint8)
    pix.tofile(os.path.join(HERE, "random-images.bin"))
    rand_images = torch.from_numpy(pix.astype(np.float32) / np.float32(255))
    gen = torch.Generator().manual_seed(1000)

    wrn = randomise(WideResNet(10, 10, widen=1), gen)
    centre_classifier(wrn, wrn.fc, normalise(rand_images, CIFAR_MEAN, CIFAR_STD))
    save_legacy(wrn, "wrn-10-1.pth")
    wrn = load_pickled_model(os.path.join(HERE, "wrn-10-1.pth"))
    nets.append(fixture("wrn-10-1", wrn, rand_images, CIFAR_STD, CIFAR_MEAN, "testdata:wrn-10-1.pth", "WRN-10-1"))

    dn = randomise(DenseNet3(22, 10, growth=4), gen)
    centre_classifier(dn, dn.fc, normalise(rand_images, CIFAR_MEAN, CIFAR_STD))
    save_legacy(dn, "densenet-22-4.pth")
    dn = load_pickled_model(os.path.join(HERE, "densenet-22-4.pth"))
    nets.append(fixture("densenet-22-4", dn, rand_images, CIFAR_STD, CIFAR_MEAN, "testdata:densenet-22-4.pth",
                        "DenseNet-BC-22 (k=4)"))

    r8 = randomise(CIFARResNet(8, 10), gen)
    centre_classifier(r8, r8.linear, normalise(rand_images, IMAGENET_MEAN, IMAGENET_STD))
    torch.save(r8.state_dict(), os.path.join(HERE, "resnet8.pt"))
    r8 = CIFARResNet(8, 10)
    r8.load_state_dict(torch.load(os.path.join(HERE, "resnet8.pt")))
    r8.eval()
    nets.append(fixture("resnet8", r8, rand_images, IMAGENET_STD, IMAGENET_MEAN, "testdata:resnet8.pt", "ResNet-8"))

    # The first 500 test images, for a quick accuracy test in Go.
    p, y = accuracy(dn10, CIFAR_MEAN, CIFAR_STD, n=500)
    first500 = {"network": "densenet10", "images": 500, "correct": int((p == y).sum()), "predictions": [int(v) for v in p]}

    acc = old.get("accuracy", {})
    if args.accuracy:
        acc = {}
        r56 = load_cifar_resnet(os.path.join(models_dir, "resnet56-cifar10.th"), 56)
        for name, model, mean, std in [("densenet10", dn10, CIFAR_MEAN, CIFAR_STD),
                                       ("resnet20", r20, IMAGENET_MEAN, IMAGENET_STD),
                                       ("resnet56", r56, IMAGENET_MEAN, IMAGENET_STD)]:
            p, y = accuracy(model, mean, std)
            acc[name] = {"images": len(y), "correct": int((p == y).sum()), "percent": round(100.0 * (p == y).mean(), 2)}
            print("%s: %d/%d correct" % (name, acc[name]["correct"], len(y)), file=sys.stderr)

    index = {
        "generator": "gen_torch.py",
        "torch_version": torch.__version__,
        "temperature": T,
        "epsilon": EPS,
        "random_images": {"file": "random-images.bin", "images": 4, "format": "uint8, value = byte/255, 3×32×32 each"},
        "cifar_images": {"file": "cifar-10-batches-bin/test_batch.bin", "images": 8},
        "accuracy": acc,
        "first500": first500,
        "networks": nets,
    }
    with open(index_path, "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
