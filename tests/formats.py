"""Writers of tiny datasets in the real on-disk formats (CIFAR python pickles, IDX), shared by tests."""
import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR10_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]


def rows(images_hwc):
    """Official row layout: 3072 bytes, channel-major (R plane, G plane, B plane), each row-major."""
    return images_hwc.transpose(0, 3, 1, 2).reshape(len(images_hwc), 3072)


def dump(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def batch(name, data, labels, *, bytes_keys=True, label_key="labels", **more):
    entries = {"batch_label": name.encode(), label_key: list(labels), "data": data,
               "filenames": [f"img_{i}.png".encode() for i in range(len(data))], **more}
    return {k.encode(): v for k, v in entries.items()} if bytes_keys else entries


def write_cifar10(root, *, sizes=(5, 4, 6, 3, 5), n_test=7, bytes_keys=True, seed=0):
    """Write random images; return HWC train/test images and labels as the loader should see them."""
    rng = np.random.default_rng(seed)
    out = Path(root) / "cifar-10-batches-py"
    train_x, train_y = [], []
    for i, n in enumerate(sizes, start=1):
        x, y = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n)
        dump(out / f"data_batch_{i}", batch(f"training batch {i} of 5", rows(x), y, bytes_keys=bytes_keys))
        train_x.append(x)
        train_y.append(y)
    test_x, test_y = rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n_test)
    dump(out / "test_batch", batch("testing batch 1 of 1", rows(test_x), test_y, bytes_keys=bytes_keys))
    names = [n.encode() for n in CIFAR10_NAMES] if bytes_keys else CIFAR10_NAMES
    meta = {"label_names": names, "num_cases_per_batch": 10000, "num_vis": 3072}
    dump(out / "batches.meta", {k.encode(): v for k, v in meta.items()} if bytes_keys else meta)
    return np.concatenate(train_x), np.concatenate(train_y), test_x, test_y


def write_cifar100(root, *, n_train=9, n_test=5, seed=0):
    rng = np.random.default_rng(seed)
    out = Path(root) / "cifar-100-python"
    result = {}
    for split, n in (("train", n_train), ("test", n_test)):
        x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        fine, coarse = rng.integers(0, 100, n), rng.integers(0, 20, n)
        dump(out / split, {b"filenames": [b"f.png"] * n, b"batch_label": split.encode(), b"fine_labels": list(fine),
                           b"coarse_labels": list(coarse), b"data": rows(x)})
        result[split] = (x, fine, coarse)
    dump(out / "meta", {b"fine_label_names": [f"fine{i}".encode() for i in range(100)],
                        b"coarse_label_names": [f"coarse{i}".encode() for i in range(20)]})
    return result


def rewrite(path, **changes):
    with open(path, "rb") as f:
        obj = pickle.load(f, encoding="bytes")
    obj.update({k.encode(): v for k, v in changes.items()})
    dump(path, obj)


NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def idx_bytes(array, *, magic=None):
    """The official IDX encoding: 0x0000, type 0x08, ndim, big-endian int32 dims, then the bytes."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x0800 | array.ndim
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_idx(path, array, *, gz=False, magic=None, cut=0):
    data = idx_bytes(array, magic=magic)
    data = data[:len(data) - cut]
    path = Path(str(path) + ".gz") if gz else Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_set(root, folder, *, n_train=12, n_test=7, gz=(False, True, True, False), seed=0,
              train_labels=None):
    rng = np.random.default_rng(seed)
    arrays = [rng.integers(0, 256, (n_train, 28, 28)),
              rng.integers(0, 10, n_train) if train_labels is None else train_labels,
              rng.integers(0, 256, (n_test, 28, 28)), rng.integers(0, 10, n_test)]
    raw = Path(root) / folder / "raw"
    paths = [write_idx(raw / name, a, gz=z) for name, a, z in zip(NAMES, arrays, gz)]
    return [np.asarray(a, dtype=np.uint8) for a in arrays], paths


# -- image files: Clothing1M's release layout, image folders, CSVs -----------------------------------------
def write_jpeg(path, rng, *, size=32):
    """A small random RGB JPEG (PIL), its folders created."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path, quality=90)
    return path


