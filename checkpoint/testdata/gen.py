#!/usr/bin/python3
"""Writes the checkpoint package's test fixtures and expected values.

Run with Debian's Python and PyTorch 1.13 from anywhere:

    /usr/bin/python3 checkpoint/testdata/gen.py

It writes, next to this script:
  real.json          expected tensors of the shared real checkpoints (../shared/data/models or
                     $ODIN_DATA/models): count, CRC-32 of the names and of all float32 data, and a
                     few tensors' shapes, sums and first values
  fixtures.json      every tensor (name, shape, all values as float32) of the fixtures below
  zip_state_dict.pt  torch >= 1.6 zip format, an OrderedDict of assorted dtypes and views
  zip_proto4.pt      the same, pickled with protocol 4
  zip_module.pt      a whole pickled module (class tinynet.TinyNet) wrapped in DataParallel
  legacy_dict.pth    legacy format, {state_dict with module. keys, best_prec1 (numpy), epoch, ...}
  legacy_module.pth  legacy format, the whole module
  tiny.safetensors   written by hand (no safetensors package needed)
"""

import collections
import json
import os
import struct
import sys
import types
import warnings
import zlib

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
warnings.simplefilter("ignore")


def data_dir():
    if os.environ.get("ODIN_DATA"):
        return os.environ["ODIN_DATA"]
    return os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data"))


def strip(name):
    while name.startswith("module."):
        name = name[len("module."):]
    return name


def f32(t):
    """The tensor as contiguous float32 values, as the Go reader converts it."""
    return t.detach().to(torch.float32).contiguous().numpy()


def summary(sd, detail):
    names = [strip(k) for k in sd]
    crc = 0
    for k in sd:
        crc = zlib.crc32(f32(sd[k]).astype("<f4").tobytes(), crc)
    out = {
        "count": len(names),
        "names_crc": zlib.crc32("\n".join(names).encode()),
        "data_crc": crc,
        "tensors": {},
    }
    for k in sd:
        if strip(k) in detail:
            a = f32(sd[k])
            out["tensors"][strip(k)] = {
                "shape": list(a.shape),
                "sum": float(a.astype(np.float64).sum()),
                "first": [float(x) for x in a.ravel()[:4]],
            }
    return out


def real():
    # The seed's densenets pickle classes of a module named densenet; empty stand-ins suffice
    # because nn.Module.__setstate__ restores everything from the pickled __dict__.
    stub = types.ModuleType("densenet")
    for n in ["DenseNet3", "DenseBlock", "BottleneckBlock", "TransitionBlock", "BasicBlock"]:
        setattr(stub, n, type(n, (nn.Module,), {}))
    sys.modules["densenet"] = stub
    models = os.path.join(data_dir(), "models")
    res = {}
    detail = ["conv1.weight", "block1.layer.0.bn1.running_mean", "block1.layer.0.conv1.weight",
              "block1.layer.0.conv2.weight", "trans1.conv1.weight", "fc.weight", "fc.bias",
              "bn1.running_var", "linear.weight", "linear.bias", "layer3.2.bn2.running_mean"]
    for name in ["densenet10.pth", "densenet100.pth"]:
        model = torch.load(os.path.join(models, name), map_location="cpu")
        res["models/" + name] = summary(model.state_dict(), detail)
        res["models/" + name]["meta"] = {"module": "densenet.DenseNet3"}
    for name in ["resnet20-cifar10.th", "resnet56-cifar10.th"]:
        ck = torch.load(os.path.join(models, name), map_location="cpu")
        res["models/" + name] = summary(ck["state_dict"], detail)
        res["models/" + name]["best_prec1"] = float(ck["best_prec1"])
    return res


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Sequential(nn.Linear(4, 3, bias=False), nn.ReLU(), nn.Linear(3, 2))
        self.register_buffer("scale", torch.tensor([0.5, 2.0]))
        self.register_buffer("scratch", torch.ones(2), persistent=False)
        self.register_buffer("nothing", None)


