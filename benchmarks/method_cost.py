"""Cost of one epoch of a method as a ratio to one CE epoch, on the same data, model and device, side by side in
one process: the real configs (python train.py method=...), their stages included (ProMix's and DISC's weak and
strong views), trained by a Trainer without validation; each epoch timed from its start (a method's per-epoch
pass over the training set included) to its end. CE and the method alternate (robust to load drift); the
warm-up is set to 0 epochs (the method's own step from the first epoch) and the first epoch of each run is
dropped; prints the median seconds per epoch and the ratio. The issue's target: at most 4x CE.

    python benchmarks/method_cost.py promix [data=cifar10 model=preact_resnet18 trainer=gpu ...] [--repeats 2 --epochs 4]
"""
import argparse
import statistics
import time
from pathlib import Path

import hydra
import lightning.pytorch as pl
from hydra import compose, initialize_config_dir

import noisyrobust  # noqa: F401 - resolvers
from noisyrobust.callbacks import EpochSeed
from noisyrobust.run import build_noise

CONF = Path(__file__).resolve().parents[1] / "conf"


class EpochTimer(pl.Callback):
    def __init__(self):
        self.seconds, self._start = [], None

    def on_train_epoch_start(self, trainer, pl_module):
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        self.seconds.append(time.perf_counter() - self._start)


def epoch_seconds(method: str, overrides, epochs: int) -> list:
    more = [] if method == "ce" else ["method.warmup_epochs=0"]
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=[f"method={method}", *more, *overrides, f"trainer.max_epochs={epochs}",
                                           "diagnostics=none", "noise=sym0.5"])
    pl.seed_everything(cfg.seed, verbose=False)
    injector, noise_seed = build_noise(cfg.noise)
    datamodule = hydra.utils.instantiate(cfg.data, noise=injector, noise_seed=noise_seed)
    datamodule.setup("fit")
    timer = EpochTimer()
    trainer = pl.Trainer(accelerator=cfg.trainer.accelerator, devices=1, precision=cfg.trainer.get("precision", "32-true"),
                         max_epochs=epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0,
                         callbacks=[timer, EpochSeed(cfg.seed)])
    for node in (cfg.get("stages") or {}).values():
        datamodule = hydra.utils.instantiate(node).run(datamodule, trainer=trainer).datamodule
    trainer.fit(hydra.utils.instantiate(cfg.method), datamodule=datamodule)
    return timer.seconds[1:]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("method")
    parser.add_argument("overrides", nargs="*", help="config overrides for both runs (data=..., model=..., trainer=...)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    overrides = args.overrides or ["trainer=cpu"]
    ce, other = [], []
    for _ in range(args.repeats):
        ce += epoch_seconds("ce", overrides, args.epochs)
        other += epoch_seconds(args.method, overrides, args.epochs)
    c, m = statistics.median(ce), statistics.median(other)
    print(f"{' '.join(overrides)}: CE {c:.3f} s/epoch, {args.method} {m:.3f} s/epoch -> {args.method}/CE = "
          f"{m / c:.2f}x over {len(ce)} + {len(other)} epochs")


if __name__ == "__main__":
    main()
