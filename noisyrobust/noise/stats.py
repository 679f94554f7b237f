"""Realized-noise statistics and the run's `noisy_labels.npz` file."""

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from noisyrobust.errors import UserError
from noisyrobust.files import atomic_write
from noisyrobust.noise.injectors import _check_labels, _check_num_classes

_KEYS = ("clean", "noisy", "transition_matrix")

# A clean label no one knows (Clothing1M: most of its noisy training images were never checked by hand).
# Such samples carry UNKNOWN as their clean label and are left out of every realized-noise statistic.
UNKNOWN = -1


def _pair(clean, noisy) -> tuple[np.ndarray, np.ndarray]:
    clean, noisy = np.asarray(clean), np.asarray(noisy)
    if clean.shape != noisy.shape:
        raise UserError(f"noisy labels of shape {noisy.shape} do not match clean labels of shape {clean.shape}")
    return clean, noisy


def _known(clean: np.ndarray, noisy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    known = clean != UNKNOWN
    return (clean, noisy) if known.all() else (clean[known], noisy[known])


def transition_matrix(clean, noisy, *, num_classes) -> np.ndarray:
    """Empirical T[i, j] = #{y = i, y~ = j} / #{y = i} (C x C float64; rows without samples are 0),
    over the samples whose clean label is known (not UNKNOWN)."""
    c = _check_num_classes(num_classes)
    clean, noisy = _known(*_pair(clean, noisy))
    y, yn = _check_labels(clean, c), _check_labels(noisy, c)
    counts = np.bincount(y * c + yn, minlength=c * c).reshape(c, c).astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def noise_rate(clean, noisy) -> float:
    """Realized noise rate: share of samples with y~ != y among those whose clean label is known
    (0.0 for no samples; nan when there are samples but no clean label is known)."""
    clean, noisy = _pair(clean, noisy)
    if not clean.size:
        return 0.0
    clean, noisy = _known(clean, noisy)
    return float(np.mean(clean != noisy)) if clean.size else float("nan")


def labels_checksum(labels) -> str:
    """First 16 hex characters of the SHA-256 of the labels as int64 little-endian bytes."""
    data = np.ascontiguousarray(np.asarray(labels), dtype="<i8").tobytes()
    return hashlib.sha256(data).hexdigest()[:16]


def save_noisy_labels(path, *, clean, noisy, num_classes, given=None, dropped=None) -> None:
    """Write `clean`, `noisy` and their `transition_matrix` to an .npz at ``path``, atomically. A run trained
    on a review (data.review_file) also keeps the labels it was `given` before it and the `dropped` mask;
    `noisy` then holds the labels trained on."""
    path = Path(path)
    matrix = transition_matrix(clean, noisy, num_classes=num_classes)
    extra = {} if given is None else {"given": np.asarray(given, dtype=np.int64), "dropped": np.asarray(dropped, bool)}
    with atomic_write(path) as f:
        np.savez(f, clean=np.asarray(clean, dtype=np.int64), noisy=np.asarray(noisy, dtype=np.int64),
                 transition_matrix=matrix, **extra)


def load_noisy_labels(path) -> dict[str, np.ndarray]:
    """Read a file written by `save_noisy_labels`: {'clean', 'noisy', 'transition_matrix'} arrays."""
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise UserError(f"noisy-label file {str(path)!r} does not exist; it must be an .npz written "
                        "by save_noisy_labels") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:  # truncated, or not an .npz at all
        raise UserError(f"noisy-label file {str(path)!r} is not a readable .npz ({type(e).__name__}: "
                        f"{' '.join(str(e).split())[:120]}); it must be written by save_noisy_labels") from None
    missing = [k for k in _KEYS if k not in data]
    if missing:
        raise UserError(f"noisy-label file {str(path)!r} lacks keys {missing}; it must hold "
                        f"{', '.join(_KEYS)}")
    return data
