"""Readers of the official CIFAR-10 and CIFAR-100 python pickles (format checked, never MD5)."""
import pickle
from pathlib import Path

import numpy as np
import torch

from noisyrobust.data.download import ensure_files, one_line
from noisyrobust.data.imageset import ImageSet
from noisyrobust.errors import UserError

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
CIFAR100_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"
CIFAR10_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


def _unpickle(path: Path) -> dict:
    """Load one pickled batch (a dict); keys come back as str whether stored as str or bytes.

    Unpickling runs code from the file: read only CIFAR files you trust, as torchvision does.
    """
    try:
        with open(path, "rb") as f:
            obj = pickle.load(f, encoding="bytes")
    except Exception as error:  # a corrupt pickle can raise nearly anything
        raise UserError(f"cannot read CIFAR file {path}: {one_line(error)}") from error
    if not isinstance(obj, dict):
        raise UserError(f"CIFAR file {path} holds a {type(obj).__name__}, expected a dict")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _entry(batch: dict, key: str, path: Path):
    if key not in batch:
        raise UserError(f"CIFAR file {path} has no {key!r} entry (has: {', '.join(map(str, batch))})")
    return batch[key]


def _labels(batch: dict, key: str, path: Path, *, n: int, num_classes: int) -> np.ndarray:
    labels = np.asarray(_entry(batch, key, path))
    if labels.size == 0:
        labels = labels.astype(np.int64)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise UserError(f"CIFAR file {path}: {key!r} is {labels.dtype} of shape {labels.shape}, expected integers (n,)")
    if len(labels) != n:
        raise UserError(f"CIFAR file {path} holds {n} images but {len(labels)} {key!r}")
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        raise UserError(f"CIFAR file {path}: {key!r} holds {labels.min()}..{labels.max()}, "
                        f"expected 0..{num_classes - 1}")
    return labels.astype(np.int64)


def _batch(path: Path, label_keys: dict[str, int]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Read one batch: images (n, 3, 32, 32) uint8 and each requested label array (n,) int64."""
    batch = _unpickle(path)
    data = _entry(batch, "data", path)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        shape = getattr(data, "shape", None)
        raise UserError(f"CIFAR file {path}: 'data' is {getattr(data, 'dtype', type(data).__name__)} "
                        f"of shape {shape}, expected uint8 (n, 3072)")
    labels = {k: _labels(batch, k, path, n=len(data), num_classes=c) for k, c in label_keys.items()}
    # rows are channel-major: [R plane | G plane | B plane], each 32x32 row-major
    return data.reshape(len(data), 3, 32, 32), labels


def _read(paths: list[Path], label_keys: dict[str, int]):
    parts = [_batch(p, label_keys) for p in paths]
    images = np.concatenate([images for images, _ in parts])
    if len(images) == 0:
        raise UserError(f"CIFAR files {', '.join(map(str, paths))} hold no images")
    labels = {k: np.concatenate([lab[k] for _, lab in parts]) for k in label_keys}
    return torch.from_numpy(images), {k: torch.from_numpy(v) for k, v in labels.items()}


def _names(path: Path, key: str, count: int) -> tuple[str, ...]:
    names = list(_entry(_unpickle(path), key, path))
    if len(names) != count:
        raise UserError(f"CIFAR file {path}: {key!r} has {len(names)} names, expected {count}")
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def _fetch(root, url: str, md5: str):
    def fetch():
        from torchvision.datasets.utils import download_and_extract_archive
        download_and_extract_archive(url, download_root=str(root), md5=md5)
    return fetch


def load_cifar10(root, *, download: bool = False) -> ImageSet:
    """Load CIFAR-10 from ``root/cifar-10-batches-py/`` (official pickle batches).

    Parameters
    ----------
    root : str or Path
        Data root.
    download : bool
        Fetch the official archive with torchvision if files are missing.
    """
    directory = Path(root) / "cifar-10-batches-py"
    files = CIFAR10_TRAIN + ["test_batch", "batches.meta"]
    ensure_files(directory, files, dataset="CIFAR-10", download=download,
                 fetch=_fetch(root, CIFAR10_URL, CIFAR10_MD5))
    keys = {"labels": 10}
    train_images, train = _read([directory / f for f in CIFAR10_TRAIN], keys)
    test_images, test = _read([directory / "test_batch"], keys)
    classes = _names(directory / "batches.meta", "label_names", 10)
    return ImageSet(train_images, train["labels"], test_images, test["labels"], classes)


def load_cifar100(root, *, download: bool = False) -> ImageSet:
    """Load CIFAR-100 from ``root/cifar-100-python/`` (fine labels; coarse ones in ``extra``).

    ``extra`` holds ``train_coarse_labels``, ``test_coarse_labels`` (int64, 0..19) and
    ``coarse_classes`` (the 20 superclass names).

    Parameters
    ----------
    root : str or Path
        Data root.
    download : bool
        Fetch the official archive with torchvision if files are missing.
    """
    directory = Path(root) / "cifar-100-python"
    ensure_files(directory, ["train", "test", "meta"], dataset="CIFAR-100", download=download,
                 fetch=_fetch(root, CIFAR100_URL, CIFAR100_MD5))
    keys = {"fine_labels": 100, "coarse_labels": 20}
    train_images, train = _read([directory / "train"], keys)
    test_images, test = _read([directory / "test"], keys)
    classes = _names(directory / "meta", "fine_label_names", 100)
    extra = {"train_coarse_labels": train["coarse_labels"], "test_coarse_labels": test["coarse_labels"],
             "coarse_classes": _names(directory / "meta", "coarse_label_names", 20)}
    return ImageSet(train_images, train["fine_labels"], test_images, test["fine_labels"], classes, extra)