def state_dict_fixture():
    g = torch.Generator().manual_seed(1)
    r = lambda *s: torch.randn(*s, generator=g)
    base = r(4, 5)
    line = r(20)
    sd = collections.OrderedDict()
    sd["conv.weight"] = r(4, 3, 3, 3)
    sd["conv.bias"] = r(4).double()
    sd["bn.running_mean"] = r(4).half()
    sd["bn.num_batches_tracked"] = torch.tensor(17)
    sd["fc.weight"] = r(5, 6).t()  # non-contiguous
    sd["fc.bias"] = line[7:12]  # storage offset
    sd["shared.a"] = base
    sd["shared.b"] = base[1:3, ::2]  # offset and strides into a's storage
    sd["emb.bf16"] = r(3, 4).bfloat16()
    sd["mask"] = torch.tensor([True, False, True])
    sd["int8"] = torch.tensor([-3, 5, 127], dtype=torch.int8)
    sd["int32"] = torch.tensor([[-70000], [123456]], dtype=torch.int32)
    sd["empty"] = torch.zeros(0, 3)
    return sd


def describe(sd):
    out = []
    for k, v in sd.items():
        a = f32(v)
        out.append({"name": strip(k), "shape": list(a.shape), "data": [float(x) for x in a.ravel()]})
    return out


def write_safetensors(path, tensors, metadata):
    codes = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.int64: "I64", torch.float64: "F64", torch.uint8: "U8"}
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = metadata
    # Names sorted in the header, data in insertion order: file order is data order.
    h = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def fixtures():
    out = {}
    sd = state_dict_fixture()
    torch.save(sd, os.path.join(HERE, "zip_state_dict.pt"))
    out["zip_state_dict.pt"] = {"tensors": describe(sd), "meta": {}}
    torch.save(sd, os.path.join(HERE, "zip_proto4.pt"), pickle_protocol=4)
    out["zip_proto4.pt"] = {"tensors": describe(sd), "meta": {}}

    torch.manual_seed(2)
    stub = types.ModuleType("tinynet")
    TinyNet.__module__ = "tinynet"
    stub.TinyNet = TinyNet
    sys.modules["tinynet"] = stub
    net = TinyNet()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.25)
        net.bn.running_mean.copy_(torch.randn(4))
        net.bn.running_var.copy_(torch.rand(4) + 0.5)
    wrapped = nn.DataParallel(net)
    assert wrapped.device_ids == []  # CPU: a plain wrapper
    torch.save(wrapped, os.path.join(HERE, "zip_module.pt"))
    out["zip_module.pt"] = {"tensors": describe(wrapped.state_dict()),
                            "meta": {"module": "torch.nn.parallel.data_parallel.DataParallel"}}
    torch.save(net, os.path.join(HERE, "legacy_module.pth"), _use_new_zipfile_serialization=False)
    out["legacy_module.pth"] = {"tensors": describe(net.state_dict()), "meta": {"module": "tinynet.TinyNet"}}

    small = collections.OrderedDict(("module." + k, v) for k, v in list(sd.items())[:8])
    ck = {
        "epoch": 12,
        "arch": "tiny",
        "state_dict": small,
        "best_prec1": np.float64(91.5),
        "lr": 0.1,
        "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]},
    }
    torch.save(ck, os.path.join(HERE, "legacy_dict.pth"), _use_new_zipfile_serialization=False)
    out["legacy_dict.pth"] = {"tensors": describe(small),
                              "meta": {"epoch": "12", "arch": "tiny", "best_prec1": "91.5", "lr": "0.1"}}

    g = torch.Generator().manual_seed(3)
    st = collections.OrderedDict()
    st["z.weight"] = torch.randn(3, 2, generator=g)
    st["a.half"] = torch.randn(5, generator=g).half()
    st["m.bf16"] = torch.randn(2, 2, generator=g).bfloat16()
    st["count"] = torch.tensor([7, -2], dtype=torch.int64)
    st["d.double"] = torch.randn(2, generator=g).double()
    st["bytes"] = torch.tensor([0, 255], dtype=torch.uint8)
    st["scalar"] = torch.tensor(1.5)
    st["none"] = torch.zeros(0)
    meta = {"format": "pt", "note": "fixture"}
    write_safetensors(os.path.join(HERE, "tiny.safetensors"), st, meta)
    out["tiny.safetensors"] = {"tensors": describe(st), "meta": meta}
    return out


def main():
    fx = fixtures()
    with open(os.path.join(HERE, "fixtures.json"), "w") as f:
        json.dump(fx, f, indent=1, sort_keys=True)
    with open(os.path.join(HERE, "real.json"), "w") as f:
        json.dump(real(), f, indent=1, sort_keys=True)
    for name in sorted(os.listdir(HERE)):
        print(name, os.path.getsize(os.path.join(HERE, name)))


if __name__ == "__main__":
    main()
