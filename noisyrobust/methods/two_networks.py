"""Plumbing shared by the two-network methods: the forget-rate schedule, one optimizer over both
networks (Adam and SGD act per parameter, so for losses that each touch one network this equals one
optimizer per network), and the diagnostics of what each network hands to training."""
from typing import Callable, Optional

import torch
from torch import nn

from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.selection import ForgetRateSchedule, num_to_keep


class TwoNetworks(NoisyLabelModule):
    shows_selection = True

    def __init__(self, *, net1: nn.Module, net2: nn.Module, num_classes: int, optimizer: Callable,
                 scheduler: Optional[Callable] = None, forget_rate: float, num_gradual: int = 10,
                 exponent: float = 1.0):
        super().__init__(nets=[net1, net2], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        self.schedule = ForgetRateSchedule(forget_rate, num_gradual, exponent)

    @property
    def forget_rate_now(self) -> float:
        """R(t) of the current epoch."""
        return self.schedule(self.current_epoch)

    def keep_count(self, n):  # an int, or a 0-d device tensor (a count known on the device only)
        return num_to_keep(n, self.forget_rate_now)

    def record(self, logits1: torch.Tensor, given: torch.Tensor, index: torch.Tensor,
               *kept: torch.Tensor) -> None:
        """Memorization from network 1; selection quality pooled over the kept masks (each network's
        selection is scored as one more pass over the batch)."""
        if self.probing:
            return
        self.observe(logits1, given, index, kept=kept[0])
        for mask in kept[1:]:
            clean = self.clean_labels[index]
            self.selection.update(mask, given == clean, clean >= 0)

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        self.log("select/forget_rate", self.forget_rate_now)
