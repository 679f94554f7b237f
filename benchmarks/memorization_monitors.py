"""Cost of the susceptibility callback and the slingshot monitor against the same run without them, side by
side in one process: the real pipeline (``train``) on MNIST-sized data (the 10,000 real MNIST test digits as
the training set, MLP 784-256-10, batch 128: 70 steps per epoch), epochs alternating between the two
configurations; prints the median epoch time of each and their ratio (target: at most 1.05).

    PYTHONPATH=. python benchmarks/memorization_monitors.py [--epochs 6] [--repeats 3]
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lightning.pytorch import Callback

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mnist_sized import mnist_t10k_as_train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class EpochClock(Callback):
    """Wall time between consecutive training-epoch ends: everything an epoch costs, its hooks included."""

    def __init__(self):
        self.ends = []

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self.ends.append(time.perf_counter())


def epoch_times(data_dir: Path, callbacks: str, epochs: int) -> list:
    from hydra import compose, initialize_config_dir
    from omegaconf import open_dict

    from noisyrobust.run import train

    out = Path(tempfile.mkdtemp(prefix="monitors_"))
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["data=mnist", f"paths.data_dir={data_dir}", "trainer=cpu",
                                           f"trainer.max_epochs={epochs}", "diagnostics=none", f"callbacks={callbacks}",
                                           "+trainer.enable_progress_bar=false", "~callbacks.progress_bar"])
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
    clock = EpochClock()
    train(cfg, callbacks=[clock])
    return [b - a for a, b in zip(clock.ends, clock.ends[1:])]  # the first epoch (warm-up) left out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data_dir = mnist_t10k_as_train()
    plain, monitored = [], []
    for _ in range(args.repeats):
        plain += epoch_times(data_dir, "none", args.epochs)
        monitored += epoch_times(data_dir, "[none,susceptibility,slingshot]", args.epochs)
    p, m = statistics.median(plain), statistics.median(monitored)
    print(f"epoch without monitors: {p:.3f} s (median of {len(plain)})")
    print(f"epoch with susceptibility + slingshot: {m:.3f} s (median of {len(monitored)})")
    print(f"ratio: {m / p:.3f} (target <= 1.05)")


if __name__ == "__main__":
    main()
