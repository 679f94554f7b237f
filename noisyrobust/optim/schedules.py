"""Learning-rate schedules of the papers that torch does not ship."""
from contextlib import contextmanager

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from noisyrobust.errors import UserError


class CoteachingSchedule(LRScheduler):
    """Co-teaching / JoCoR (Han et al. 2018; Wei et al. 2020), stepped once per epoch: the lr stays at
    its base value until ``decay_start``, then at epoch e >= decay_start it is
    ``base * (max_epochs - e) / (max_epochs - decay_start)``; from ``decay_start`` on, Adam's beta1 is
    ``beta1_after`` (0.9 -> 0.1 in the papers). A ``decay_start`` at or past ``max_epochs`` (a shortened
    run of a 200-epoch protocol) never decays."""

    def __init__(self, optimizer: Optimizer, *, max_epochs: int, decay_start: int, beta1_after: float = 0.1,
                 last_epoch: int = -1):
        if decay_start < 0:
            raise UserError(f"scheduler.decay_start={decay_start} must be >= 0")
        self.max_epochs, self.decay_start, self.beta1_after = max_epochs, decay_start, beta1_after
        self.beta1_before = [g["betas"][0] if "betas" in g else None for g in optimizer.param_groups]
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        e = self.last_epoch
        decaying = self.decay_start <= e and self.decay_start < self.max_epochs
        for group, beta1 in zip(self.optimizer.param_groups, self.beta1_before):
            if beta1 is not None:
                group["betas"] = (self.beta1_after if decaying else beta1, group["betas"][1])
        factor = (self.max_epochs - e) / (self.max_epochs - self.decay_start) if decaying else 1.0
        return [base * factor for base in self.base_lrs]


def lr_factors(scheduler_factory, epochs: int) -> list:
    """The multipliers of the base learning rate that a per-epoch scheduler (a partial taking ``optimizer``;
    None: constant) gives epochs 0 .. ``epochs`` - 1, read by running it on a one-parameter optimizer: so that
    a method can scale any configured schedule (CAL divides it by 1 + alpha_t) without knowing its kind."""
    if scheduler_factory is None:
        return [1.0] * epochs
    probe = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler, factors = scheduler_factory(optimizer=probe), []
    for _ in range(epochs):
        factors.append(probe.param_groups[0]["lr"])
        probe.step()  # (no gradient: nothing moves) keeps torch's order check quiet
        scheduler.step()
    return factors


@contextmanager
def scaled_lr(optimizer: Optimizer, factor: float):
    """Every param group's lr times ``factor`` inside the block, the scheduled values put back exactly after
    (a factor of 1 touches nothing): lr / (1 + α) of peer loss and CORES², on top of any schedule."""
    if factor == 1.0:
        yield
        return
    saved = [group["lr"] for group in optimizer.param_groups]
    for group in optimizer.param_groups:
        group["lr"] = group["lr"] * factor
    try:
        yield
    finally:
        for group, lr in zip(optimizer.param_groups, saved):
            group["lr"] = lr
