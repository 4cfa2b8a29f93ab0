#!/usr/bin/python3
"""Writes the reference fixture that ood's tests compare the fitted detectors against.

Run from anywhere with Debian's Python, NumPy and PyTorch (CPU):

    /usr/bin/python3 ood/testdata/gen_fixture.py

It reads the shared real data (../shared/data from the module root, or $ODIN_SHARED_DATA) and
runs the seed's densenet10 in PyTorch, through the module definitions of
models/testdata/gen_torch.py, on

    train: the first 500 images of cifar-10-batches-bin/data_batch_1.bin, with their labels
    test:  the first 16 images of cifar-10-batches-bin/test_batch.bin, then 8 images of
           uniform noise (bytes from NumPy's PCG64 with seed 7, value = byte/255)

and writes next to this script:

    densenet10-fixture.json  shapes, train labels, the noise images' file, and the reference
                             scores of the 24 test images per method and setting
    densenet10-train.f16     train penultimate features, 500×342, little-endian float16
    densenet10-test.f16      test penultimate features, 24×342, little-endian float16
    densenet10-logits.f32    logits, train (500×10) then test (24×10), little-endian float32
    densenet10-fc.f32        final layer weight (10×342) then bias (10), little-endian float32
    noise-images.u8          the 8 noise images, 3×32×32 bytes each

The features are rounded to float16 to keep the fixture small; the rounded values are the inputs
of both the reference below and the Go tests, so nothing else is approximated. Every reference
score is computed in float64 with NumPy from these stored values, written from the papers'
formulas (see the Go doc comments):

    mahalanobis   class means (train labels), tied covariance Σ = (1/N) Σ (h−μ_y)(h−μ_y)ᵀ,
                  precision P = S·pinv(SΣS, rcond = D·eps, hermitian)·S with S = diag(1/σ_j)
                  (0 where σ_j = 0), score max_c −(h−μ_c)ᵀP(h−μ_c)
    knn           z = h/‖h‖ (float64), score −(distance to the k-th nearest train z), k = 50 and 1
    react         c = np.percentile(all train features, p) (linear), logits W·min(h,c)+b in
                  float64, score logsumexp; p = 90 and 80
    vim           u = −pinv(W)b, eigenvectors of (1/N) Σ (h−u)(h−u)ᵀ (as right singular
                  vectors of the centred features), residual space beyond the
                  top dim, α = Σ max logit / Σ ‖residual‖ (train), score logsumexp(f) − α‖res‖;
                  dim = 171 and 300
    gradnorm      ‖∂ KL(uniform ‖ softmax(W·h+b))/∂W‖₁ by autograd in float64 (T = 1), with the
                  stored logits' W and b applied to the stored features
    energy, maxlogit, msp  from the stored logits

and, with the network itself, mahalanobis_pre (ε = 0.0014): with the precision and means above,
ĉ the closest class at the clean features, the input gradient of the float64 distance
(h−μ_ĉ)ᵀP(h−μ_ĉ) back through the float32 network, x̂ = x − ε·sign(g)/std (sign(0) = +1), and the
score max_c −(h(x̂)−μ_c)ᵀP(h(x̂)−μ_c) on x̂'s float32 features.
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models", "testdata"))
import gen_torch  # noqa: E402  (the project's PyTorch module definitions)

SHARED = gen_torch.SHARED
TRAIN = os.path.join(SHARED, "cifar-10-batches-bin", "data_batch_1.bin")
NTRAIN, NCIFAR, NNOISE = 500, 16, 8
EPS_PRE = 0.0014


def cifar(path, n):
    rec = 1 + 3072
    with open(path, "rb") as f:
        raw = np.frombuffer(f.read(n * rec), dtype=np.uint8)
    raw = raw.reshape(n, rec)
    return raw[:, 1:].reshape(n, 3, 32, 32).astype(np.float32) / np.float32(255), raw[:, 0].astype(np.int64)


def features(model, x):
    """Penultimate features (after global pooling) and logits of normalised images x."""
    h = model.trans1(model.block1(model.conv1(x)))
    h = model.trans2(model.block2(h))
    h = F.relu(model.bn1(model.block3(h)))
    h = F.avg_pool2d(h, 8).flatten(1)
    return h, model.fc(h)


def run(model, images):
    x = gen_torch.normalise(torch.from_numpy(images), gen_torch.CIFAR_MEAN, gen_torch.CIFAR_STD)
    hs, fs = [], []
    with torch.no_grad():
        for i in range(0, len(x), 50):
            h, f = features(model, x[i:i + 50])
            hs.append(h)
            fs.append(f)
    return torch.cat(hs).numpy(), torch.cat(fs).numpy()


def logsumexp(f):
    m = f.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(f - m).sum(axis=1, keepdims=True)))[:, 0]


def mahalanobis_stats(h, y, k):
    d = h.shape[1]
    mean = np.stack([h[y == c].mean(axis=0) for c in range(k)])
    cen = h - mean[y]
    cov = cen.T @ cen / len(h)
    # Through the correlation matrix: many units are almost never active, and Σ's own
    # eigendecomposition would be meaningless in their directions (see Mahalanobis's doc).
    sd = np.sqrt(np.diag(cov))
    inv = np.divide(1.0, sd, out=np.zeros_like(sd), where=sd > 0)
    corr = cov * np.outer(inv, inv)
    prec = np.outer(inv, inv) * np.linalg.pinv(corr, rcond=d * np.finfo(np.float64).eps, hermitian=True)
    ev = np.linalg.eigvalsh(corr)
    return mean, prec, ev.max() / ev[ev > 1e-9].min()


def mahalanobis(h, mean, prec):
    q = np.stack([np.einsum("ij,jk,ik->i", h - m, prec, h - m) for m in mean], axis=1)
    return (-q).max(axis=1), (-q).argmax(axis=1)


def knn(htr, hte, k):
    ztr = htr / np.linalg.norm(htr, axis=1, keepdims=True)
    zte = hte / np.linalg.norm(hte, axis=1, keepdims=True)
    dist = np.sqrt(((zte[:, None, :] - ztr[None, :, :]) ** 2).sum(axis=2))
    return -np.sort(dist, axis=1)[:, k - 1]


def react(htr, hte, w, b, p):
    c = np.percentile(htr.ravel(), p)
    return logsumexp(np.minimum(hte, c) @ w.T + b), c


def vim(htr, ftr, hte, fte, w, b, dim):
    u = -np.linalg.pinv(w) @ b
    x = htr - u
    # The eigenvectors of xᵀx/N, in decreasing order, as x's right singular vectors (accurate
    # for the tiny eigenvalues that an eigendecomposition of xᵀx would blur).
    _, _, vt = np.linalg.svd(x, full_matrices=True)
    ns = vt[dim:].T
    alpha = ftr.max(axis=1).sum() / np.linalg.norm(x @ ns, axis=1).sum()
    return logsumexp(fte) - alpha * np.linalg.norm((hte - u) @ ns, axis=1)


def gradnorm(h, w, b):
    out = []
    for hi in h:
        wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        f = torch.tensor(hi, dtype=torch.float64) @ wt.T + torch.tensor(b, dtype=torch.float64)
        k = f.shape[0]
        loss = -(torch.log_softmax(f, 0) / k).sum()  # KL(u‖softmax) up to the constant −log K
        loss.backward()
        out.append(float(wt.grad.abs().sum()))
    return np.array(out)


def mahalanobis_pre(model, images, mean, prec, eps):
    std = torch.tensor(gen_torch.CIFAR_STD, dtype=torch.float32).view(1, 3, 1, 1)
    x = gen_torch.normalise(torch.from_numpy(images), gen_torch.CIFAR_MEAN, gen_torch.CIFAR_STD)
    x = x.clone().requires_grad_(True)
    h, _ = features(model, x)
    _, c = mahalanobis(h.detach().numpy().astype(np.float64), mean, prec)
    d = h.double() - torch.from_numpy(mean[c])
    (d @ torch.from_numpy(prec) * d).sum().backward()
    sign = torch.where(x.grad >= 0, 1.0, -1.0)
    xp = x.detach() - eps * sign / std
    with torch.no_grad():
        hp, _ = features(model, xp)
    return mahalanobis(hp.numpy().astype(np.float64), mean, prec)[0]


def main():
    torch.set_num_threads(2)
    model = gen_torch.load_pickled_model(os.path.join(SHARED, "models", "densenet10.pth"))
    train, ytrain = cifar(TRAIN, NTRAIN)
    test, _ = cifar(gen_torch.CIFAR_TEST, NCIFAR)
    noise_u8 = np.random.Generator(np.random.PCG64(7)).integers(0, 256, size=(NNOISE, 3, 32, 32), dtype=np.uint8)
    test = np.concatenate([test, noise_u8.astype(np.float32) / np.float32(255)])

    htr32, ftr = run(model, train)
    hte32, fte = run(model, test)
    htr16, hte16 = htr32.astype("<f2"), hte32.astype("<f2")
    w32 = model.fc.weight.detach().numpy().astype("<f4")
    b32 = model.fc.bias.detach().numpy().astype("<f4")

    htr16.tofile(os.path.join(HERE, "densenet10-train.f16"))
    hte16.tofile(os.path.join(HERE, "densenet10-test.f16"))
    np.concatenate([ftr.ravel(), fte.ravel()]).astype("<f4").tofile(os.path.join(HERE, "densenet10-logits.f32"))
    np.concatenate([w32.ravel(), b32]).astype("<f4").tofile(os.path.join(HERE, "densenet10-fc.f32"))
    noise_u8.tofile(os.path.join(HERE, "noise-images.u8"))

    htr, hte = htr16.astype(np.float64), hte16.astype(np.float64)
    ftr64, fte64 = ftr.astype(np.float64), fte.astype(np.float64)
    w, b = w32.astype(np.float64), b32.astype(np.float64)
    k = w.shape[0]

    mean, prec, cond = mahalanobis_stats(htr, ytrain, k)
    scores = {
        "mahalanobis": mahalanobis(hte, mean, prec)[0],
        "knn k=50": knn(htr, hte, 50),
        "knn k=1": knn(htr, hte, 1),
        "vim dim=171": vim(htr, ftr64, hte, fte64, w, b, 171),
        "vim dim=300": vim(htr, ftr64, hte, fte64, w, b, 300),
        "gradnorm": gradnorm(hte, w, b),
        "energy": logsumexp(fte64),
        "maxlogit": fte64.max(axis=1),
        "msp": 1 / np.exp(fte64 - fte64.max(axis=1, keepdims=True)).sum(axis=1),
        "mahalanobis_pre eps=0.0014": mahalanobis_pre(model, test, mean, prec, EPS_PRE),
    }
    thresholds = {}
    for p in (90, 80):
        scores["react p=%d" % p], thresholds["p=%d" % p] = react(htr, hte, w, b, p)

    fixture = {
        "generator": "ood/testdata/gen_fixture.py",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "network": "densenet10",
        "train": {"file": "cifar-10-batches-bin/data_batch_1.bin", "images": NTRAIN, "labels": ytrain.tolist()},
        "test": {"cifar_test_images": NCIFAR, "noise_images": NNOISE, "noise_file": "noise-images.u8"},
        "features": int(htr.shape[1]),
        "classes": k,
        "correlation_condition": float(cond),
        "react_thresholds": {key: float(v) for key, v in thresholds.items()},
        "scores": {key: [float(v) for v in s] for key, s in scores.items()},
    }
    with open(os.path.join(HERE, "densenet10-fixture.json"), "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print("correlation matrix condition number %.3g" % cond)
    for key, s in scores.items():
        print("%-28s in %9.4f  out %9.4f" % (key, s[:NCIFAR].mean(), s[NCIFAR:].mean()))


if __name__ == "__main__":
    main()
