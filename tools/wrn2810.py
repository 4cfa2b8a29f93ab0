#!/usr/bin/python3
"""Wide ResNet-28-10 with random weights, for timing odin against PyTorch on the seed's other network.

Its trained weights are not available on these machines, so this makes a stand-in with the same
architecture and the seed's whole-model format (legacy pickle, module `wideresnet`), and times
PyTorch's ODIN step on exactly those weights. Run with Debian's python3-torch:

    /usr/bin/python3 tools/wrn2810.py make  --out /tmp/wrn-28-10.pth            # 146 MB, seeded
    /usr/bin/python3 tools/wrn2810.py bench --model /tmp/wrn-28-10.pth --batch 16 --threads 2 --n 64

and then, in the same run, alternating:

    odin bench --nn /tmp/wrn-28-10.pth --batch 8 --workers 2 --n 64

The architecture classes come from models/testdata/gen_torch.py (written for this project from the
paper's description), so the pickle unpickles as the seed's wideresnet checkpoints do.
"""

import argparse
import importlib.util
import os
import resource
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def definitions():
    path = os.path.join(HERE, "..", "models", "testdata", "gen_torch.py")
    spec = importlib.util.spec_from_file_location("gen_torch", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make(a):
    g = definitions()
    torch.manual_seed(a.seed)
    net = g.WideResNet(28, a.classes, widen=10)
    gen = torch.Generator().manual_seed(a.seed)
    g.randomise(net, gen)
    net.eval()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # classes defined in a script: no source to attach
        torch.save(net, a.out, _use_new_zipfile_serialization=False, pickle_protocol=2)
    print(f"wrote {a.out}: WRN-28-10, {sum(p.numel() for p in net.parameters())} parameters, seed {a.seed}")


def odin(net, x, std, T=1000.0, eps=0.0014):
    x = x.clone().requires_grad_(True)
    logits = net(x)
    loss = F.cross_entropy(logits / T, logits.argmax(1))
    loss.backward()
    g = (torch.ge(x.grad, 0).float() - 0.5) * 2 / std
    with torch.no_grad():
        return F.softmax(net(x - eps * g) / T, 1).max(1).values


def bench(a):
    g = definitions()  # registers module `wideresnet` for unpickling
    torch.set_num_threads(a.threads)
    net = g.load_pickled_model(a.model)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    std = torch.tensor([63.0, 62.1, 66.7]).view(1, 3, 1, 1) / 255
    x = torch.randn(a.batch, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        net(x)
    t, done = time.perf_counter(), 0
    with torch.no_grad():
        while done < a.n:
            net(x)
            done += a.batch
    fwd = done / (time.perf_counter() - t)
    odin(net, x, std)
    t, done = time.perf_counter(), 0
    while done < a.n:
        odin(net, x, std)
        done += a.batch
    step = done / (time.perf_counter() - t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch {torch.__version__} wrn-28-10 threads={a.threads} batch={a.batch}: "
          f"forward {fwd:.1f} img/s, odin step {step:.1f} img/s, peak {peak:.0f} MB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--out", required=True)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--classes", type=int, default=10)
    b = sub.add_parser("bench")
    b.add_argument("--model", required=True)
    b.add_argument("--batch", type=int, default=16)
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--n", type=int, default=64)
    a = ap.parse_args()
    make(a) if a.cmd == "make" else bench(a)


if __name__ == "__main__":
    main()
