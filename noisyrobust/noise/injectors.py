"""Label-noise injectors: pure functions of the clean labels and a NumPy Generator.

Every injector returns a new int64 array and draws all flips from the clean labels at once.
"""

import math

import numpy as np

from noisyrobust.errors import UserError
from noisyrobust.noise.class_maps import CLASS_MAPS, DATASET_NUM_CLASSES


def _check_num_classes(num_classes) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise UserError(f"num_classes {num_classes!r} is not allowed; it must be an integer >= 2")
    return int(num_classes)


def _check_labels(labels, num_classes: int) -> np.ndarray:
    """Validate labels (1-D integers in [0, num_classes)) and return them as a new int64 array."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise UserError(f"labels of shape {arr.shape} and dtype {arr.dtype} are not allowed; "
                        "they must be a 1-D integer array")
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        bad = arr.min() if arr.min() < 0 else arr.max()
        raise UserError(f"label {int(bad)} is outside [0, {num_classes}) for num_classes {num_classes}")
    return arr.astype(np.int64, copy=True)


def _check_rate(rate) -> float:
    try:
        r = float(rate)
    except (TypeError, ValueError):
        raise UserError(f"noise rate {rate!r} is not a number in [0, 1]") from None
    if not 0.0 <= r <= 1.0:  # also rejects nan
        raise UserError(f"noise rate {rate} is outside [0, 1]")
    return r


def _prepare(labels, rate, num_classes):
    c = _check_num_classes(num_classes)
    return _check_labels(labels, c), _check_rate(rate), c


def no_noise(labels, *, num_classes, rng: np.random.Generator, rate=0.0) -> np.ndarray:
    """Clean labels: y~ = y (a copy); ``rate`` must be 0."""
    y, r, _ = _prepare(labels, rate, num_classes)
    if r != 0.0:
        raise UserError(f"noise rate {rate} is not allowed for no noise; it must be 0")
    return y


def symmetric_noise(labels, *, rate, num_classes, rng: np.random.Generator) -> np.ndarray:
    """Symmetric noise: with prob. r, y~ is uniform over the C-1 other classes; realized rate r.

    P(y~=j | y=i) = 1-r if j = i else r/(C-1) (Han et al. 2018, Co-teaching; Wang et al. 2019, SCE).
    """
    y, r, c = _prepare(labels, rate, num_classes)
    flip = rng.random(y.size) < r
    offset = rng.integers(1, c, size=y.size)  # 1..C-1: never the true class
    return np.where(flip, (y + offset) % c, y)


def uniform_noise(labels, *, rate, num_classes, rng: np.random.Generator) -> np.ndarray:
    """Uniform noise: with prob. r, y~ is redrawn uniformly from all C classes; realized rate r(C-1)/C.

    P(y~=j | y=i) = 1-r+r/C if j = i else r/C (Zhang et al. 2017; Mindermann et al. 2022, RHO-LOSS).
    """
    y, r, c = _prepare(labels, rate, num_classes)
    flip = rng.random(y.size) < r
    redraw = rng.integers(0, c, size=y.size)
    return np.where(flip, redraw, y)


def pairflip_noise(labels, *, rate, num_classes, rng: np.random.Generator) -> np.ndarray:
    """Pair-flip noise: with prob. r, y~ = (y+1) mod C (Han et al. 2018, Co-teaching)."""
    y, r, c = _prepare(labels, rate, num_classes)
    flip = rng.random(y.size) < r
    return np.where(flip, (y + 1) % c, y)


def asymmetric_noise(labels, *, rate, num_classes, rng: np.random.Generator, dataset: str) -> np.ndarray:
    """Asymmetric noise: with prob. r, a mapped class i becomes map[i]; others stay (Patrini et al. 2017)."""
    if dataset not in CLASS_MAPS:
        raise UserError(f"asymmetric noise has no class map for dataset {dataset!r}; "
                        f"maps exist for: {', '.join(sorted(CLASS_MAPS))}")
    y, r, c = _prepare(labels, rate, num_classes)
    if c != DATASET_NUM_CLASSES[dataset]:
        raise UserError(f"num_classes {c} does not match dataset {dataset!r}, "
                        f"whose class map needs num_classes {DATASET_NUM_CLASSES[dataset]}")
    target = np.arange(c, dtype=np.int64)
    for src, dst in CLASS_MAPS[dataset].items():
        target[src] = dst
    flip = rng.random(y.size) < r
    return np.where(flip, target[y], y)  # target of the clean label: flips never compound


def _truncated_normal(mean: float, std: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """N(mean, std^2) truncated to [0, 1], by redrawing out-of-range values."""
    q = rng.normal(mean, std, size)
    bad = (q < 0.0) | (q > 1.0)
    while bad.any():
        q[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (q < 0.0) | (q > 1.0)
    return q


def instance_noise(labels, *, rate, num_classes, rng: np.random.Generator, features, std=0.1) -> np.ndarray:
    """Instance-dependent noise (Xia et al. 2020, "Part-dependent label noise", NeurIPS).

    q_i ~ N(r, std^2) truncated to [0, 1]; W ~ N(0, 1) of shape (C, D, C);
    p = x_i W[y_i]; p[y_i] = -inf; p = q_i softmax(p); p[y_i] += 1 - q_i; y~_i ~ p.
    """
    y, r, c = _prepare(labels, rate, num_classes)
    x = np.asarray(features)
    if x.ndim != 2 or x.shape[0] != y.size or not np.issubdtype(x.dtype, np.number):
        raise UserError(f"features of shape {x.shape} are not allowed; they must be a numeric (N, D) "
                        f"array with N = {y.size} labels")
    if not np.isfinite(x).all():
        raise UserError("features contain nan or inf; they must all be finite")
    s = float(std)
    if not (math.isfinite(s) and s >= 0.0):
        raise UserError(f"instance noise std {std} is not allowed; it must be finite and >= 0")
    q = _truncated_normal(r, s, y.size, rng)
    u = rng.random(y.size)
    noisy = y.copy()
    for k in range(c):  # W[k] ~ N(0, 1) of shape (D, C), drawn one class at a time to bound memory
        w_k = rng.standard_normal((x.shape[1], c))
        idx = np.flatnonzero(y == k)
        if idx.size == 0:
            continue
        logits = x[idx].astype(np.float64) @ w_k
        logits[:, k] = -np.inf
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        p = q[idx, None] * (e / e.sum(axis=1, keepdims=True))
        p[:, k] += 1.0 - q[idx]
        cdf = np.cumsum(p, axis=1)
        # first class whose cumulative probability exceeds u (scaled by the row total against rounding)
        drawn = (cdf <= u[idx, None] * cdf[:, -1:]).sum(axis=1)
        noisy[idx] = np.minimum(drawn, c - 1)
    return noisy
