#!/usr/bin/python3
"""Writes the reference fixtures of the dataset package's tests (run from this folder).

resize_ref.json  small planes resized by torch.nn.functional.interpolate (float64, exact
                 reference) and by PIL's Image.resize (8-bit, rounds between passes).
cmyk_ref.json    PIL's convert("RGB") of CMYK values on a grid.
cmyk.jpg         a 32x32 CMYK JPEG (Adobe, quality 100) of flat 8x8 blocks, with PIL's RGB decoding
                 in cmyk_ref.json.
ycc420.jpg, ycc422.jpg  32x32 JPEGs with 4:2:0 and 4:2:2 chroma saved by PIL, with PIL's RGB
                 decoding in jpeg_ref.json.
"""
import json

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

rng = np.random.default_rng(20180201)


def plane(w, h):
    return rng.integers(0, 256, size=(h, w)).astype(np.uint8)


cases = []
for (sw, sh, dw, dh) in [(8, 8, 4, 4), (9, 7, 4, 3), (64, 64, 32, 32), (3, 5, 7, 8), (13, 6, 5, 6)]:
    src = plane(sw, sh)
    t = torch.from_numpy(src.astype(np.float64))[None, None]
    outs = []
    torch_modes = [("nearest", False, dict(mode="nearest-exact")),
                   ("bilinear", False, dict(mode="bilinear", align_corners=False)),
                   ("bilinear", True, dict(mode="bilinear", align_corners=False, antialias=True)),
                   ("bicubic", True, dict(mode="bicubic", align_corners=False, antialias=True))]
    for filt, aa, kw in torch_modes:
        out = F.interpolate(t, size=(dh, dw), **kw)[0, 0].numpy()
        outs.append(dict(ref="torch", filter=filt, antialias=aa,
                         want=[round(float(v), 9) for v in out.flatten()]))
    pil = dict(nearest=Image.NEAREST, box=Image.BOX, bilinear=Image.BILINEAR,
               bicubic=Image.BICUBIC, lanczos=Image.LANCZOS)
    for filt, r in pil.items():
        out = np.asarray(Image.fromarray(src, "L").resize((dw, dh), r))
        outs.append(dict(ref="pil", filter=filt, antialias=True, want=out.flatten().tolist()))
    cases.append(dict(sw=sw, sh=sh, dw=dw, dh=dh, src=src.flatten().tolist(), out=outs))
with open("resize_ref.json", "w") as f:
    json.dump(cases, f)

# CMYK: a grid through PIL's conversion, and a JPEG of flat blocks.
vals = [0, 1, 2, 64, 127, 128, 200, 254, 255]
grid = [(c, m, y, k) for c in vals for m in vals[::2] for y in vals[::3] for k in vals]
img = Image.new("CMYK", (len(grid), 1))
img.putdata(grid)
rgb = list(img.convert("RGB").getdata())
blocks = [tuple(int(v) for v in rng.integers(0, 256, size=4)) for _ in range(16)]
cm = np.zeros((32, 32, 4), np.uint8)
for b, v in enumerate(blocks):
    y, x = divmod(b, 4)
    cm[8 * y:8 * y + 8, 8 * x:8 * x + 8] = v
Image.fromarray(cm, "CMYK").save("cmyk.jpg", quality=100)
dec = Image.open("cmyk.jpg")
assert dec.mode == "CMYK"
with open("cmyk_ref.json", "w") as f:
    json.dump(dict(cmyk=grid, rgb=rgb, jpeg_cmyk=np.asarray(dec).flatten().tolist(),
                   jpeg_rgb=np.asarray(dec.convert("RGB")).flatten().tolist()), f)

# YCbCr JPEGs: a smooth colour image with edges, so that chroma upsampling matters.
yy, xx = np.mgrid[0:32, 0:32]
rgb = np.stack([(xx * 8) % 256, (yy * 8) % 256, ((xx + yy) * 4 + 60 * (xx > 15)) % 256], -1).astype(np.uint8)
ref = {}
for name, sub in [("ycc420.jpg", 2), ("ycc422.jpg", 1)]:
    Image.fromarray(rgb, "RGB").save(name, quality=90, subsampling=sub)
    ref[name] = np.asarray(Image.open(name).convert("RGB")).flatten().tolist()
with open("jpeg_ref.json", "w") as f:
    json.dump(ref, f)
