#!/usr/bin/python3
"""Generates the ONNX fixtures that the onnx package tests compare against PyTorch.

Run with Debian's Python and PyTorch (python3-torch 1.13, python3-torchvision 0.14), CPU only:

    /usr/bin/python3 onnx/testdata/gen_onnx.py             # the large fixtures (not committed)
    /usr/bin/python3 onnx/testdata/gen_onnx.py --small     # the small committed ones, next to this script
    /usr/bin/python3 onnx/testdata/gen_onnx.py --only resnet18,openood_resnet18_32x32
    /usr/bin/python3 onnx/testdata/gen_onnx.py --if-changed  # only if this script changed since

--only rewrites the models named (and the seed's exports) and keeps the other entries of the
folder's index.json; every entry records the digest of the script that wrote it, and
--if-changed regenerates everything unless each expected model is listed with this script's
digest and all the files exist.

The large fixtures go to $ODIN_ONNX_FIXTURES, else <user cache>/odin/onnx-fixtures
($XDG_CACHE_HOME or ~/.cache), the folder the Go tests read:

    index.json                 torch version, ODIN settings, per model its files, input, logits,
                               ODIN and baseline scores, gradient files and PyTorch's own
                               float32-against-float64 sign agreement
    <model>-op<opset>.onnx     torchvision models at 3×224×224, random weights (seed below),
                               exported with a dynamic batch axis at opsets 13 and 17
    <model>-input.bin          the model's normalised input images (8), little-endian float32, n×3×224×224
    <model>-grad.bin           PyTorch's ODIN input gradient of those images, float32
    <model>-grad64.bin         the same gradient computed in float64 (a double copy of the model),
                               float64: the reference that both float32 gradients' signs are
                               measured against; index.json holds that copy's logits too
                               (logits64), the reference where PyTorch's float32 logits are
                               themselves further from it than the tests' threshold
    openood_resnet18_32x32-op<opset>.onnx, openood_resnet18_32x32.pt
                               OpenOOD v1.5's ResNet18_32x32 (the class gen_statedicts.py writes
                               its state_dict fixtures with) at 3×32×32, random weights, exported
                               as the torchvision models, and its state_dict (torch.save), so
                               that the tests compare --arch openood_resnet18_32x32 with the ONNX path
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
import copy
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


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "models", "testdata", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


gt = load_script("gen_torch")
gs = load_script("gen_statedicts")  # OpenOOD's ResNet18_32x32

TORCHVISION = ["resnet18", "resnet50", "densenet121", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
               "regnet_y_400mf", "shufflenet_v2_x1_0", "squeezenet1_1", "googlenet", "convnext_tiny"]
OPENOOD = "openood_resnet18_32x32"
OPSETS = [13, 17]
SEED = 20260412
# Eight images per model: on two, whether a float32 gradient's signs come out as exact as
# PyTorch's own was a coin toss on the models with ReLU inputs within rounding of zero.
IMAGES = 8
OPENOOD_IMAGES = 8
SEED_CHECKPOINTS = [("densenet10", "densenet10.pth", gt.load_pickled_model),
                    ("resnet20", "resnet20-cifar10.th", lambda p: gt.load_cifar_resnet(p, 20))]


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


def grad64(model, x, yhat):
    """PyTorch's logits and ODIN input gradient in float64, on a double copy of the model: the
    same loss with the same ŷ as the float32 pass. They are the reference that says how exact
    float32 logits and gradient signs are."""
    m = copy.deepcopy(model).double()
    x = x.detach().double().requires_grad_(True)
    f = m(x)
    F.cross_entropy(f / gt.T, yhat, reduction="sum").backward()
    return f.detach(), x.grad.detach()


def entry(name, model, x, std, out, prefix, with64=False):
    f, yhat, g, score, base = gt.odin(model, x, std)
    x.numpy().astype("<f4").tofile(os.path.join(out, prefix + "-input.bin"))
    g.numpy().astype("<f4").tofile(os.path.join(out, prefix + "-grad.bin"))
    e = {
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
    if with64:
        f64, g64 = grad64(model, x, yhat)
        g64.numpy().astype("<f8").tofile(os.path.join(out, prefix + "-grad64.bin"))
        agree = float((((g >= 0) == (g64 >= 0)).double().mean()))
        e.update(grad64_file=prefix + "-grad64.bin", torch_signs_vs_float64=agree,
                 logits64=[[float(v) for v in row] for row in f64.numpy()])
        print("%-22s PyTorch float32 gradient signs equal to float64 on %.4f%%" % (name, 100 * agree), file=sys.stderr)
    return e


def calibrate(model, gen, size, mean=gt.IMAGENET_MEAN, std=gt.IMAGENET_STD):
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
        x = gt.normalise(images(gen, 8, size), mean, std)
        model(x)
        for m in bns:
            m.running_var.fill_(float(m.running_var.mean()))
    model.eval()
    fcs = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if fcs:  # SqueezeNet classifies with a convolution
        gt.centre_classifier(model, fcs[-1], x)
    return model


def export_opsets(model, x, out, name):
    files = {}
    for op in OPSETS:
        fn = "%s-op%d.onnx" % (name, op)
        export(model, x, os.path.join(out, fn), op)
        files[str(op)] = fn
    return files


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
        e = entry(name, model, x, gt.IMAGENET_STD, out, name, with64=True)
        e["files"] = export_opsets(model, x, out, name)
        entries.append(e)
        print("%-22s %.1fs" % (name, time.time() - t0), file=sys.stderr)
    return entries


def openood_fixture(out):
    """OpenOOD v1.5's ResNet18_32x32 at 32×32 with OpenOOD's CIFAR-10 normalisation, calibrated
    as the torchvision models, exported at each opset; its state_dict is saved beside, so that the
    tests check that --arch openood_resnet18_32x32 reads the same network as the ONNX file."""
    t0 = time.time()
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    mean, std = gs.OPENOOD_CIFAR10
    model = calibrate(gs.ResNet18x32(classes=10), gen, 32, mean, std)
    x = gt.normalise(images(gen, OPENOOD_IMAGES, 32), mean, std)
    e = entry(OPENOOD, model, x, std, out, OPENOOD, with64=True)
    e.update(arch=OPENOOD, mean=list(mean), state_dict=OPENOOD + ".pt")
    torch.save(model.state_dict(), os.path.join(out, e["state_dict"]))
    e["files"] = export_opsets(model, x, out, OPENOOD)
    print("%-22s %.1fs" % (OPENOOD, time.time() - t0), file=sys.stderr)
    return e


def seed_checkpoints():
    """The seed's checkpoints present in the shared data: (name, file, loader, path)."""
    models_dir = os.path.join(gt.SHARED, "models")
    found = []
    for name, file, load in SEED_CHECKPOINTS:
        path = os.path.join(models_dir, file)
        if os.path.exists(path):
            found.append((name, file, load, path))
        else:
            print("%s missing: skipped" % path, file=sys.stderr)
    return found


