"""Reader of an unpacked Clothing1M release (Xiao et al. 2015): key lists, label files, image paths.

The release (obtained from its authors; there is no download) holds, in one folder (or its
``annotations/`` subfolder), ``noisy_label_kv.txt`` and ``clean_label_kv.txt`` — lines ``images/x/y.jpg
LABEL``, LABEL in 0..13 — and the key lists ``noisy_train_key_list.txt`` (1,000,000 images),
``clean_val_key_list.txt`` (14,313) and ``clean_test_key_list.txt`` (10,526); the images lie under
``images/0..9/``. The noisy training set is trained on its noisy labels; its clean labels are known only
where ``clean_label_kv.txt`` has the image too (UNKNOWN elsewhere). Validation and test are clean.
"""
from pathlib import Path

import numpy as np

from noisyrobust.data.files import FileSet, as_paths, first_few
from noisyrobust.errors import UserError
from noisyrobust.noise import UNKNOWN

NUM_CLASSES = 14
NOISY_KV, CLEAN_KV = "noisy_label_kv.txt", "clean_label_kv.txt"
TRAIN_LIST, VAL_LIST, TEST_LIST = "noisy_train_key_list.txt", "clean_val_key_list.txt", "clean_test_key_list.txt"
REQUIRED = (NOISY_KV, CLEAN_KV, TRAIN_LIST, VAL_LIST, TEST_LIST)
# category_names_eng.txt, used when the release's copy is absent
CLASSES = ("T-Shirt", "Shirt", "Knitwear", "Chiffon", "Sweater", "Hoodie", "Windbreaker", "Jacket", "Downcoat",
           "Suit", "Shawl", "Dress", "Vest", "Underwear")


def _lines(path: Path) -> list[tuple[int, str]]:
    """(line number, stripped text) of the non-blank lines."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read Clothing1M file {path}: {error}") from error
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def read_label_kv(path: Path) -> dict[str, int]:
    """``{key: label}`` from lines ``images/x/y.jpg LABEL``; malformed lines and labels outside 0..13 are a
    UserError naming the first few and how many."""
    labels, malformed, outside = {}, [], []
    for n, line in _lines(path):
        parts = line.split()
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
            malformed.append(f"line {n}: {line[:60]!r}")
            continue
        label = int(parts[1])
        if not 0 <= label < NUM_CLASSES:
            outside.append(f"line {n}: {line[:60]}")
        labels[parts[0]] = label
    if malformed:
        raise UserError(f"Clothing1M file {path}: {len(malformed)} lines are not 'images/<dir>/<name>.jpg LABEL': "
                        f"{first_few(malformed)}")
    if outside:
        raise UserError(f"Clothing1M file {path}: {len(outside)} labels are outside 0..{NUM_CLASSES - 1}: "
                        f"{first_few(outside)}")
    return labels


def read_key_list(path: Path) -> list[str]:
    """The keys (image paths) of a key list, one per line."""
    keys = [line for _, line in _lines(path)]
    if not keys:
        raise UserError(f"Clothing1M key list {path} lists no image")
    return keys


def _labels_of(keys: list[str], labels: dict[str, int], *, listed: Path, kv: Path) -> np.ndarray:
    missing = [k for k in keys if k not in labels]
    if missing:
        raise UserError(f"{len(missing)} of the {len(keys)} keys of {listed} have no label in {kv}: "
                        f"{first_few(missing)}")
    return np.array([labels[k] for k in keys], dtype=np.int64)


def _annotations(root: Path) -> Path:
    """The folder holding the label files: the release's root, or its ``annotations/`` subfolder."""
    for folder in (root, root / "annotations"):
        if all((folder / name).is_file() for name in REQUIRED):
            return folder
    if not root.is_dir():
        raise UserError(f"Clothing1M folder {root} does not exist; set data.root to the unpacked release")
    missing = [name for name in REQUIRED if not (root / name).is_file()]
    raise UserError(f"Clothing1M files missing in {root}: {', '.join(missing)} (nor all in {root / 'annotations'}); "
                    "the release comes from its authors (Xiao et al. 2015), there is no download")


def _classes(folder: Path) -> tuple[str, ...]:
    path = folder / "category_names_eng.txt"
    if not path.is_file():
        return CLASSES
    names = tuple(line for _, line in _lines(path))
    if len(names) != NUM_CLASSES:
        raise UserError(f"Clothing1M file {path} names {len(names)} classes, expected {NUM_CLASSES}")
    return names


def load_clothing1m(root) -> FileSet:
    """Read the Clothing1M release in ``root`` (see the module docstring); images are checked later.

    The training set is ``noisy_train_key_list.txt`` with ``noisy_label_kv.txt`` (released as
    ``human_labels['noisy']``) and, where known, the clean labels of ``clean_label_kv.txt``;
    ``reference_labels`` holds both labels of every image in both label files.
    """
    root = Path(root)
    folder = _annotations(root)
    noisy_kv, clean_kv = read_label_kv(folder / NOISY_KV), read_label_kv(folder / CLEAN_KV)
    train = read_key_list(folder / TRAIN_LIST)
    noisy = _labels_of(train, noisy_kv, listed=folder / TRAIN_LIST, kv=folder / NOISY_KV)
    clean = np.array([clean_kv.get(k, UNKNOWN) for k in train], dtype=np.int64)
    splits = {}
    for split, name in (("val", VAL_LIST), ("test", TEST_LIST)):
        keys = read_key_list(folder / name)
        splits[f"{split}_paths"] = as_paths(keys)
        splits[f"{split}_labels"] = _labels_of(keys, clean_kv, listed=folder / name, kv=folder / CLEAN_KV)
    both = [k for k in noisy_kv if k in clean_kv]
    reference = (np.array([clean_kv[k] for k in both], dtype=np.int64),
                 np.array([noisy_kv[k] for k in both], dtype=np.int64))
    return FileSet(root=root, classes=_classes(folder), train_paths=as_paths(train), train_labels=clean,
                   human_labels={"noisy": noisy}, reference_labels=reference if both else None, **splits)
