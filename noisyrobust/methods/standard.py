"""Standard training: one network, every sample of the batch, a per-sample loss (CE, SCE, ...)."""
from typing import Callable, Optional

from torch import nn

from noisyrobust.methods.base import NoisyLabelModule


class Standard(NoisyLabelModule):
    """``method=ce`` and ``method=sce``: minimize the mean of ``loss(logits, noisy_label)`` over the batch."""

    def __init__(self, *, net: nn.Module, loss: nn.Module, num_classes: int, optimizer: Callable,
                 scheduler: Optional[Callable] = None):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        self.loss = loss

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits = self.nets[0](x)
        self.observe(logits, y, index)
        return self.loss(logits, y).mean()
