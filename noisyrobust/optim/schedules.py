"""Learning-rate schedules of the papers that torch does not ship."""
from contextlib import contextmanager

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
