"""Reader of a user's own images: class folders, or a CSV of ``path,label`` rows.

``data.root`` is one of
- a folder with ``train/<class>/*.jpg`` (any depth; .jpg .jpeg .png .bmp .webp .tif .tiff) and,
  optionally, ``test/<class>/...`` with the same class names;
- a folder with ``train.csv`` and, optionally, ``test.csv``;
- a CSV file (the training images).
CSV rows are ``path,label`` (a first row ``path,label`` is a header); paths are relative to the CSV's
folder. Labels are class names, or all integers 0..C-1. Class names are sorted; the labels given are
taken as clean (noise, if any, comes from the ``noise`` group). ``classes`` (``data.classes``), when given,
is the list of class names (or integer labels) in label order: a class folder or label outside it is refused.
Every class needs training images: an empty one (integer labels with a gap) is refused.
"""
import csv
import logging
import os
from pathlib import Path
from typing import Optional

import numpy as np

from noisyrobust.data.files import FileSet, as_paths, first_few
from noisyrobust.errors import UserError

log = logging.getLogger(__name__)

FEW_IMAGES = 5  # a class with fewer training images than this gets a warning
EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def _layout(root) -> tuple[str, Path, Optional[Path]]:
    """('folders' | 'csv', train location, test location or None)."""
    if root is None or str(root) in ("", "???"):
        raise UserError("data=folder needs data.root: a folder with train/<class>/ image folders or train.csv, "
                        "or a CSV file of path,label rows")
    root = Path(root)
    if root.is_file():
        return "csv", root, None
    if (root / "train").is_dir():
        return "folders", root / "train", (root / "test") if (root / "test").is_dir() else None
    if (root / "train.csv").is_file():
        return "csv", root / "train.csv", (root / "test.csv") if (root / "test.csv").is_file() else None
    if not root.exists():
        raise UserError(f"data.root={root} does not exist")
    raise UserError(f"data.root={root} holds neither train/<class>/ image folders nor train.csv")


def _class_folders(folder: Path) -> list[str]:
    names = sorted(e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith("."))
    if not names:
        raise UserError(f"{folder} holds no class folders (expected {folder}/<class>/<image>)")
    return names


