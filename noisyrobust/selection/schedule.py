"""The forget-rate schedule R(t) of Co-teaching, Co-teaching+ and JoCoR."""
from dataclasses import dataclass

from noisyrobust.errors import UserError


@dataclass(frozen=True)
class ForgetRateSchedule:
    """R(t) = tau^c * t / (T_k - 1) for epochs t < T_k (0 to tau^c, as ``np.linspace`` in the reference
    code), then tau. ``forget_rate`` tau defaults to the noise rate (rate / 2 for asymmetric noise)."""

    forget_rate: float
    num_gradual: int = 10
    exponent: float = 1.0

    def __post_init__(self):
        if not 0.0 <= self.forget_rate <= 1.0:
            raise UserError(f"method.forget_rate={self.forget_rate} is outside [0, 1]")
        if self.num_gradual < 0:
            raise UserError(f"method.num_gradual={self.num_gradual} must be >= 0")

    def __call__(self, epoch: int) -> float:
        if epoch >= self.num_gradual:
            return self.forget_rate
        peak = self.forget_rate ** self.exponent
        return peak * epoch / max(self.num_gradual - 1, 1)  # T_k = 1: linspace(0, peak, 1) == [0]


def stretched_epoch(epoch: float, *, paper_epochs: int, run_epochs: int) -> float:
    """The epoch of a paper's ``paper_epochs``-epoch schedule that epoch ``epoch`` of a ``run_epochs``-epoch
    run stands at: e · paper_epochs / run_epochs (the identity when the run is the paper's length), so an
    epoch-indexed schedule (peer loss's α, CORES²'s β and sieve) keeps its shape over a run of any length."""
    if run_epochs < 1:
        raise UserError(f"a schedule stretched over {run_epochs} epochs: use a positive number of epochs")
    return epoch * paper_epochs / run_epochs
