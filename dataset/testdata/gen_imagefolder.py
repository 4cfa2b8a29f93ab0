#!/usr/bin/python3
"""Writes the fixtures of dataset.ImageFolder and dataset.Transform: a small ImageFolder tree of
PNG images and what torchvision 0.14 makes of them on PIL images.

    /usr/bin/python3 dataset/testdata/gen_imagefolder.py

(Debian's python3-torchvision and python3-pil.) It writes, next to this script:
  imagefolder/<class>/...   PNG images of assorted sizes, including a nested folder and an
                            upper-case extension, plus a text file torchvision ignores
  imagefolder_ref.json      torchvision's ImageFolder class list and sample order, and for each
                            image and transform (Resize(shorter side) + CenterCrop, bilinear or
                            bicubic, shrinking and enlarging) PIL's 8-bit result, base64
"""

import base64
import json
import os

import numpy as np
from PIL import Image
import torchvision
from torchvision import transforms
from torchvision.transforms import InterpolationMode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "imagefolder")


def image(rng, w, h):
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 255 // max(w + h - 2, 1)], -1)
    noise = rng.integers(-60, 60, size=(h, w, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")


def main():
    rng = np.random.default_rng(7)
    files = {
        "cat/b.png": (61, 45), "cat/a.PNG": (40, 40), "cat/sub/c.png": (23, 37),
        "dog/x.png": (97, 50), "dog/y.png": (30, 29),
    }
    for rel, (w, h) in files.items():
        p = os.path.join(ROOT, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        image(rng, w, h).save(p)
    with open(os.path.join(ROOT, "dog", "notes.txt"), "w") as f:
        f.write("not an image\n")
    ds = torchvision.datasets.ImageFolder(ROOT)
    ref = {"torchvision_version": torchvision.__version__, "classes": ds.classes,
           "samples": [[os.path.relpath(p, ROOT), c] for p, c in ds.samples], "cases": []}
    for rel, _ in ds.samples:
        rel = os.path.relpath(rel, ROOT)
        for resize, crop in [(32, 28), (20, 16), (64, 56), (30, 40)]:
            for name, mode in [("bilinear", InterpolationMode.BILINEAR), ("bicubic", InterpolationMode.BICUBIC)]:
                t = transforms.Compose([transforms.Resize(resize, interpolation=mode), transforms.CenterCrop(crop)])
                with Image.open(os.path.join(ROOT, rel)) as im:
                    out = np.asarray(t(im.convert("RGB")))  # H×W×3 uint8
                ref["cases"].append({"file": rel, "resize": resize, "crop": crop, "filter": name,
                                     "pixels": base64.b64encode(out.transpose(2, 0, 1).tobytes()).decode()})
    with open(os.path.join(HERE, "imagefolder_ref.json"), "w") as f:
        json.dump(ref, f, indent=1)


if __name__ == "__main__":
    main()