def _class_list(classes) -> Optional[list[str]]:
    """``data.classes`` as names (YAML may give integers), or None when not given."""
    if classes is None:
        return None
    names = [_name(str(c).strip()) for c in ([classes] if isinstance(classes, (str, int)) else classes)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if not names or repeated or "" in names:
        raise UserError(f"data.classes={names} must list distinct, non-empty class names"
                        + (f" ({first_few(repeated)} more than once)" if repeated else ""))
    return names


def _outside(found: list[str], classes: list[str], where, what: str) -> None:
    unknown = sorted(set(found) - set(classes))
    if unknown:
        raise UserError(f"{where} has {what} not in data.classes: {first_few(unknown)} (data.classes: "
                        f"{first_few(classes)}); fix the typo or add the class to data.classes")


def _read_csv(path: Path) -> tuple[list[str], list[str]]:
    """(paths, labels as text) of a ``path,label`` CSV."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = [(n, row) for n, row in enumerate(csv.reader(f), start=1) if row and any(c.strip() for c in row)]
    if rows and [c.strip().lower() for c in rows[0][1]] == ["path", "label"]:
        rows = rows[1:]
    bad = [f"line {n}: {','.join(row)[:60]!r}" for n, row in rows if len(row) != 2 or not row[0].strip()
           or not row[1].strip()]
    if bad:
        raise UserError(f"CSV {path}: {len(bad)} rows are not 'path,label': {first_few(bad)}")
    if not rows:
        raise UserError(f"CSV {path} lists no image")
    return [row[0].strip() for _, row in rows], [row[1].strip() for _, row in rows]


def _csv_classes(labels: list[str]) -> list[str]:
    """Sorted class names; integer labels name the classes 0..max."""
    if all(label.isdigit() for label in labels):
        return [str(i) for i in range(max(int(label) for label in labels) + 1)]
    return sorted({_name(label) for label in labels})


def _name(label: str) -> str:
    return str(int(label)) if label.isdigit() else label


def find_classes(root, classes=None) -> list[str]:
    """The class names of the dataset at ``root``, in label order (what ``data.num_classes`` counts):
    ``classes`` when given (after checking that the data holds no other), else those found."""
    kind, train, test = _layout(root)
    listed = _class_list(classes)
    if kind == "folders":
        if listed is None:
            return _class_folders(train)
        for folder in (train, test):
            if folder is not None:
                _outside(_class_folders(folder), listed, folder, "class folders")
        return listed
    labels = [_name(label) for label in _read_csv(train)[1]]
    if listed is not None:
        _outside(labels, listed, train, "labels")
    if test is not None:  # as with folders: a class the training set never shows is a mistake, not a class
        unknown = sorted({_name(label) for label in _read_csv(test)[1]} - set(labels))
        if unknown:
            raise UserError(f"{test} has labels not in {train}: {first_few(unknown)}")
    return listed if listed is not None else _csv_classes(labels)


def _images(folder: Path, classes: list[str], *, every_class: bool) -> tuple[list[str], list[int]]:
    """Image paths (relative to the folder's parent) and labels under ``folder/<class>/``."""
    paths, labels = [], []
    for label, name in enumerate(classes):
        if not every_class and not (folder / name).is_dir():
            continue
        found = sorted(os.path.relpath(os.path.join(d, f), folder.parent)
                       for d, _, files in os.walk(folder / name, followlinks=True)
                       for f in files if f.lower().endswith(EXTENSIONS))
        if not found:
            raise UserError(f"class folder {folder / name} holds no image ({', '.join(EXTENSIONS)})")
        paths += found
        labels += [label] * len(found)
    return paths, labels


def _report_classes(classes: list, labels: list, train: Path) -> None:
    """The class list at the start of a run; a class without training images is refused (integer CSV labels
    0, 1, 5 make classes 2..4 empty), and one with too few to learn is named in a warning (a typo in a
    label makes a class of one image: data.classes catches it)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(classes))
    empty = [c for c, n in zip(classes, counts) if n == 0]
    if empty:
        raise UserError(f"{train}: {len(empty)} of its {len(classes)} classes have no training image: "
                        f"{first_few(empty)}; relabel them 0..C-1 without gaps, or list the classes there are with "
                        "data.classes=[...]")
    log.info("%d classes: %s", len(classes), ", ".join(f"{c} ({n})" for c, n in zip(classes, counts)))
    few = [f"{c} ({n})" for c, n in zip(classes, counts) if n < FEW_IMAGES]
    if few:
        log.warning("classes with fewer than %d training images: %s (a typo in a label? data.classes=[...] "
                    "refuses any label not listed)", FEW_IMAGES, ", ".join(few))


def load_image_folder(root, classes=None) -> FileSet:
    """Read the images at ``root`` (see the module docstring): class folders or CSV rows, and a test set if
    there is one (else the datamodule holds out a share of the training images); ``classes``: data.classes."""
    kind, train, test = _layout(root)
    classes = find_classes(root, classes)
    test_split = None
    if kind == "folders":
        train_paths, train_labels = _images(train, classes, every_class=True)
        if test is not None:
            unknown = [n for n in _class_folders(test) if n not in classes]
            if unknown:
                raise UserError(f"{test} has class folders not in {train}: {first_few(unknown)}")
            test_split = _images(test, classes, every_class=False)
    else:
        index = {name: i for i, name in enumerate(classes)}  # find_classes checked the test labels
        train_paths, names = _read_csv(train)
        train_labels = [index[_name(n)] for n in names]
        if test is not None:
            test_paths, names = _read_csv(test)
            test_split = (test_paths, [index[_name(n)] for n in names])
    _report_classes(classes, train_labels, train)
    split = {}
    if test_split is not None:
        split = {"test_paths": as_paths(test_split[0]), "test_labels": np.array(test_split[1], dtype=np.int64)}
    return FileSet(root=train.parent, classes=tuple(classes), train_paths=as_paths(train_paths),
                   train_labels=np.array(train_labels, dtype=np.int64), **split)
