"""Human label noise: the noisy labels a dataset was released with (CIFAR-10N, CIFAR-100N, Clothing1M,
WebVision, Food-101N, Animal-10N).

Nothing is drawn: the labels come from the dataset's files, read and checked by its reader, and the run
logs their realized rate and transition matrix against the clean labels like any other noise.
"""
from collections.abc import Mapping
from typing import Optional

import numpy as np

from noisyrobust.errors import UserError
from noisyrobust.noise.injectors import _check_labels, _check_num_classes

# Realized rates published with each released label set; the first set of a dataset is its default.
# CIFAR-N: Wei et al. 2022. Clothing1M: Xiao et al. 2015's estimate of 61.54% correct
# noisy labels (not from a paper). Only a small-loss method's default forget rate reads these; the run
# itself measures the rate from the files.
PUBLISHED_HUMAN_NOISE_RATES: dict[str, dict[str, float]] = {
    "cifar10n": {"aggre": 0.0901, "random1": 0.1723, "random2": 0.1812, "random3": 0.1764, "worse": 0.4021},
    "cifar100n": {"noisy": 0.4020},
    "clothing1m": {"noisy": 0.3846},
    # estimates from memory, not read in the papers: WebVision 1.0 about 20% (Li et al. 2017), Food-101N
    # about 20% (Lee et al. 2018), Animal-10N about 8% (Song et al. 2019)
    "webvision": {"noisy": 0.20},
    "food101n": {"noisy": 0.20},
    "animal10n": {"noisy": 0.08},
}


def published_human_noise_rate(dataset: str, label: Optional[str] = None) -> Optional[float]:
    """The published rate of ``dataset``'s released set ``label`` (None: its default set); None if unknown."""
    rates = PUBLISHED_HUMAN_NOISE_RATES.get(dataset, {})
    if label is None:
        return next(iter(rates.values()), None)
    return rates.get(label)


def human_noise(labels, *, num_classes, rng: np.random.Generator, human_labels: Mapping[str, np.ndarray],
                label: Optional[str] = None, rate=None) -> np.ndarray:
    """The released label set ``label`` of the dataset: y~ = human_labels[label] (a copy).

    Parameters
    ----------
    labels : array of int
        The clean training labels (-1 where unknown); only their number is used.
    human_labels : mapping of str to array
        The dataset's released noisy label sets, aligned with ``labels``, in the order the reader gives
        them (the first is the default); empty for a dataset without any.
    label : str, optional
        Which set: CIFAR-10N ``aggre``, ``random1``, ``random2``, ``random3``, ``worse``; CIFAR-100N and
        Clothing1M ``noisy``. None takes the dataset's first set.
    rng, rate
        Unused: nothing is drawn. ``rate`` is the published rate, kept in the config for the forget rate
        of small-loss methods.
    """
    c = _check_num_classes(num_classes)
    n = len(np.asarray(labels))
    if not human_labels:
        raise UserError("noise=human needs a dataset released with human noisy labels (data=cifar10n, cifar100n, "
                        "clothing1m, webvision, food101n or animal10n); this dataset has none: choose another noise")
    if label is None:
        label = next(iter(human_labels))
    if label not in human_labels:
        raise UserError(f"noise.label={label!r} is not a released label set of this dataset; "
                        f"choose from: {', '.join(human_labels)}")
    noisy = _check_labels(human_labels[label], c)
    assert len(noisy) == n, (len(noisy), n)  # readers align the sets with the training images
    return noisy
