"""Image datasets too large for memory: lists of image files, their check before training, and their
decoding + transform in DataLoader worker processes."""
import dataclasses
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms.v2 import functional as F

from noisyrobust.data.download import one_line
from noisyrobust.errors import UserError

SHOWN = 5  # an error names this many bad entries, then says how many there are


def first_few(items: Sequence[str], *, shown: int = SHOWN) -> str:
    """``'a, b, c'`` or ``'a, b, c, ... (17 in all)'``: what an error shows of a long list."""
    head = ", ".join(items[:shown])
    return head if len(items) <= shown else f"{head}, ... ({len(items)} in all)"


def as_paths(paths) -> np.ndarray:
    """File paths as a NumPy bytes array. A list of a million Python strings would be copied page by page
    into every DataLoader worker as their reference counts change; one array is shared as it is."""
    return np.asarray([os.fsencode(p) for p in paths], dtype=np.bytes_) if len(paths) else np.zeros(0, "S1")


@dataclass(frozen=True)
class FileSet:
    """Image files and their labels as a reader found them; images are decoded later, batch by batch.

    Attributes
    ----------
    root : Path
        Paths are relative to it (an absolute path stays absolute).
    classes : tuple of str
        Class names in label order.
    train_paths, train_labels : np.ndarray
        Training images (bytes, see ``as_paths``) and their *clean* labels (int64): -1
        (``noisyrobust.noise.UNKNOWN``) where no one knows it (most of Clothing1M).
    test_paths, test_labels : np.ndarray or None
        The clean test set; None when the dataset has none (the datamodule then holds out a share of train).
    val_paths, val_labels : np.ndarray or None
        A clean validation set (Clothing1M); None: validation is a share of the noisy training set.
    human_labels : dict of str to np.ndarray
        Noisy label sets released with the training images, aligned with ``train_paths``; the first is
        the dataset's default (``noise=human``).
    reference_labels : tuple of np.ndarray or None
        (clean, noisy) labels of every image the release labels both ways, in the training set or not:
        where the training set's own clean labels are unknown, its noise can be measured only there.
    reference_rate : float or None
        The noise rate the release measures otherwise (Food-101N: the share of its human-verified images
        whose label was judged wrong), where no image has both labels.
    more_tests : dict of str to (np.ndarray, np.ndarray)
        Further clean test sets ``{name: (paths, labels)}``, scored beside ``test`` under their own name
        (WebVision's ``test_imagenet``: the ILSVRC 2012 validation images of its classes).
    """

    root: Path
    classes: tuple[str, ...]
    train_paths: np.ndarray
    train_labels: np.ndarray
    test_paths: Optional[np.ndarray] = None
    test_labels: Optional[np.ndarray] = None
    val_paths: Optional[np.ndarray] = None
    val_labels: Optional[np.ndarray] = None
    human_labels: dict = field(default_factory=dict)
    reference_labels: Optional[tuple] = None
    reference_rate: Optional[float] = None
    more_tests: dict = field(default_factory=dict)

    def __post_init__(self):
        for split in self.splits():
            paths, labels = self.paths(split), self.labels(split)
            assert paths.dtype.kind == "S" and labels.dtype == np.int64 and paths.shape == labels.shape, split
        assert all(len(v) == len(self.train_paths) for v in self.human_labels.values())
        assert not {"train", "val", "test"} & set(self.more_tests)

    def splits(self) -> list[str]:
        """The splits present: ``train``, then ``val``, ``test`` where given, then the further test sets."""
        return ["train"] + [s for s in ("val", "test") if getattr(self, f"{s}_paths") is not None] + [*self.more_tests]

    def paths(self, split: str) -> np.ndarray:
        return self.more_tests[split][0] if split in self.more_tests else getattr(self, f"{split}_paths")

    def labels(self, split: str) -> np.ndarray:
        return self.more_tests[split][1] if split in self.more_tests else getattr(self, f"{split}_labels")

    def path(self, split: str, i: int) -> str:
        return os.path.join(self.root, os.fsdecode(self.paths(split)[i]))

    def without(self, drop: dict) -> "FileSet":
        """A copy without the positions ``drop[split]`` (arrays of int) of each split."""
        changes, more = {}, dict(self.more_tests)
        for split, positions in drop.items():
            keep = np.ones(len(self.paths(split)), dtype=bool)
            keep[positions] = False
            if split in more:
                more[split] = (self.paths(split)[keep], self.labels(split)[keep])
                continue
            changes[f"{split}_paths"] = self.paths(split)[keep]
            changes[f"{split}_labels"] = self.labels(split)[keep]
            if split == "train":
                changes["human_labels"] = {k: v[keep] for k, v in self.human_labels.items()}
        return dataclasses.replace(self, **changes, more_tests=more)


