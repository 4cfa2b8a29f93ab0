#!/usr/bin/python3
"""Generates the ONNX fixtures that the onnx package tests compare against PyTorch.

Run with Debian's Python and PyTorch (python3-torch 1.13, python3-torchvision 0.14), CPU only:

    /usr/bin/python3 onnx/testdata/gen_onnx.py             # the large fixtures (not committed)
    /usr/bin/python3 onnx/testdata/gen_onnx.py --small     # the small committed ones, next to this script
    /usr/bin/python3 onnx/testdata/gen_onnx.py --only resnet18,mobilenet_v2
    /usr/bin/python3 onnx/testdata/gen_onnx.py --if-changed  # only if this script changed since

The large fixtures go to $ODIN_ONNX_FIXTURES, else <user cache>/odin/onnx-fixtures
($XDG_CACHE_HOME or ~/.cache), the folder the Go tests read:

    index.json                 torch version, ODIN settings, per model its file, input, logits,
                               ODIN and baseline scores and gradient file
    <model>-op<opset>.onnx     torchvision models at 3×224×224, random weights (seed below),
                               exported with a dynamic batch axis at opsets 13 and 17
    <model>-input.bin          the model's normalised input images, little-endian float32, n×3×224×224
    <model>-grad.bin           PyTorch's ODIN input gradient of those images, float32
    densenet10.onnx, resnet20.onnx
                               the seed's checkpoints (../shared/data/models) exported to ONNX
                               with their batch norms kept; *-folded.onnx as exported by default

The small fixtures (--small) are tiny random networks that use the operators odin maps, exported
at several opsets, with the same outputs in testdata/small.json.

ODIN is computed as in models/testdata/gen_torch.py (imported from there): x is the normalised
image, f the logits, ŷ = argmax f, g = ∂ cross-entropy(f/T, ŷ)/∂x, x̃ = x − ε·sign(g)/std_c,
score = max softmax(f(x̃)/T) in float64; T = 1000, ε = 0.0014.
"""

import argparse
import hashlib
import importlib.util
import json
import os
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

spec = importlib.util.spec_from_file_location("gen_torch", os.path.join(ROOT, "models", "testdata", "gen_torch.py"))
gt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gt)

TORCHVISION = ["resnet18", "resnet50", "densenet121", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
               "regnet_y_400mf", "shufflenet_v2_x1_0", "squeezenet1_1", "googlenet", "convnext_tiny"]
OPSETS = [13, 17]
SEED = 20260412
IMAGES = 2


def out_dir():
    d = os.environ.get("ODIN_ONNX_FIXTURES")
    if d:
        return d
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "odin", "onnx-fixtures")


def export(model, x, path, opset, fold_bn=True):
    """torch.onnx.export with a dynamic batch axis. By default PyTorch folds each batch norm that
    follows a convolution into its weights (in float32, so the weights round differently);
    fold_bn=False keeps them as BatchNormalization nodes (TrainingMode.PRESERVE on a model in eval
    mode), the graph odin builds from the checkpoint itself."""
    training = torch.onnx.TrainingMode.EVAL if fold_bn else torch.onnx.TrainingMode.PRESERVE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True,
                          training=training)