def seed_fixtures(out):
    """The seed's checkpoints exported twice: with batch norms kept (<name>.onnx) and folded into
    the convolutions as torch.onnx.export does by default (<name>-folded.onnx)."""
    x = torch.zeros(1, 3, 32, 32)
    done = []
    for name, file, load, path in seed_checkpoints():
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


def read_index(out):
    try:
        with open(os.path.join(out, "index.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def up_to_date(out):
    """Whether out holds every model this script writes, each written by this very script, the
    exports of every seed checkpoint present, and all their files."""
    index = read_index(out)
    if not index:
        return False
    digest = script_digest()
    models = index.get("models", [])
    if sorted(m.get("name", "") for m in models) != sorted(TORCHVISION + [OPENOOD]):
        return False
    if any(m.get("generator_sha256") != digest for m in models):
        return False
    if sorted(c.get("name", "") for c in index.get("checkpoints", [])) != sorted(c[0] for c in seed_checkpoints()):
        return False
    keys = ("input_file", "grad_file", "grad64_file", "state_dict")
    files = [m[k] for m in models for k in keys if k in m]
    files += [fn for m in models for fn in m["files"].values()]
    files += [c[k] for c in index["checkpoints"] for k in ("file", "folded")]
    return all(os.path.exists(os.path.join(out, fn)) for fn in files)


def merge(old, new):
    """The entries of new, and those of old whose name new lacks, in the script's order."""
    by_name = {m.get("name"): m for m in (old or {}).get("models", [])}
    by_name.update((m["name"], m) for m in new)
    return [by_name[n] for n in TORCHVISION + [OPENOOD] if n in by_name]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", action="store_true", help="write the small committed fixtures next to this script")
    ap.add_argument("--only", default="", help="comma-separated models to rewrite, keeping the others (default: all)")
    ap.add_argument("--out", default=out_dir(), help="folder of the large fixtures")
    ap.add_argument("--if-changed", action="store_true", help="do nothing if the folder holds this script's fixtures")
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if args.small:
        small_fixtures()
        return
    only = set(s for s in args.only.split(",") if s)
    unknown = only - set(TORCHVISION) - {OPENOOD}
    if unknown:
        ap.error("--only: unknown models %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(TORCHVISION + [OPENOOD])))
    if args.if_changed and not only and up_to_date(args.out):
        print("fixtures in %s are up to date" % args.out, file=sys.stderr)
        return
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    # The index goes while files are rewritten and comes back last: an interrupted run leaves
    # none, and --if-changed starts again.
    old = read_index(args.out)
    if old is not None:
        os.remove(os.path.join(args.out, "index.json"))
    models = torchvision_fixtures(args.out, only)
    if not only or OPENOOD in only:
        models.append(openood_fixture(args.out))
    digest = script_digest()
    for m in models:
        m["generator_sha256"] = digest
    if only:
        models = merge(old, models)
    index = {"generator": "gen_onnx.py", "torch_version": torch.__version__, "temperature": gt.T,
             "epsilon": gt.EPS, "seed": SEED, "models": models, "checkpoints": seed_fixtures(args.out)}
    tmp = os.path.join(args.out, "index.json.tmp")
    with open(tmp, "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(args.out, "index.json"))
    print("fixtures in %s (%.0fs)" % (args.out, time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
