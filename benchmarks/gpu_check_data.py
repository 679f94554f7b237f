"""CIFAR-10 for the GPU check, in the official pickle layout that data=cifar10 reads (README, Data).

The check: all of it, written by the shared data's own make_cifar10.py (from its JPEG-packed npz) in a
background process while the tests run. The smoke run: a few hundred images in the same layout, real ones
decoded by make_cifar10's own decoder when the shared data is there, else random ones."""
import importlib.util
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = [ROOT.parent / "shared" / "data", ROOT / "shared" / "data"]  # beside the repository, or inside a copy of it
SMOKE_TRAIN, SMOKE_TEST = 20, 6  # images per class: 200 to train on, 60 to test
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def shared_data():
    """The folder holding make_cifar10.py and cifar10-jpeg.npz, or None."""
    return next((d for d in SHARED if (d / "make_cifar10.py").exists() and (d / "cifar10-jpeg.npz").exists()), None)


class Ready:
    def __init__(self, root: Path, info: dict):
        self.root, self.info = root, info

    def wait(self):
        return self.root, self.info


class Writing:
    """make_cifar10.py running in the background; ``wait()`` returns the data root once it is written."""

    def __init__(self, shared: Path, dest: Path):
        self.dest, self.info = dest, {"source": str(shared), "images": "all 60,000 (make_cifar10.py)"}
        self.process = subprocess.Popen([sys.executable, str(shared / "make_cifar10.py"), str(dest)],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def wait(self):
        output, _ = self.process.communicate(timeout=300)
        if self.process.returncode:
            self.info["error"] = f"make_cifar10.py exit {self.process.returncode}: {output.strip()[-300:]}"
        return self.dest, self.info


def cifar10_for_check(dest: Path, *, smoke: bool, given=None):
    """``given``: a data root the user already has; else written under ``dest``."""
    if given is not None:
        return Ready(Path(given), {"source": str(given)})
    shared = shared_data()
    if not smoke:
        return Writing(shared, dest)
    if shared is None:
        rng = np.random.default_rng(0)
        train = rng.integers(0, 256, (10 * SMOKE_TRAIN, 32, 32, 3), dtype=np.uint8), np.repeat(range(10), SMOKE_TRAIN)
        test = rng.integers(0, 256, (10 * SMOKE_TEST, 32, 32, 3), dtype=np.uint8), np.repeat(range(10), SMOKE_TEST)
        info = {"source": "random images (no shared CIFAR-10 found)"}
    else:
        make = _module(shared / "make_cifar10.py")
        npz = np.load(shared / "cifar10-jpeg.npz")
        train, test = _subset(make, npz, "train", SMOKE_TRAIN), _subset(make, npz, "test", SMOKE_TEST)
        info = {"source": str(shared)}
    write_cifar10(dest, train, test)
    info["images"] = f"{len(train[0])} to train, {len(test[0])} to test"
    return Ready(dest, info)


def _module(path: Path):
    spec = importlib.util.spec_from_file_location("make_cifar10", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _subset(make, npz, split: str, per_class: int):
    """The first ``per_class`` images of each class, decoded by make_cifar10's ``decode`` from an npz-like
    mapping holding only their JPEG bytes; shuffled (the npz is sorted by class)."""
    labels, offsets, blob = npz[f"{split}_labels"], npz[f"{split}_offsets"], npz[f"{split}_jpeg"]
    pick = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)])
    pick = pick[np.random.default_rng(0).permutation(len(pick))]
    parts = [blob[offsets[i]:offsets[i + 1]] for i in pick]
    sizes = np.cumsum([0] + [len(p) for p in parts])
    return make.decode({f"{split}_jpeg": np.concatenate(parts), f"{split}_offsets": sizes,
                        f"{split}_labels": labels[pick]}, split)


def write_cifar10(root: Path, train, test) -> None:
    """``root/cifar-10-batches-py``: data_batch_1..5 and test_batch (rows of 3072 bytes, channel-major) and
    batches.meta, from HWC uint8 images and their labels."""
    out = Path(root) / "cifar-10-batches-py"
    out.mkdir(parents=True, exist_ok=True)
    images, labels = train
    chunks = np.array_split(np.arange(len(images)), 5)
    batches = [(f"data_batch_{i + 1}", images[c], labels[c]) for i, c in enumerate(chunks)] + [("test_batch", *test)]
    for name, x, y in batches:
        with open(out / name, "wb") as f:
            pickle.dump({"batch_label": name, "labels": [int(v) for v in y],
                         "data": x.transpose(0, 3, 1, 2).reshape(len(x), 3072),
                         "filenames": [f"{i:05d}.png" for i in range(len(x))]}, f)
    with open(out / "batches.meta", "wb") as f:
        pickle.dump({"label_names": CLASSES, "num_cases_per_batch": len(chunks[0]), "num_vis": 3072}, f)
