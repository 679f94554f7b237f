"""What a stage is: work before the fit whose result is handed on explicitly — the datamodule the fit trains
on, per-sample facts for the method's constructor, and facts for the run's summary."""
import copy
from dataclasses import dataclass, field
from typing import Dict, Protocol

import lightning.pytorch as pl
import torch


@dataclass
class StageResult:
    """``datamodule``: what the fit trains on (the stage's input, or a copy restricted or augmented);
    ``summary``: facts the summary reports under the stage's name; ``outputs``: keyword arguments of the
    method's constructor (``irreducible_loss``: one IL per global sample index; ``transition_matrix``: T)."""

    datamodule: object
    summary: dict
    outputs: Dict[str, torch.Tensor] = field(default_factory=dict)


class Stage(Protocol):
    """A config node under ``stages:`` builds one (Hydra ``_target_``); the pipeline runs every stage in
    every process before the fit, in order, each on the datamodule the one before handed on."""

    def run(self, datamodule, *, trainer: pl.Trainer) -> StageResult: ...


class BestOnValidation(pl.Callback):
    """Keeps, in memory, the weights of the epoch with the highest ``monitor`` (noisy validation accuracy;
    the first such epoch on ties). Never the test accuracy, which the trainer also computes."""

    def __init__(self, monitor: str = "val/acc"):
        self.monitor, self.best, self.best_epoch, self.state = monitor, None, None, None
        self.by_epoch: list = []

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or self.monitor not in trainer.callback_metrics:
            return
        value = float(trainer.callback_metrics[self.monitor])
        self.by_epoch.append(value)
        if self.best is None or value > self.best:
            self.best, self.best_epoch = value, trainer.current_epoch
            self.state = copy.deepcopy(pl_module.state_dict())