def images(gen, n, size):
    """Smooth random colour patterns plus a little noise, in [0,1]."""
    coarse = torch.rand(n, 3, size // 16, size // 16, generator=gen) * 2 - 1
    coarse = F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    colour = 0.2 + 0.6 * torch.rand(n, 3, 1, 1, generator=gen)
    noise = 0.1 * (torch.rand(n, 3, size, size, generator=gen) * 2 - 1)
    return (colour + 0.3 * coarse + noise).clamp(0, 1)


def entry(name, model, x, std, out, prefix):
    f, yhat, g, score, base = gt.odin(model, x, std)
    x.numpy().astype("<f4").tofile(os.path.join(out, prefix + "-input.bin"))
    g.numpy().astype("<f4").tofile(os.path.join(out, prefix + "-grad.bin"))
    return {
        "name": name,
        "images": x.shape[0],
        "shape": list(x.shape[1:]),
        "input_file": prefix + "-input.bin",
        "grad_file": prefix + "-grad.bin",
        "std": list(std),
        "logits": [[float(v) for v in row] for row in f.numpy()],
        "predictions": [int(v) for v in yhat],
        "odin": [float(v) for v in score],
        "baseline": [float(v) for v in base],
    }


def calibrate(model, gen, size):
    """Gives the random network the statistics of a trained one: batch norms get the running
    means of 8 random images and, per layer, the mean of their channels' variances (so
    activations neither vanish nor explode through the layers, as they would with torchvision's
    initialisation and identity statistics, while no channel that happens to be nearly constant
    on those images amplifies rounding by orders of magnitude), random affine parameters, and
    the final linear layer is re-centred on those images (gen_torch's centre_classifier) so that
    the logits spread over a few units and the predicted class depends on the image."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for m in bns:
            c = m.num_features
            m.weight.copy_(0.5 + torch.rand(c, generator=gen))
            m.bias.copy_(0.2 * torch.randn(c, generator=gen))
            m.reset_running_stats()
            m.momentum = None
        model.train()
        x = gt.normalise(images(gen, 8, size), gt.IMAGENET_MEAN, gt.IMAGENET_STD)
        model(x)
        for m in bns:
            m.running_var.fill_(float(m.running_var.mean()))
    model.eval()
    fcs = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if fcs:  # SqueezeNet classifies with a convolution
        gt.centre_classifier(model, fcs[-1], x)
    return model


def torchvision_fixtures(out, only):
    import torchvision
    entries = []
    for name in TORCHVISION:
        if only and name not in only:
            continue
        t0 = time.time()
        torch.manual_seed(SEED)
        gen = torch.Generator().manual_seed(SEED)
        model = calibrate(getattr(torchvision.models, name)(weights=None), gen, 224)
        x = gt.normalise(images(gen, IMAGES, 224), gt.IMAGENET_MEAN, gt.IMAGENET_STD)
        e = entry(name, model, x, gt.IMAGENET_STD, out, name)
        e["files"] = {}
        for op in OPSETS:
            fn = "%s-op%d.onnx" % (name, op)
            export(model, x, os.path.join(out, fn), op)
            e["files"][str(op)] = fn
        entries.append(e)
        print("%-20s %.1fs" % (name, time.time() - t0), file=sys.stderr)
    return entries


def seed_fixtures(out):
    """The seed's checkpoints exported twice: with batch norms kept (<name>.onnx) and folded into
    the convolutions as torch.onnx.export does by default (<name>-folded.onnx)."""
    models_dir = os.path.join(gt.SHARED, "models")
    x = torch.zeros(1, 3, 32, 32)
    done = []
    loaders = [("densenet10", "densenet10.pth", gt.load_pickled_model),
               ("resnet20", "resnet20-cifar10.th", lambda p: gt.load_cifar_resnet(p, 20))]
    for name, file, load in loaders:
        path = os.path.join(models_dir, file)
        if not os.path.exists(path):
            print("%s missing: skipped" % path, file=sys.stderr)
            continue
        model = load(path)
        export(model, x, os.path.join(out, name + ".onnx"), 13, fold_bn=False)
        export(model, x, os.path.join(out, name + "-folded.onnx"), 13)
        done.append({"name": name, "file": name + ".onnx", "folded": name + "-folded.onnx",
                     "checkpoint": "models/" + file})
    return done


# Small networks for the committed fixtures.

class Tiny(nn.Module):
    """Convolutions with and without bias, batch norms before and after convolutions, a residual
    Add, a Concat, average pooling, Dropout, a flatten through shape arithmetic, a final Linear
    and a Softmax that the importer removes."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.conv3 = nn.Conv2d(8, 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(12)
        self.conv4 = nn.Conv2d(12, 16, 3, stride=2, padding=1)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(x + self.bn2(self.conv2(x)))
        x = torch.cat([x, self.conv3(x)], 1)
        x = F.avg_pool2d(F.relu(self.bn3(x)), 2)
        x = F.relu(self.conv4(x))
        x = F.adaptive_avg_pool2d(x, 1)
        x = self.drop(x.view(x.size(0), -1))
        return torch.softmax(self.fc(x), 1)


class TinyLogits(nn.Module):
    """Tiny without its Softmax, for PyTorch's logits."""

    def __init__(self, t):
        super().__init__()
        self.t = t

    def forward(self, x):
        t = self.t
        x = F.relu(t.bn1(t.conv1(x)))
        x = F.relu(x + t.bn2(t.conv2(x)))
        x = torch.cat([x, t.conv3(x)], 1)
        x = F.avg_pool2d(F.relu(t.bn3(x)), 2)
        x = F.relu(t.conv4(x))
        x = F.adaptive_avg_pool2d(x, 1)
        return t.fc(x.view(x.size(0), -1))


def small_fixtures():
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    tiny = gt.randomise(Tiny(), gen).eval()
    x = gt.normalise(images(gen, 3, 16), gt.CIFAR_MEAN, gt.CIFAR_STD)
    logits = TinyLogits(tiny).eval()
    gt.centre_classifier(logits, tiny.fc, x)
    e = entry("tiny", logits, x, gt.CIFAR_STD, HERE, "tiny")
    e["files"] = {}
    for op in [9, 13, 17]:
        fn = "tiny-op%d.onnx" % op
        export(tiny, x, os.path.join(HERE, fn), op)
        e["files"][str(op)] = fn
    index = {"generator": "gen_onnx.py --small", "torch_version": torch.__version__, "temperature": gt.T,
             "epsilon": gt.EPS, "models": [e]}
    with open(os.path.join(HERE, "small.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


def script_digest():
    with open(os.path.abspath(__file__), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def up_to_date(out):
    """Whether out holds a complete set of fixtures written by this very script."""
    try:
        with open(os.path.join(out, "index.json")) as f:
            index = json.load(f)
    except (OSError, ValueError):
        return False
    if index.get("generator_sha256") != script_digest():
        return False
    files = [m[k] for m in index["models"] for k in ("input_file", "grad_file")]
    files += [fn for m in index["models"] for fn in m["files"].values()]
    files += [c[k] for c in index["checkpoints"] for k in ("file", "folded")]
    return all(os.path.exists(os.path.join(out, fn)) for fn in files)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", action="store_true", help="write the small committed fixtures next to this script")
    ap.add_argument("--only", default="", help="comma-separated torchvision models (default: all)")
    ap.add_argument("--out", default=out_dir(), help="folder of the large fixtures")
    ap.add_argument("--if-changed", action="store_true", help="do nothing if the folder holds this script's fixtures")
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if args.small:
        small_fixtures()
        return
    if args.if_changed and not args.only and up_to_date(args.out):
        print("fixtures in %s are up to date" % args.out, file=sys.stderr)
        return
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    only = set(s for s in args.only.split(",") if s)
    index = {"generator": "gen_onnx.py", "generator_sha256": script_digest(), "torch_version": torch.__version__, "temperature": gt.T,
             "epsilon": gt.EPS, "seed": SEED, "models": torchvision_fixtures(args.out, only),
             "checkpoints": seed_fixtures(args.out)}
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    print("fixtures in %s (%.0fs)" % (args.out, time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
