"""Generalized label smoothing (Wei et al., ICML 2022): CE first, then CE against labels smoothed at a rate r
that may be negative (negative label smoothing, the better choice under heavy noise in the paper)."""
from typing import Callable, Optional

from torch import nn

from noisyrobust.errors import UserError
from noisyrobust.losses import cross_entropy
from noisyrobust.losses.gls import generalized_label_smoothing
from noisyrobust.methods.base import NoisyLabelModule


class GLS(NoisyLabelModule):
    """``warmup_epochs`` of CE, then the mean of (1 - r)·CE + r·mean_k(-log p_k), r = ``smooth_rate`` (< 1; the
    paper's grid runs from 0.8 to -8). The authors' two protocols: direct training (``warmup_epochs=0``), and
    GLS-load, 120 CE epochs (plain SGD) keeping the model best on the *test* set, then 100 GLS epochs from it at
    lr 1e-6 with momentum. Here the switch continues from the warm-up's last weights with the run's optimizer
    and schedule, times ``stage_lr_factor`` after the warm-up (no test-set selection)."""

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, scheduler: Optional[Callable] = None,
                 smooth_rate: float = -0.2, warmup_epochs: int = 10, stage_lr_factor: float = 1e-3):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        if not smooth_rate < 1.0:
            raise UserError(f"method.smooth_rate={smooth_rate} must be < 1 (1 leaves no weight on the label; "
                            "negative values are negative label smoothing)")
        if not stage_lr_factor > 0:
            raise UserError(f"method.stage_lr_factor={stage_lr_factor} must be > 0")
        self.smooth_rate, self.warmup_epochs, self.stage_lr_factor = smooth_rate, warmup_epochs, stage_lr_factor

    def lr_factor(self) -> float:
        return 1.0 if self.current_epoch < self.warmup_epochs else self.stage_lr_factor

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits = self.nets[0](x)
        self.observe(logits, y, index)
        if self.current_epoch < self.warmup_epochs:
            return cross_entropy(logits.float(), y).mean()
        return generalized_label_smoothing(logits, y, smooth_rate=self.smooth_rate).mean()
