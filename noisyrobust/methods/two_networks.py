"""Plumbing shared by the two-network methods: the forget-rate schedule, one optimizer over both
networks (Adam and SGD act per parameter, so for losses that each touch one network this equals one
optimizer per network), and the diagnostics of what each network hands to training."""
from typing import Callable, Optional

import torch
from torch import nn

from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.methods.global_batch import gather_global_batch, global_kept_mean
from noisyrobust.selection import ForgetRateSchedule, masked_mean, num_to_keep, small_loss_mask


class TwoNetworks(NoisyLabelModule):
    shows_selection = True

    def __init__(self, *, net1: nn.Module, net2: nn.Module, num_classes: int, optimizer: Callable,
                 scheduler: Optional[Callable] = None, forget_rate: float, num_gradual: int = 10,
                 exponent: float = 1.0, selection_scope: str = "local"):
        super().__init__(nets=[net1, net2], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        self.schedule = ForgetRateSchedule(forget_rate, num_gradual, exponent)
        self.selection_scope = selection_scope

    @property
    def forget_rate_now(self) -> float:
        """R(t) of the current epoch."""
        return self.schedule(self.current_epoch)

    def keep_count(self, n):  # an int, or a 0-d device tensor (a count known on the device only)
        return num_to_keep(n, self.forget_rate_now)

    def small_loss(self, losses: torch.Tensor, among: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The (1 - R(t)) small-loss share of the batch (of ``among`` when given: Co-teaching+), as a mask
        over this process's batch; with ``selection_scope=global`` chosen over the global batch."""
        if self.selection_scope == "global" and self.trainer.world_size > 1:
            gathered, mine = gather_global_batch(self, losses, *([] if among is None else [among]))
            among_all = None if among is None else gathered[1].bool()
            return small_loss_mask(gathered[0], self._keep(gathered[0], among_all), among_all)[mine]
        return small_loss_mask(losses, self._keep(losses, among), among)

    def _keep(self, losses: torch.Tensor, among: Optional[torch.Tensor]):
        if among is None:
            return self.keep_count(len(losses))
        return self.keep_count(among.sum())  # a device count: no host sync, exact (float64) as for an int

    def kept_mean(self, values: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
        """The mean of ``values`` over the kept samples (over all processes' with ``selection_scope=global``)."""
        if self.selection_scope == "global" and self.trainer.world_size > 1:
            total = self.trainer.strategy.reduce(kept.sum().float(), reduce_op="sum")
            return global_kept_mean(self, values, kept, total)
        return masked_mean(values, kept)

    def record(self, logits1: torch.Tensor, given: torch.Tensor, index: torch.Tensor,
               *kept: torch.Tensor) -> None:
        """Memorization from network 1; selection quality pooled over the kept masks (each network's
        selection is scored as one more pass over the batch)."""
        self.observe(logits1, given, index, kept=kept[0])
        for mask in kept[1:]:
            self.observe_selection(given, index, mask)

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        self.log("select/forget_rate", self.forget_rate_now, sync_dist=True)
