"""Readers of the IDX format: MNIST and Fashion-MNIST in torchvision's on-disk layout."""
import gzip
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from noisyrobust.data.download import ensure_files, one_line
from noisyrobust.data.imageset import ImageSet
from noisyrobust.errors import UserError

FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
UBYTE = 0x08


def read_idx(path) -> np.ndarray:
    """Read an unsigned-byte IDX file (gzip-compressed if the name ends in ``.gz``).

    Parameters
    ----------
    path : str or Path
        The file, e.g. ``train-images-idx3-ubyte`` or ``t10k-labels-idx1-ubyte.gz``.

    Returns
    -------
    np.ndarray
        uint8 array shaped as the header says: (n, rows, cols) for images, (n,) for labels.
    """
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as error:
        raise UserError(f"cannot read IDX file {path}: {one_line(error)}") from error
    if len(raw) < 4 or raw[0:2] != b"\x00\x00":
        raise UserError(f"{path} is not an IDX file: magic {raw[:4].hex()!r}, expected 0000080N")
    if raw[2] != UBYTE:
        raise UserError(f"IDX file {path} has data type code 0x{raw[2]:02x}; only 0x08 (unsigned byte) is read")
    ndim, header = raw[3], 4 + 4 * raw[3]
    if ndim == 0 or len(raw) < header:
        raise UserError(f"IDX file {path} has a truncated or empty header ({ndim} dimensions, {len(raw)} bytes)")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) - header != int(np.prod(dims)):
        raise UserError(f"IDX file {path} has {len(raw) - header} data bytes but its header "
                        f"{dims} says {int(np.prod(dims))} (truncated or corrupt)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def _path(raw_dir: Path, name: str) -> Path:
    plain = raw_dir / name
    return plain if plain.is_file() else raw_dir / (name + ".gz")


def _split(raw_dir: Path, prefix: str) -> tuple[torch.Tensor, torch.Tensor]:
    image_path = _path(raw_dir, f"{prefix}-images-idx3-ubyte")
    label_path = _path(raw_dir, f"{prefix}-labels-idx1-ubyte")
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise UserError(f"{image_path} holds images of shape {images.shape}, expected (n, 28, 28)")
    if labels.ndim != 1:
        raise UserError(f"{label_path} holds labels of shape {labels.shape}, expected (n,)")
    if len(images) == 0:
        raise UserError(f"{image_path} holds no images")
    if len(labels) != len(images):
        raise UserError(f"{label_path} holds {len(labels)} labels but {image_path} holds {len(images)} images")
    if labels.max() > 9:
        raise UserError(f"{label_path} holds label {labels.max()}, expected 0..9")
    return torch.from_numpy(images[:, None]), torch.from_numpy(labels.astype(np.int64))


def _load(root, *, folder: str, dataset: str, classes: tuple, download: bool) -> ImageSet:
    raw_dir = Path(root) / folder / "raw"

    def fetch():
        import torchvision.datasets
        getattr(torchvision.datasets, folder)(str(root), train=True, download=True)

    ensure_files(raw_dir, FILES, dataset=dataset, download=download, fetch=fetch, suffixes=("", ".gz"))
    train_images, train_labels = _split(raw_dir, "train")
    test_images, test_labels = _split(raw_dir, "t10k")
    return ImageSet(train_images, train_labels, test_images, test_labels, classes)


def load_mnist(root, *, download: bool = False) -> ImageSet:
    """Load MNIST from ``root/MNIST/raw/`` (torchvision's layout; files plain or ``.gz``).

    Parameters
    ----------
    root : str or Path
        Data root.
    download : bool
        Fetch the files with torchvision if they are missing.
    """
    return _load(root, folder="MNIST", dataset="MNIST", classes=MNIST_CLASSES, download=download)


def load_fashion_mnist(root, *, download: bool = False) -> ImageSet:
    """Load Fashion-MNIST from ``root/FashionMNIST/raw/`` (files plain or ``.gz``).

    Parameters
    ----------
    root : str or Path
        Data root.
    download : bool
        Fetch the files with torchvision if they are missing.
    """
    return _load(root, folder="FashionMNIST", dataset="Fashion-MNIST",
                 classes=FASHION_MNIST_CLASSES, download=download)