# -- the check before training ------------------------------------------------------------------------
def image_problem(path: str, decode: bool) -> Optional[str]:
    """Why the image file at ``path`` cannot be used ('missing', 'cannot be decoded (...)'), or None.

    ``decode`` decodes it fully: a JPEG at its smallest DCT scale (PIL ``draft``), which still reads every
    byte of the file — a truncated file fails — at a fraction of the cost of a full-size decode.
    """
    if not decode:
        return None if os.path.isfile(path) else "missing"
    try:
        with Image.open(path) as image:
            image.draft("RGB", (16, 16))
            image.load()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return "missing"
    except Exception as error:  # noqa: BLE001 - PIL raises many types for a bad file
        return f"cannot be decoded ({one_line(error, limit=120)})"
    return None


def _problems(root: str, paths: np.ndarray, decode: bool) -> list:
    return [(i, p) for i, raw in enumerate(paths)
            if (p := image_problem(os.path.join(root, os.fsdecode(raw)), decode)) is not None]


def find_bad_images(root, paths: np.ndarray, *, decode: bool, workers: int, chunk: int = 4096) -> list:
    """[(position, problem)] of the images ``paths`` (under ``root``) that are missing or, with ``decode``,
    cannot be decoded; checked in ``workers`` processes (0: in this one), in order."""
    root = str(root)
    if workers <= 0 or len(paths) <= chunk:
        return _problems(root, paths, decode)
    starts = range(0, len(paths), chunk)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = pool.map(_problems, [root] * len(starts), [paths[s:s + chunk] for s in starts],
                         [decode] * len(starts))
        return [(s + i, p) for s, part in zip(starts, parts) for i, p in part]


# -- decoding and transforms, in the DataLoader workers -------------------------------------------------
class ImageTransform:
    """PIL image -> resize (shorter side to ``resize``) -> ``crop`` x ``crop`` crop -> float in [0, 1] ->
    (x - mean) / std, as torchvision's Resize, RandomCrop / CenterCrop, RandomHorizontalFlip, ToImage,
    ToDtype(scale=True) and Normalize.

    Given a ``seed``, the crop is random and the image is flipped with probability 1/2, drawn from a
    generator seeded by it; without one the crop is central. The transform classes would draw from each
    worker's global RNG, making the augmentation depend on the number of workers and on a resume; the
    samplers hand every draw its own seed instead.
    """

    def __init__(self, *, resize: int, crop: int, mean: Sequence[float], std: Sequence[float], flip: bool = True):
        self.resize, self.crop, self.flip = resize, crop, flip
        self.mean, self.std = list(mean), list(std)

    def __call__(self, image: Image.Image, seed: Optional[int] = None) -> torch.Tensor:
        image = F.resize(image, [self.resize], antialias=True)
        if seed is None:
            image = F.center_crop(image, [self.crop])
        else:
            g = torch.Generator().manual_seed(seed)
            h, w = F.get_size(image)
            top = int(torch.randint(0, h - self.crop + 1, (1,), generator=g))
            left = int(torch.randint(0, w - self.crop + 1, (1,), generator=g))
            image = F.crop(image, top, left, self.crop, self.crop)
            if self.flip and float(torch.rand(1, generator=g)) < 0.5:
                image = F.horizontal_flip(image)
        x = F.to_dtype(F.pil_to_tensor(image), torch.float32, scale=True)
        return F.normalize(x, self.mean, self.std)


def load_rgb(path: str) -> Image.Image:
    """Decode the image at ``path`` as RGB; a file that cannot be read is a UserError naming it."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except Exception as error:  # noqa: BLE001
        raise UserError(f"image {path} cannot be read ({one_line(error, limit=120)}); data.verify_images=true "
                        "finds every such image before training, data.skip_bad_images=true leaves them out") from error


class ViewsTransform:
    """Several draws of ``transform`` on one image (DivideMix's two views): a tuple, the k-th view seeded by
    the sample's seed and k."""

    def __init__(self, transform: ImageTransform, views: int):
        self.transform, self.views = transform, views

    def __call__(self, image: Image.Image, seed: Optional[int] = None):
        return tuple(self.transform(image, None if seed is None else seed * self.views + k) for k in range(self.views))


class ImageFileDataset(Dataset):
    """``dataset[i]`` or ``dataset[(i, seed)]`` -> (image tensor, label, i): the i-th file decoded in the
    worker, transformed (randomly when a seed comes with it), with its label and its index."""

    def __init__(self, root, paths: np.ndarray, labels: np.ndarray, transform: ImageTransform):
        assert len(paths) == len(labels)
        self.root, self.paths, self.labels, self.transform = str(root), paths, labels, transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, item):
        i, seed = item if isinstance(item, tuple) else (item, None)
        image = load_rgb(os.path.join(self.root, os.fsdecode(self.paths[i])))
        return self.transform(image, seed), int(self.labels[i]), int(i)