def write_clothing1m(root, *, n_train=42, n_val=8, n_test=10, n_known=6, bad=True, annotations=False, seed=0):
    """A miniature Clothing1M release in its exact layout: ``noisy_label_kv.txt`` / ``clean_label_kv.txt``
    (``images/<d>/<n>.jpg LABEL``), the four key lists, ``category_names_eng.txt`` and the JPEGs under
    ``images/0..9/`` (in ``annotations/`` the label files, with ``annotations``).

    Keys overlap as in the release: the first ``n_known`` training images have clean labels too (half of
    them equal to their noisy label), and the validation images have noisy labels too (outside the
    training set). With ``bad``, one training image is missing and one validation image is truncated.
    Returns a dict of the keys and labels the reader should find.
    """
    rng = np.random.default_rng(seed)
    root = Path(root)
    keys = [f"images/{i % 10}/{1000 + i}.jpg" for i in range(n_train + n_val + n_test)]
    train, val, test = keys[:n_train], keys[n_train:n_train + n_val], keys[n_train + n_val:]
    noisy = rng.permutation(np.arange(n_train) % 14)  # every class present
    known_clean = [(n + 1) % 14 if i % 2 else n for i, n in enumerate(noisy[:n_known])]
    val_y, test_y = rng.integers(0, 14, n_val), rng.integers(0, 14, n_test)
    val_noisy = (val_y + rng.integers(0, 2, n_val)) % 14
    for key in keys:
        write_jpeg(root / key, rng)
    labels = root / "annotations" if annotations else root
    labels.mkdir(parents=True, exist_ok=True)
    kv = lambda ks, ys: "".join(f"{k} {int(y)}\n" for k, y in zip(ks, ys))  # noqa: E731
    (labels / "noisy_label_kv.txt").write_text(kv(train + val, list(noisy) + list(val_noisy)))
    clean_keys, clean_y = train[:n_known] + val + test, known_clean + list(val_y) + list(test_y)
    (labels / "clean_label_kv.txt").write_text(kv(clean_keys, clean_y))
    lists = {"noisy_train": train, "clean_train": train[:n_known], "clean_val": val, "clean_test": test}
    for name, ks in lists.items():
        (labels / f"{name}_key_list.txt").write_text("".join(k + "\n" for k in ks))
    (labels / "category_names_eng.txt").write_text("".join(f"class{i}\n" for i in range(14)))
    missing = corrupt = None
    if bad:
        missing, corrupt = train[-1], val[0]
        (root / missing).unlink()
        data = (root / corrupt).read_bytes()
        (root / corrupt).write_bytes(data[:len(data) // 2])  # a truncated JPEG
    clean = np.full(n_train, -1)
    clean[:n_known] = known_clean
    reference = (np.array(known_clean + list(val_y)), np.concatenate([noisy[:n_known], val_noisy]))
    return {"train": train, "val": val, "test": test, "noisy": noisy, "clean": clean, "val_labels": val_y,
            "test_labels": test_y, "missing": missing, "corrupt": corrupt, "reference": reference}


def write_image_folder(root, counts, *, test_counts=None, seed=0, ext=".jpg"):
    """``root/train/<class>/<i><ext>`` with ``counts[class]`` images each (and ``root/test/...`` likewise)."""
    rng = np.random.default_rng(seed)
    for split, per_class in (("train", counts), ("test", test_counts or {})):
        for name, n in per_class.items():
            for i in range(n):
                write_jpeg(Path(root) / split / name / f"{i}{ext}", rng)
    return Path(root)


def write_csv(path, rows, *, header=True):
    """A ``path,label`` CSV of ``rows``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("path,label\n" if header else "") + "".join(f"{p},{y}\n" for p, y in rows))
    return path


# -- CIFAR-N label files -----------------------------------------------------------------------------------
CIFAR10N_KEYS = {"aggre": "aggre_label", "random1": "random_label1", "random2": "random_label2",
                 "random3": "random_label3", "worse": "worse_label"}
CIFAR10N_RATES = {"aggre": 0.1, "random1": 0.2, "random2": 0.2, "random3": 0.2, "worse": 0.4}


def write_cifar_n(path, clean, *, hundred=False, coarse=None, seed=0):
    """A CIFAR-10N (``CIFAR-10_human.pt``) or CIFAR-100N (``CIFAR-100_human.pt``) label file as released: a
    dict of NumPy arrays saved with torch.save; the noisy sets flip each label with a set rate. Returns the
    noisy sets by their ``noise.label`` names."""
    import torch

    rng = np.random.default_rng(seed)
    clean = np.asarray(clean, dtype=np.int64)
    c = 100 if hundred else 10

    def flip(rate):
        moved = rng.random(len(clean)) < rate
        return np.where(moved, (clean + rng.integers(1, c, len(clean))) % c, clean)

    if hundred:
        sets = {"noisy": flip(0.4)}
        obj = {"clean_label": clean, "noisy_label": sets["noisy"]}
        if coarse is not None:
            obj.update(clean_coarse_label=np.asarray(coarse), noisy_coarse_label=np.asarray(coarse))
    else:
        sets = {name: flip(CIFAR10N_RATES[name]) for name in CIFAR10N_KEYS}
        obj = {"clean_label": clean, **{CIFAR10N_KEYS[name]: y for name, y in sets.items()}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)
    return sets
