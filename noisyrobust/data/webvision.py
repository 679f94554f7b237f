"""Reader of WebVision 1.0 (Li et al. 2017) and the ILSVRC 2012 validation images of its classes.

The release (https://data.vision.ee.ethz.ch/cvl/webvision/download.html, "resized images", 256 px on the
shorter side) unpacks to one folder holding
- ``info/train_filelist_google.txt``: lines ``google/q0001/<name>.jpg LABEL`` (LABEL in 0..999, the
  1,000 ILSVRC 2012 synsets in sorted order), paths relative to the folder;
- ``info/val_filelist.txt``: lines ``val000001.jpg LABEL``, the images under ``val_images_256/``;
- ``info/synsets.txt`` (optional here): the class names, one synset a line, in label order;
- ``google/`` (and ``flickr/``, which the papers' "Google subset" leaves out).
Papers on label noise train on the first ``num_classes`` classes of the Google subset (DivideMix and
ELR+: 50, "mini WebVision") and test on WebVision's validation images of those classes and on ILSVRC
2012's. The ILSVRC 2012 validation images are read, as the papers' loaders read them, from either
- ``imagenet/imagenet_val.txt`` (lines ``<name>.JPEG LABEL``, WebVision's label order) with the images in
  ``imagenet/val/`` (ELR+'s layout), or
- ``imagenet/val/<label>/*.JPEG``, one folder per class index (DivideMix's layout).
"""
import os
from pathlib import Path

import numpy as np

from noisyrobust.data.files import FileSet, as_paths, first_few
from noisyrobust.errors import UserError
from noisyrobust.noise import UNKNOWN

ALL_CLASSES = 1000
TRAIN_LIST, VAL_LIST = "info/train_filelist_google.txt", "info/val_filelist.txt"
VAL_FOLDER = "val_images_256"
WEBVISION_URL = "https://data.vision.ee.ethz.ch/cvl/webvision/download.html"
IMAGENET_URL = "https://image-net.org/challenges/LSVRC/2012/ (ILSVRC2012_img_val.tar)"


def read_filelist(path: Path, *, num_classes: int) -> tuple[list[str], np.ndarray]:
    """(paths, labels) of the lines ``PATH LABEL`` of ``path`` whose label is below ``num_classes``;
    malformed lines and labels outside 0..999 are a UserError naming the first few."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read WebVision file {path}: {error}") from error
    paths, labels, bad = [], [], []
    for n, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) >= ALL_CLASSES:
            bad.append(f"line {n}: {line[:60]!r}")
        elif int(parts[1]) < num_classes:
            paths.append(parts[0])
            labels.append(int(parts[1]))
    if bad:
        raise UserError(f"WebVision file {path}: {len(bad)} lines are not 'PATH LABEL' with LABEL in "
                        f"0..{ALL_CLASSES - 1}: {first_few(bad)}")
    return paths, np.array(labels, dtype=np.int64)


def _imagenet(folder: Path, num_classes: int) -> tuple[list[str], np.ndarray]:
    """The ILSVRC 2012 validation images of the first ``num_classes`` classes, absolute paths."""
    listed = folder / "imagenet_val.txt"
    if listed.is_file():
        names, labels = read_filelist(listed, num_classes=num_classes)
        return [str(folder / "val" / name) for name in names], labels
    missing = [str(folder / "val" / str(c)) for c in range(num_classes) if not (folder / "val" / str(c)).is_dir()]
    if missing:
        raise UserError(f"ILSVRC 2012 validation images missing: neither {listed} nor the class folders "
                        f"{first_few(missing)}; download ILSVRC2012_img_val.tar from {IMAGENET_URL}, sort its images "
                        "into val/<class index>/ (WebVision's label order) or list them in imagenet_val.txt, and set "
                        "data.reader.imagenet_root to that folder")
    paths, labels = [], []
    for c in range(num_classes):
        found = sorted(e.path for e in os.scandir(folder / "val" / str(c)) if e.is_file())
        paths += found
        labels += [c] * len(found)
    return paths, np.array(labels, dtype=np.int64)


def _classes_present(labels: np.ndarray, num_classes: int, where: Path) -> None:
    empty = sorted(set(range(num_classes)) - set(labels.tolist()))
    if empty:
        raise UserError(f"{where} has no image of {len(empty)} of the first {num_classes} classes: "
                        f"{first_few([str(c) for c in empty])}")


def _class_names(root: Path, num_classes: int) -> tuple[str, ...]:
    """The synsets of ``info/synsets.txt`` (lines ``n01440764 tench, Tinca tinca``), else the label numbers."""
    path = root / "info" / "synsets.txt"
    if not path.is_file():
        return tuple(str(c) for c in range(num_classes))
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(names) < num_classes:
        raise UserError(f"WebVision file {path} names {len(names)} classes, fewer than data.num_classes={num_classes}")
    return tuple(names[:num_classes])


def load_webvision(root, *, num_classes: int = 50, imagenet_root=None) -> FileSet:
    """Read WebVision 1.0's Google subset and validation set in ``root`` (see the module docstring), the
    first ``num_classes`` classes, and the ILSVRC 2012 validation images of those classes in
    ``imagenet_root`` (default ``root/imagenet``) as the further test set ``test_imagenet``.

    The Google subset's labels are the search queries' (noisy; noise=human's ``noisy`` set); no clean label
    of a training image is known.
    """
    if not 1 <= num_classes <= ALL_CLASSES:
        raise UserError(f"data.num_classes={num_classes} is outside 1..{ALL_CLASSES} (WebVision's classes)")
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"WebVision folder {root} does not exist; set data.root to the unpacked WebVision 1.0 "
                        f"release (resized images, from {WEBVISION_URL})")
    for name in (TRAIN_LIST, VAL_LIST):
        if not (root / name).is_file():
            raise UserError(f"WebVision file {root / name} is missing; it comes with the release's info/ folder "
                            f"(info.tar, from {WEBVISION_URL})")
    train, noisy = read_filelist(root / TRAIN_LIST, num_classes=num_classes)
    val, val_labels = read_filelist(root / VAL_LIST, num_classes=num_classes)
    _classes_present(noisy, num_classes, root / TRAIN_LIST)
    imagenet = Path(imagenet_root) if imagenet_root is not None else root / "imagenet"
    imagenet_paths, imagenet_labels = _imagenet(imagenet, num_classes)
    return FileSet(root=root, classes=_class_names(root, num_classes), train_paths=as_paths(train),
                   train_labels=np.full(len(train), UNKNOWN, dtype=np.int64), human_labels={"noisy": noisy},
                   test_paths=as_paths([f"{VAL_FOLDER}/{name}" for name in val]), test_labels=val_labels,
                   more_tests={"test_imagenet": (as_paths(imagenet_paths), imagenet_labels)})
