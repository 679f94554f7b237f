"""The real MNIST test set (10,000 digits, official idx files) arranged as an MNIST folder for `data=mnist`."""
from pathlib import Path

from noisyrobust.data.idx import read_idx

T10K = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist-t10k"


def write_mnist_split(t10k: Path, root: Path, n_train: int = 8000) -> Path:
    """The 10,000 real test digits as ``root/MNIST/raw``: the first ``n_train`` as its training set, the rest
    as its test set (idx files, the format `data=mnist` reads); returns ``root`` (a ``paths.data_dir``)."""
    images = read_idx(next(Path(t10k).glob("t10k-images-idx3-ubyte*")))
    labels = read_idx(next(Path(t10k).glob("t10k-labels-idx1-ubyte*")))
    raw = Path(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, sl in (("train", slice(0, n_train)), ("t10k", slice(n_train, None))):
        for kind, arr, magic in (("images-idx3", images[sl], 3), ("labels-idx1", labels[sl], 1)):
            header = bytes([0, 0, 8, magic]) + b"".join(d.to_bytes(4, "big") for d in arr.shape)
            (raw / f"{prefix}-{kind}-ubyte").write_bytes(header + arr.tobytes())
    return Path(root)
