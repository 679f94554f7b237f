"""How fast a paper protocol runs here: N epochs of it through the real pipeline, then images/s, time per
epoch (training and evaluation apart) and the projected time of the whole protocol.

    python benchmarks/protocol_speed.py                                   # experiment=jocor/cifar10_sym50
    python benchmarks/protocol_speed.py experiment=coteaching/cifar100_sym50 trainer=gpu --epochs 3
    python benchmarks/protocol_speed.py paths.data_dir=/tmp/data trainer=cpu --epochs 1 --max-batches 20

Arguments of the form key=value are config overrides, as for train.py. The first epoch (start-up,
compilation, cuDNN autotuning) is reported apart and, when more epochs run, left out of the steady
time per epoch. With --max-batches (training and evaluation batches per epoch) the measured parts of an
epoch are scaled up to the full epoch for the projection. Run directories go to a temporary folder.
"""
import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import open_dict

from epoch_clock import EpochClock  # beside this script
from noisyrobust.run import train

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2, help="epochs to run (the first is reported apart)")
    parser.add_argument("--max-batches", type=int, default=None,
                        help="batches per epoch of training and of each evaluation set (default: all)")
    parser.add_argument("overrides", nargs="*", help="config overrides (default: experiment=jocor/cifar10_sym50)")
    args = parser.parse_args()
    overrides = list(args.overrides)
    if not any(o.startswith("experiment=") for o in overrides):
        overrides.insert(0, "experiment=jocor/cifar10_sym50")
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        full = compose("config", overrides=overrides)
        run = compose("config", overrides=[*overrides, f"trainer.max_epochs={args.epochs}",
                                           "+callbacks.epoch_clock._target_=epoch_clock.EpochClock",
                                           *([f"+trainer.limit_train_batches={args.max_batches}",
                                               f"+trainer.limit_val_batches={args.max_batches}"]
                                             if args.max_batches else [])])
    tmp = Path(tempfile.mkdtemp(prefix="noisyrobust-protocol-"))
    try:
        with open_dict(run):
            run.paths.output_dir = str(tmp / "run")
            run.paths.cache_dir = str(tmp / "cache")
        EpochClock.marks.clear()
        start = time.perf_counter()
        train(run)
        total = time.perf_counter() - start
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    epochs = EpochClock.epochs()
    batch = run.data.batch_size
    b = EpochClock.batches
    full_batches, ran_batches = b["train"], b["train_run"]
    steady = epochs[1:] or epochs
    fit_s = statistics.median(f for f, _ in steady)
    eval_s = statistics.median(e for _, e in steady)
    epoch_s = fit_s * full_batches / ran_batches + eval_s * b["eval"] / max(b["eval_run"], 1)
    first = sum(epochs[0])
    warm_up = max(first - (fit_s + eval_s), 0.0)  # the first epoch's extra (0 when it is the only one)
    projected = full.trainer.max_epochs * epoch_s + warm_up
    start_up = total - sum(f + e for f, e in epochs)
    name = next((o.split("=", 1)[1] for o in overrides if o.startswith("experiment=")), "")
    print(f"\n{name}: {full.trainer.max_epochs} epochs of {full_batches} batches of {batch}, "
          f"{run.trainer.accelerator} / {run.trainer.precision}")
    print(f"ran {len(epochs)} epoch(s) of {ran_batches} of {full_batches} training batches and {b['eval_run']} of "
          f"{b['eval']} evaluation batches; start-up {start_up:.1f}s, first epoch {first:.1f}s")
    print(f"training: {ran_batches * batch / fit_s:,.0f} images/s ({fit_s / ran_batches * 1e3:.1f} ms/batch); "
          f"evaluation {eval_s:.2f}s per epoch (of {b['eval_run']} batches)")
    print(f"time per epoch (full): {epoch_s:.1f}s; projected protocol: {projected / 60:.1f} min "
          f"({projected / 3600:.2f} h) + start-up")


if __name__ == "__main__":
    sys.exit(main())
