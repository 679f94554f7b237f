"""Sharpness-aware minimization: SAM (Foret et al., ICLR 2021) and ASAM (Kwon et al., ICML 2021)."""
from typing import Callable, Optional

import torch
from torch.optim import Optimizer

from noisyrobust.errors import UserError


class SAM(Optimizer):
    """Descend the loss at the worst nearby point: with g = ∇L(w),

        SAM:   e = ρ · g / ‖g‖₂
        ASAM:  e = ρ · |w|² ⊙ g / ‖|w| ⊙ g‖₂            (``adaptive=True``: T_w = |w|, the paper's η = 0)

    norms over all parameters with a gradient; then g' = ∇L(w + e) and the base optimizer steps from w
    with g'. Each step needs two gradients, so it is split in two calls around the second backward:

        loss(w).backward(); sam.ascend()        # w -> w + e
        zero_grad(); loss(w + e).backward()
        sam.step()                              # w + e -> w, then base_optimizer.step() with g'

    (``NoisyLabelModule.training_step`` does this for every method when ``two_pass`` is set.)
    ``param_groups`` are the base optimizer's, so an lr scheduler built on SAM schedules the base;
    ``state_dict`` is the base optimizer's (momenta, Adam moments), so checkpoints resume exactly.

    >>> opt = SAM(torch.nn.Linear(3, 2).parameters(), base_optimizer=torch.optim.SGD, rho=0.05, lr=0.1)
    """

    two_pass = True  # the training step runs ascend -> second backward -> step

    def __init__(self, params, *, base_optimizer: Callable[..., Optimizer], rho: float = 0.05,
                 adaptive: bool = False, eps: float = 1e-12, **base_kwargs):
        if not rho > 0:
            raise UserError(f"optimizer.rho={rho} must be > 0 (the radius of SAM's ascent step)")
        # rho, adaptive and eps stay out of the param groups, where the base's own keys live (Adam's eps,
        # Adadelta's rho)
        self.rho, self.adaptive, self.eps = rho, adaptive, eps
        self._ascended: list = []  # the parameters now at w + e
        super().__init__(params, {})
        self.base_optimizer = base_optimizer(self.param_groups, **base_kwargs)
        self.param_groups = self.base_optimizer.param_groups  # the same dicts: lr, betas, ...
        self.defaults = self.base_optimizer.defaults

    @torch.no_grad()
    def ascend(self) -> None:
        """w -> w + e from the gradients in ``.grad``; w is kept until ``restore``/``step``."""
        assert not self._ascended, "ascend() twice without restore()/step() in between"
        params = [p for g in self.param_groups for p in g["params"] if p.grad is not None]
        if not params:
            return
        grads = [p.grad for p in params]
        scaled = torch._foreach_mul(grads, torch._foreach_abs(params)) if self.adaptive else grads  # |w| ⊙ g
        norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(scaled)))  # on the device: no sync
        e = torch._foreach_mul(scaled, torch._foreach_abs(params)) if self.adaptive else scaled
        e = torch._foreach_mul(e, self.rho / (norm + self.eps))
        for p in params:
            if "w" not in self.state[p]:
                self.state[p]["w"] = torch.empty_like(p)  # allocated once, reused every step
        torch._foreach_copy_([self.state[p]["w"] for p in params], params)
        torch._foreach_add_(params, e)
        self._ascended = params

    @torch.no_grad()
    def restore(self) -> None:
        """w + e -> w, exactly (a copy of w, not a subtraction); a no-op when not ascended."""
        if self._ascended:
            torch._foreach_copy_(self._ascended, [self.state[p]["w"] for p in self._ascended])
        self._ascended = []

    @torch.no_grad()
    def step(self, closure: Optional[Callable] = None):
        """Back to w, then the base optimizer's step with the gradients now in ``.grad`` (taken at
        w + e). ``closure`` (Lightning passes its hooks as one) runs first, before w is restored."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self.restore()
        self.base_optimizer.step()
        return loss

    def state_dict(self) -> dict:
        return self.base_optimizer.state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        self.base_optimizer.load_state_dict(state_dict)
        self.param_groups = self.base_optimizer.param_groups  # loading replaces the group dicts
