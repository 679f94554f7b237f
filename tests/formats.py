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
