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


def write_webvision(root, *, num_classes=12, per_class=3, val_per_class=2, imagenet="folders", seed=0):
    """A miniature WebVision 1.0 release in its layout: ``info/train_filelist_google.txt`` (``google/q<k>/<n>.jpg
    LABEL``), ``info/val_filelist.txt`` (``val<n>.jpg LABEL``) with ``val_images_256/``, ``info/synsets.txt``,
    and the ILSVRC 2012 validation images of the classes in ``imagenet/``: ``val/<label>/`` folders
    (DivideMix's layout, ``imagenet="folders"``) or ``imagenet_val.txt`` + ``val/`` (ELR+'s, ``"list"``).
    Lines of classes beyond ``num_classes`` (12, 999) are listed without images: the reader drops them."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    train = [(f"google/q{c + 1:04d}/{c * 100 + i}.jpg", c) for c in range(num_classes) for i in range(per_class)]
    train = [train[i] for i in rng.permutation(len(train))]
    val = [(f"val{c * 10 + i:06d}.jpg", c) for c in range(num_classes) for i in range(val_per_class)]
    net = [(f"ILSVRC2012_val_{c * 10 + i:08d}.JPEG", c) for c in range(num_classes) for i in range(val_per_class)]
    for path, _ in train:
        write_jpeg(root / path, rng)
    for name, _ in val:
        write_jpeg(root / "val_images_256" / name, rng)
    lines = lambda pairs: "".join(f"{p} {c}\n" for p, c in pairs)  # noqa: E731
    (root / "info").mkdir(parents=True, exist_ok=True)
    beyond = [(f"google/q{num_classes + 1:04d}/1.jpg", num_classes), ("google/q1000/1.jpg", 999)]
    (root / "info" / "train_filelist_google.txt").write_text(lines(train + beyond))
    (root / "info" / "val_filelist.txt").write_text(lines(val + [("val099999.jpg", 999)]))
    (root / "info" / "synsets.txt").write_text("".join(f"n{c:08d} class {c}\n" for c in range(1000)))
    for name, c in net:
        write_jpeg(root / "imagenet" / "val" / (str(c) if imagenet == "folders" else "") / name, rng)
    if imagenet == "list":
        (root / "imagenet" / "imagenet_val.txt").write_text(lines(net + [("ILSVRC2012_val_00099999.JPEG", 999)]))
    return {"train": [p for p, _ in train], "noisy": np.array([c for _, c in train]),
            "val": [f"val_images_256/{n}" for n, _ in val], "val_labels": np.array([c for _, c in val]),
            "imagenet": sorted(net, key=lambda pair: (pair[1], pair[0]))}


FOOD_CLASSES = [f"food_{i:03d}" for i in range(101)]


def write_food101n(root, food101_root, *, used=12, per_class=3, test_per_class=2, seed=0):
    """A miniature Food-101N release (``meta/classes.txt`` with its header, ``meta/imagelist.tsv``,
    ``meta/verified_train.tsv``, ``meta/verified_val.tsv``, ``images/<class>/<name>.jpg``) and Food-101
    (``meta/classes.txt``, ``meta/test.txt``, ``images/<class>/<id>.jpg``): 101 classes, images in the first
    ``used``. The first image of each class is verified right (1), the second wrong (0), the third not at all;
    the verified files also list one image outside imagelist.tsv, as the release does."""
    rng = np.random.default_rng(seed)
    root, food101 = Path(root), Path(food101_root)
    keys = [f"{FOOD_CLASSES[c]}/{c:02d}{i}abcdef.jpg" for c in range(used) for i in range(per_class)]
    tests = [f"{FOOD_CLASSES[c]}/{1000 + c * 10 + i}" for c in range(used) for i in range(test_per_class)]
    for key in keys:
        write_jpeg(root / "images" / key, rng)
    for key in tests:
        write_jpeg(food101 / "images" / f"{key}.jpg", rng)
    for folder in (root / "meta", food101 / "meta"):
        folder.mkdir(parents=True, exist_ok=True)
    (root / "meta" / "classes.txt").write_text("class_name\n" + "".join(f"{n}\n" for n in FOOD_CLASSES))
    (food101 / "meta" / "classes.txt").write_text("".join(f"{n}\n" for n in FOOD_CLASSES))
    (root / "meta" / "imagelist.tsv").write_text("class_name/key\n" + "".join(f"{k}\n" for k in keys))
    verification = {k: 1 - i % per_class for i, k in enumerate(keys) if i % per_class < 2}
    half = len(keys) // 2
    tsv = lambda ks: "class_name/key\tverification_label\n" + "".join(  # noqa: E731
        f"{k}\t{verification[k]}\n" for k in ks if k in verification)
    (root / "meta" / "verified_train.tsv").write_text(tsv(keys[:half]) + f"{FOOD_CLASSES[50]}/outside.jpg\t0\n")
    (root / "meta" / "verified_val.tsv").write_text(tsv(keys[half:]))
    (food101 / "meta" / "test.txt").write_text("".join(f"{k}\n" for k in tests))
    noisy = np.array([c for c in range(used) for _ in range(per_class)])
    clean = np.array([n if verification.get(k) == 1 else -1 for k, n in zip(keys, noisy)])
    return {"train": [f"images/{k}" for k in keys], "noisy": noisy, "clean": clean,
            "test": [str(food101 / "images" / f"{k}.jpg") for k in tests],
            "test_labels": np.array([c for c in range(used) for _ in range(test_per_class)]),
            "verified_wrong": (sum(1 - v for v in verification.values()) + 1) / (len(verification) + 1)}


def write_animal10n(root, *, per_class=3, test_per_class=2, seed=0):
    """A miniature Animal-10N release: ``training/`` and ``testing/`` holding 64x64 JPEGs ``<label>_<n>.jpg``.
    Returns the labels in file-name order, and each split's images as decoded (uint8, N x 64 x 64 x 3)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("training", per_class), ("testing", test_per_class)):
        names = sorted(f"{c}_{rng.integers(10000, 99999)}{i}.jpg" for c in range(10) for i in range(n))
        for name in names:
            write_jpeg(Path(root) / split / name, rng, size=64)
        out[split] = np.array([int(name.split("_")[0]) for name in names])
        out[f"{split}_images"] = np.stack([np.asarray(Image.open(Path(root) / split / m).convert("RGB")) for m in names])
    return out
