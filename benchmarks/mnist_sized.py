"""The real MNIST test set (10,000 digits, official idx files) laid out as a whole MNIST folder, so that
``data=mnist paths.data_dir=<that folder>`` trains on it: the benchmarks' MNIST-sized epochs."""
import os
import tempfile
from pathlib import Path

SHARED = Path(os.environ.get("NOISYROBUST_MNIST_T10K", Path(__file__).resolve().parents[2] / "shared/data/mnist-t10k"))


def mnist_t10k_as_train() -> Path:
    """A temporary data_dir whose MNIST/raw train and test files are both the t10k files."""
    if not (SHARED / "t10k-images-idx3-ubyte.gz").is_file():
        raise SystemExit(f"error: no MNIST test set at {SHARED} (set NOISYROBUST_MNIST_T10K)")
    root = Path(tempfile.mkdtemp(prefix="mnist_t10k_"))
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for split in ("train", "t10k"):
        for kind in ("images-idx3", "labels-idx1"):
            os.symlink(SHARED / f"t10k-{kind}-ubyte.gz", raw / f"{split}-{kind}-ubyte.gz")
    return root
