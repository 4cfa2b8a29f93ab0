#!/usr/bin/python3
"""Writes sklearn.json: score sets with metrics computed by scikit-learn, for metrics tests.

Run from this folder with Debian's Python (python3-sklearn, python3-numpy):

    /usr/bin/python3 gen_sklearn.py > sklearn.json

"exact" cases give, for in-distribution positive ("in") and OOD positive ("out"):
roc_auc_score, average_precision_score of the positive and the negative class, FPR at the
first (highest-threshold) point of roc_curve(drop_intermediate=False) with TPR >= 0.95, and the
minimum of 0.5*(1-TPR) + 0.5*FPR over all points of that curve.

"reference" cases give the threshold-grid metrics of the paper's evaluation script, recomputed here
independently (vectorised with numpy.arange and searchsorted) to check the Go grid sweep: its
grid construction, its comparisons and its window. null stands for NaN.
"""

import json
import sys

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve


def curve_metrics(pos, neg):
    """Metrics with pos as the positive class, higher score = positive."""
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    s = np.concatenate([pos, neg])
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    return {
        "fpr95": float(fpr[np.nonzero(tpr >= 0.95)[0][0]]),
        "det_err": float(np.min(0.5 * (1 - tpr) + 0.5 * fpr)),
        "auroc": float(roc_auc_score(y, s)),
        "aupr_in": float(average_precision_score(y, s)),
        "aupr_out": float(average_precision_score(1 - y, -s)),
    }


def exact_case(name, ins, outs):
    ins, outs = np.asarray(ins, float), np.asarray(outs, float)
    return {
        "name": name,
        "in": ins.tolist(),
        "out": outs.tolist(),
        "in_positive": curve_metrics(ins, outs),
        "out_positive": curve_metrics(-outs, -ins),
    }


def nan_to_none(v):
    v = float(v)
    return None if np.isnan(v) else v


def grid_metrics(x, y, start, end, inclusive_auroc, steps=100000):
    """The reference's grid sweep, written from its description, vectorised."""
    xs, ys = np.sort(x), np.sort(y)
    nx, ny = float(len(x)), float(len(y))
    gap = (end - start) / steps
    up = np.arange(start, end, gap)
    x_ge = (len(xs) - np.searchsorted(xs, up, "left")) / nx
    x_lt = np.searchsorted(xs, up, "left") / nx
    y_gt = (len(ys) - np.searchsorted(ys, up, "right")) / ny
    y_ge = (len(ys) - np.searchsorted(ys, up, "left")) / ny

    window = (x_ge <= 0.9505) & (x_ge >= 0.9495)
    fpr95 = y_gt[window].mean() if window.any() else np.nan
    det = min(1.0, float(np.min((x_lt + y_gt) / 2.0)))

    fpr = y_ge if inclusive_auroc else y_gt
    prev = np.concatenate([[1.0], fpr[:-1]])
    auroc = np.sum((prev - fpr) * x_ge) + fpr[-1] * x_ge[-1]

    keep = (x_ge + y_ge) != 0
    tp, fp = x_ge[keep], y_ge[keep]
    if len(tp):
        p = tp / (tp + fp)
        prev = np.concatenate([[1.0], tp[:-1]])
        aupr_in = np.sum((prev - tp) * p) + tp[-1] * p[-1]
    else:
        aupr_in = np.nan

    down = np.arange(end, start, -gap)
    tp = np.searchsorted(ys, down, "left") / ny
    fp = np.searchsorted(xs, down, "left") / nx
    stop = np.nonzero((tp + fp) == 0)[0]
    n = stop[0] if len(stop) else len(down)
    tp, fp = tp[:n], fp[:n]
    if n:
        p = tp / (tp + fp)
        prev = np.concatenate([[1.0], tp[:-1]])
        aupr_out = np.sum((prev - tp) * p) + tp[-1] * p[-1]
    else:
        aupr_out = np.nan
    return {
        "grid_len": int(len(up)),
        "fpr95": nan_to_none(fpr95),
        "det_err": nan_to_none(det),
        "auroc": nan_to_none(auroc),
        "aupr_in": nan_to_none(aupr_in),
        "aupr_out": nan_to_none(aupr_out),
    }


