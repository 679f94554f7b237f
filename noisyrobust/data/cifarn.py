"""CIFAR-10N and CIFAR-100N (Wei et al. 2022): the CIFAR training images with human labels.

The label files ``CIFAR-10_human.pt`` (``clean_label``, ``aggre_label``, ``worse_label``,
``random_label1..3``) and ``CIFAR-100_human.pt`` (``clean_label``, ``noisy_label``, ``clean_coarse_label``,
``noisy_coarse_label``) hold one entry per training image in the official CIFAR order. They are checked
against the images: as many labels as images, and ``clean_label`` equal to the CIFAR labels — a copy of
CIFAR in any other order (or another file) is refused rather than paired with the wrong labels.
"""
import dataclasses
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from noisyrobust.data.cifar import load_cifar10, load_cifar100
from noisyrobust.data.download import ensure_files, one_line
from noisyrobust.data.files import first_few
from noisyrobust.data.imageset import ImageSet
from noisyrobust.errors import UserError

URL = "https://github.com/UCSC-REAL/cifar-10-100n/raw/main/data/{}"
# released label set (noise.label) -> its key in the file; the first is the default
CIFAR10N_SETS = {"aggre": "aggre_label", "random1": "random_label1", "random2": "random_label2",
                 "random3": "random_label3", "worse": "worse_label"}
CIFAR100N_SETS = {"noisy": "noisy_label"}


def _fetch(path: Path):
    """Download the label file into a temporary name and rename it: an interrupted download leaves nothing."""
    def fetch():
        from torchvision.datasets.utils import download_url
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".download-") as tmp:
            download_url(URL.format(path.name), tmp, filename=path.name)
            os.replace(Path(tmp) / path.name, path)
    return fetch


def _labels(obj: dict, key: str, path: Path, *, n: int, num_classes: int, dataset: str) -> np.ndarray:
    if key not in obj:
        raise UserError(f"{dataset} label file {path} has no {key!r} entry (has: {', '.join(map(str, obj))})")
    labels = np.asarray(obj[key].numpy() if isinstance(obj[key], torch.Tensor) else obj[key])
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise UserError(f"{dataset} label file {path}: {key!r} is {labels.dtype} of shape {labels.shape}, "
                        "expected integers (n,)")
    if len(labels) != n:
        raise UserError(f"{dataset} label file {path} holds {len(labels)} {key!r} but the CIFAR training set has "
                        f"{n} images: the file belongs to another copy of the data")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise UserError(f"{dataset} label file {path}: {key!r} holds {labels.min()}..{labels.max()}, expected "
                        f"0..{num_classes - 1}")
    return labels.astype(np.int64)


def _agree(labels: np.ndarray, expected: np.ndarray, key: str, path: Path, dataset: str) -> None:
    wrong = np.flatnonzero(labels != expected)
    if len(wrong):
        raise UserError(f"{dataset} label file {path}: {key!r} disagrees with the CIFAR training labels at "
                        f"{len(wrong)} of {len(labels)} images (first: {first_few([str(i) for i in wrong])}); "
                        "the file needs the official CIFAR training images in their official order")


def read_human_labels(path, sets: dict, *, images: ImageSet, num_classes: int, dataset: str,
                      download: bool = False) -> dict[str, np.ndarray]:
    """The released label sets ``{name: labels}`` of the file at ``path``, checked against ``images``.

    Loading runs pickled code from the file (``torch.load(weights_only=False)``, which these files
    need): read only label files you trust.
    """
    path = Path(path)
    ensure_files(path.parent, [path.name], dataset=dataset, download=download, fetch=_fetch(path))
    try:
        obj = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # noqa: BLE001 - a corrupt file can raise nearly anything
        raise UserError(f"cannot read {dataset} label file {path}: {one_line(error)}") from error
    if not isinstance(obj, dict):
        raise UserError(f"{dataset} label file {path} holds a {type(obj).__name__}, expected a dict")
    n = len(images.train_labels)
    read = lambda key, c=num_classes: _labels(obj, key, path, n=n, num_classes=c, dataset=dataset)  # noqa: E731
    _agree(read("clean_label"), images.train_labels.numpy(), "clean_label", path, dataset)
    if "clean_coarse_label" in obj and "train_coarse_labels" in images.extra:
        _agree(read("clean_coarse_label", 20), images.extra["train_coarse_labels"].numpy(), "clean_coarse_label",
               path, dataset)
    return {name: read(key) for name, key in sets.items()}


def load_cifar10n(root, *, label_file, download: bool = False) -> ImageSet:
    """CIFAR-10 from ``root`` (see ``load_cifar10``) with the CIFAR-10N label sets of ``label_file`` in
    ``extra['human_labels']`` (aggre, random1, random2, random3, worse)."""
    images = load_cifar10(root, download=download)
    human = read_human_labels(label_file, CIFAR10N_SETS, images=images, num_classes=10, dataset="CIFAR-10N",
                              download=download)
    return dataclasses.replace(images, extra={**images.extra, "human_labels": human})


def load_cifar100n(root, *, label_file, download: bool = False) -> ImageSet:
    """CIFAR-100 from ``root`` (see ``load_cifar100``) with CIFAR-100N's ``noisy`` fine labels of
    ``label_file`` in ``extra['human_labels']``."""
    images = load_cifar100(root, download=download)
    human = read_human_labels(label_file, CIFAR100N_SETS, images=images, num_classes=100, dataset="CIFAR-100N",
                              download=download)
    return dataclasses.replace(images, extra={**images.extra, "human_labels": human})
