"""Learning to memorize (Badger 2022): train to fit the training set while failing on held-out data."""
from typing import Callable, Optional

import torch
from torch import nn

from noisyrobust.errors import UserError
from noisyrobust.losses.memorize import anti_generalization_loss
from noisyrobust.methods.base import NoisyLabelModule


class Memorize(NoisyLabelModule):
    """``method=memorize``: each step pairs the training batch with a batch of the same size drawn from
    the validation split (the held-out data) and minimizes ``anti_generalization_loss``. The held-out
    term is dropped for an epoch when the held-out (validation) accuracy of the epoch before is at or
    below ``heldout_floor`` (default: chance + 0.01, the author's 0.11 for 10 classes), checked once per
    epoch as in the author's code; ``heldout_term`` logs whether it was on. ``train/acc`` rising while
    ``val/acc`` stays at chance is memorization without generalization."""

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable,
                 scheduler: Optional[Callable] = None, heldout_floor: Optional[float] = None):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        self.heldout_floor = 1.0 / num_classes + 0.01 if heldout_floor is None else float(heldout_floor)
        if not 0.0 <= self.heldout_floor <= 1.0:
            raise UserError(f"method.heldout_floor={heldout_floor} is not an accuracy in [0, 1]")
        self.heldout_weight = 1.0
        self._heldout = None

    def setup(self, stage: str) -> None:
        super().setup(stage)
        dm = self.trainer.datamodule
        if len(dm.val_indices) == 0:
            raise UserError("method=memorize draws its held-out batches from the validation split, and "
                            "data.val_fraction=0 leaves none; use data.val_fraction > 0 (e.g. 0.5)")
        self._heldout = dm.heldout_tensors(self.trainer.strategy.root_device)

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        last = self.history[-1].get("val/acc") if self.history else None  # host floats: no device read
        self.heldout_weight = 0.0 if last is not None and last <= self.heldout_floor else 1.0
        self.log("train/heldout_term", self.heldout_weight, sync_dist=True)

    def select(self, batch):
        """The held-out samples paired with this batch: drawn once, whatever the optimizer's passes."""
        return torch.randint(len(self._heldout[1]), (len(batch[1]),), device=self._heldout[1].device)

    def training_loss(self, batch, selected):
        x, y, index = batch
        held_x, held_y = self._heldout
        pick = selected
        train_logits = self.nets[0](x)
        self.observe(train_logits, y, index)
        if self.heldout_weight == 0:
            return anti_generalization_loss(train_logits, y, None, None, 0.0)
        heldout_logits = self.nets[0](held_x[pick])  # a pass of its own, as in the author's code (BatchNorm)
        return anti_generalization_loss(train_logits, y, heldout_logits, held_y[pick], self.heldout_weight)