def reference_case(name, ins, outs, start, end, inclusive_auroc):
    ins, outs = np.asarray(ins, float), np.asarray(outs, float)
    return {
        "name": name,
        "in": ins.tolist(),
        "out": outs.tolist(),
        "start": start,
        "end": end,
        "inclusive_auroc": inclusive_auroc,
        "want": grid_metrics(ins, outs, start, end, inclusive_auroc),
    }


def main():
    rng = np.random.default_rng(20180430)
    exact = [
        exact_case("small random", rng.normal(1, 1, 50), rng.normal(0, 1, 40)),
        exact_case("ties 1 decimal", np.round(rng.normal(0.5, 0.4, 300), 1), np.round(rng.normal(0, 0.4, 200), 1)),
        exact_case("ties 2 decimals", np.round(rng.uniform(0.3, 1, 400), 2), np.round(rng.uniform(0, 0.8, 400), 2)),
        exact_case("few in, many out", np.round(rng.normal(2, 1, 10), 4), np.round(rng.normal(0, 1, 3000), 4)),
        exact_case("many in, few out", np.round(rng.normal(1, 1, 3000), 4), np.round(rng.normal(0, 1, 10), 4)),
        exact_case("identical distributions", np.round(rng.normal(0, 1, 1000), 5), np.round(rng.normal(0, 1, 1000), 5)),
        exact_case("same values", [0.25, 0.5, 0.75] * 20, [0.25, 0.5, 0.75] * 30),
        exact_case("perfect separation", rng.uniform(0.6, 1, 100), rng.uniform(0, 0.4, 80)),
        exact_case("reversed", rng.uniform(0, 0.4, 100), rng.uniform(0.6, 1, 80)),
        exact_case("twenty in, TPR exactly 0.95", np.arange(20) / 20.0, np.arange(7) / 7.0),
        exact_case("saturated softmax", np.minimum(1.0, np.round(rng.uniform(0.5, 1.3, 500), 3)),
                   np.minimum(1.0, np.round(rng.uniform(0.1, 1.1, 500), 3))),
    ]
    # Softmax-like scores at T = 1000 (CIFAR-10: 0.1 + a little), spilling over both ends of the grid.
    # Rounding keeps the file small and puts some scores exactly on grid points.
    odin_in = np.round(0.1 + 0.02 * rng.beta(5, 2, 2000) + rng.normal(0, 0.001, 2000), 8)
    odin_out = np.round(0.1 + 0.02 * rng.beta(2, 4, 1500), 8)
    base_in = np.round(np.minimum(1.0, 0.1 + 0.9 * rng.beta(8, 1, 2000)), 6)
    base_out = np.round(0.1 + 0.9 * rng.beta(2, 2, 1500), 6)
    c100_in = np.round(0.01 + 0.0004 * rng.beta(4, 2, 2000), 10)
    c100_out = np.round(0.01 + 0.0004 * rng.beta(2, 3, 2000), 10)
    reference = [
        reference_case("odin cifar10", odin_in, odin_out, 0.1, 0.12, True),
        reference_case("baseline cifar10", base_in, base_out, 0.1, 1.0, False),
        reference_case("odin cifar100", c100_in, c100_out, 0.01, 0.0104, True),
        reference_case("window empty", odin_in[:7], odin_out[:5], 0.1, 0.12, True),
        reference_case("all above range", odin_in[:50] + 1, odin_out[:40] + 1, 0.1, 0.12, True),
        reference_case("all below range", odin_in[:50] - 1, odin_out[:40] - 1, 0.1, 0.12, True),
    ]
    json.dump({"exact": exact, "reference": reference}, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
