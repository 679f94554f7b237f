"""Cost of one epoch of a method as a ratio to one CE epoch, on the same data, model and device, side by side in
one process: the real configs (python train.py method=...), their stages included (ProMix's and DISC's weak and
strong views), trained by a Trainer without validation; each epoch timed from its start (a method's per-epoch
pass over the training set included) to its end. CE and the method alternate (robust to load drift); a
warm-up is cut to one epoch and PES's refinements to one epoch each, and those and the first epoch of the
method's own step are left out; prints the median seconds per epoch and the ratio.

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


def to_own_step(method_cfg) -> tuple:
    """Overrides that bring a method to its own step early, and the epochs before it: a warm-up of one epoch
    (some methods refuse none), PES's refinements of one epoch each."""
    overrides, before = [], 0
    if "warmup_epochs" in method_cfg:
        overrides.append("method.warmup_epochs=1")
        before += 1
    if "refine_epochs" in method_cfg:
        overrides.append(f"method.refine_epochs=[{','.join('1' for _ in method_cfg.refine_epochs)}]")
        before += len(method_cfg.refine_epochs)
    return overrides, before


def epoch_seconds(method: str, overrides, epochs: int) -> list:
    """Seconds of each epoch of the method's own step (its warm-up and first own epoch left out), stages and
    their outputs as ``train.py`` builds them."""
    with initialize_config_dir(str(CONF), version_base="1.3"):
        probe = compose("config", overrides=[f"method={method}", *overrides])
        own, before = to_own_step(probe.method)
        cfg = compose("config", overrides=[f"method={method}", *overrides, *own,
                                           f"trainer.max_epochs={before + epochs}", "diagnostics=none", "noise=sym0.5"])
    pl.seed_everything(cfg.seed, verbose=False)
    injector, noise_seed = build_noise(cfg.noise)
    datamodule = hydra.utils.instantiate(cfg.data, noise=injector, noise_seed=noise_seed)
    datamodule.setup("fit")
    timer = EpochTimer()
    trainer = pl.Trainer(accelerator=cfg.trainer.accelerator, devices=1, precision=cfg.trainer.get("precision", "32-true"),
                         max_epochs=before + epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0,
                         callbacks=[timer, EpochSeed(cfg.seed)])
    outputs = {}
    for node in (cfg.get("stages") or {}).values():  # a stage's outputs are the method's arguments (T-Revision's T)
        result = hydra.utils.instantiate(node).run(datamodule, trainer=trainer)
        datamodule = result.datamodule
        outputs.update(result.outputs)
    trainer.fit(hydra.utils.instantiate(cfg.method, **outputs), datamodule=datamodule)
    return timer.seconds[before + 1:]


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
