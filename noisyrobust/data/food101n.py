"""Reader of Food-101N (Lee et al. 2018, CleanNet) with Food-101's test set (Bossard et al. 2014).

Food-101N (https://kuanghuei.github.io/Food-101N/, Food-101N_release.zip) unpacks to a folder holding
- ``meta/classes.txt``: a header line ``class_name``, then the 101 class names, in label order;
- ``meta/imagelist.tsv``: a header ``class_name/key``, then the 310,009 noisy training images
  ``<class>/<name>.jpg``, under ``images/``; the folder's class is the image's (noisy) label;
- ``meta/verified_train.tsv`` and ``meta/verified_val.tsv``: a header ``class_name/key
  verification_label``, then ``<class>/<name>.jpg<TAB>0|1``: 1 where a person judged the label right, 0 wrong.
Food-101 (https://data.vision.ee.ethz.ch/cvl/food-101.tar.gz) unpacks to ``food-101/`` with
``meta/classes.txt`` (the same names, no header), ``meta/test.txt`` (lines ``<class>/<id>``, 25,250 clean
test images) and ``images/<class>/<id>.jpg``.

The training set is trained on its folder labels (noise=human's ``noisy`` set); its clean label is known
where the verification says the label is right (then it is that label); where it says wrong, the true
class is not given, so it stays unknown, and those images count in the noise rate the release measures.
"""
from pathlib import Path

import numpy as np

from noisyrobust.data.files import FileSet, as_paths, first_few
from noisyrobust.errors import UserError
from noisyrobust.noise import UNKNOWN

NUM_CLASSES = 101
FOOD101N_URL = "https://kuanghuei.github.io/Food-101N/ (Food-101N_release.zip)"
FOOD101_URL = "https://data.vision.ee.ethz.ch/cvl/food-101.tar.gz"
VERIFIED = ("meta/verified_train.tsv", "meta/verified_val.tsv")


def _rows(path: Path, *, header: bool, what: str) -> list[tuple[int, str]]:
    """(line number, text) of the non-blank lines of ``path`` after its header line (if ``header``)."""
    if not path.is_file():
        setting, url = ("data.reader.food101_root", FOOD101_URL) if what == "Food-101" else ("data.root", FOOD101N_URL)
        raise UserError(f"{what} file {path} is missing; download {url} and set {setting} to the unpacked folder")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read {what} file {path}: {error}") from error
    return [(n, line.strip()) for n, line in enumerate(lines, start=1) if line.strip() and not (header and n == 1)]


def _classes(path: Path, *, header: bool, what: str) -> list[str]:
    names = [line for _, line in _rows(path, header=header, what=what)]
    if len(names) != NUM_CLASSES:
        raise UserError(f"{what} file {path} names {len(names)} classes, expected {NUM_CLASSES}")
    return names


def _labels(keys: list[tuple[int, str]], index: dict, path: Path) -> np.ndarray:
    """The class of each ``<class>/<name>`` key; a key outside the classes is a UserError naming it."""
    unknown = [f"line {n}: {key[:60]!r}" for n, key in keys if key.split("/", 1)[0] not in index or "/" not in key]
    if unknown:
        raise UserError(f"{path}: {len(unknown)} entries are not '<class>/<image>' of a class of meta/classes.txt: "
                        f"{first_few(unknown)}")
    return np.array([index[key.split("/", 1)[0]] for _, key in keys], dtype=np.int64)


def read_verification(path: Path) -> dict[str, int]:
    """``{<class>/<name>.jpg: 0 or 1}`` of a ``verified_*.tsv`` file."""
    verified, bad = {}, []
    for n, line in _rows(path, header=True, what="Food-101N"):
        parts = line.split("\t")
        if len(parts) != 2 or parts[1].strip() not in ("0", "1"):
            bad.append(f"line {n}: {line[:60]!r}")
        else:
            verified[parts[0].strip()] = int(parts[1])
    if bad:
        raise UserError(f"Food-101N file {path}: {len(bad)} lines are not '<class>/<image><TAB>0|1': {first_few(bad)}")
    return verified


def load_food101n(root, *, food101_root) -> FileSet:
    """Read Food-101N in ``root`` and Food-101's test set in ``food101_root`` (see the module docstring)."""
    root, food101 = Path(root), Path(food101_root)
    if not root.is_dir():
        raise UserError(f"Food-101N folder {root} does not exist; set data.root to the unpacked {FOOD101N_URL}")
    classes = _classes(root / "meta" / "classes.txt", header=True, what="Food-101N")
    if not food101.is_dir():
        raise UserError(f"Food-101 folder {food101} does not exist (its test set is Food-101N's); set "
                        f"data.reader.food101_root to the unpacked {FOOD101_URL}")
    food101_classes = _classes(food101 / "meta" / "classes.txt", header=False, what="Food-101")
    if food101_classes != classes:
        raise UserError(f"the classes of {food101 / 'meta/classes.txt'} are not those of {root / 'meta/classes.txt'} "
                        "in the same order: the two files belong to other releases")
    index = {name: i for i, name in enumerate(classes)}
    listed = root / "meta" / "imagelist.tsv"
    keys = _rows(listed, header=True, what="Food-101N")
    if not keys:
        raise UserError(f"Food-101N file {listed} lists no image")
    noisy = _labels(keys, index, listed)
    verified = {}
    for name in VERIFIED:
        verified.update(read_verification(root / name))
    clean = np.array([label if verified.get(key) == 1 else UNKNOWN for (_, key), label in zip(keys, noisy)],
                     dtype=np.int64)
    test_list = food101 / "meta" / "test.txt"
    test = _rows(test_list, header=False, what="Food-101")
    return FileSet(root=root, classes=tuple(classes), train_paths=as_paths([f"images/{key}" for _, key in keys]),
                   train_labels=clean, human_labels={"noisy": noisy},
                   test_paths=as_paths([str(food101 / "images" / f"{key}.jpg") for _, key in test]),
                   test_labels=_labels(test, index, test_list),
                   reference_rate=1 - float(np.mean(list(verified.values()))) if verified else None)
