"""A one-device Trainer for a network trained beside the run's (a stage's before the fit, a label-issue
refit after it), on the run's device and precision."""
from typing import Sequence

import lightning.pytorch as pl

from noisyrobust.callbacks import EpochSeed, ProgressBar


def one_device_trainer(trainer: pl.Trainer, *, epochs: int, seed: int, callbacks: Sequence[pl.Callback] = (),
                       validate: bool = True) -> pl.Trainer:
    """A Trainer of ``epochs`` epochs on ``trainer``'s root device (one process, even inside a DDP run),
    with no logger and no checkpoints; ``validate=False`` skips the per-epoch evaluation passes."""
    device = trainer.strategy.root_device
    accelerator, devices = ("cpu", 1) if device.type == "cpu" else (device.type, [device.index or 0])
    return pl.Trainer(accelerator=accelerator, devices=devices, precision=trainer.precision, max_epochs=epochs,
                      logger=False, enable_checkpointing=False, enable_model_summary=False,
                      num_sanity_val_steps=0, limit_val_batches=None if validate else 0,
                      callbacks=[*callbacks, EpochSeed(seed), ProgressBar()],
                      default_root_dir=trainer.default_root_dir)
