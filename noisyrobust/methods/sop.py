"""SOP and SOP+ (Liu et al., ICML 2022): each sample's label noise is modelled by its own parameters u_i,
v_i (s_i = u_i² y_i - v_i² ⊙ (1 - y_i)), learnt beside the network with plain SGD at their own learning
rates; SOP+ adds a strong view with a consistency term and a class-balance term."""
from typing import Callable, Optional

import torch
from torch import nn

from noisyrobust.per_sample.state import PerSampleState
from noisyrobust.errors import UserError
from noisyrobust.losses.sop import class_balance_loss, consistency_loss, sop_loss
from noisyrobust.methods.base import NoisyLabelModule


class SOP(NoisyLabelModule):
    """Loss = Term1 + Term2 (+ ``consistency`` KL(weak ‖ strong) + ``balance`` prior CE for SOP+).

    u (N x 1) and v (N x C) are per-sample state, not network parameters: each step takes the batch's rows
    as leaf tensors, and after the network's update moves them by plain SGD (no momentum, no weight decay,
    as the reference's second optimizer). Rows not in the batch have zero gradient: the sparse update is exact.

    ``lr_u`` / ``lr_v`` are the paper's rates, which it applies to a mean over batches of ``reference_batch``
    (128) for ``reference_epochs`` (300) epochs: each visit of sample i moves u_i by lr_u / 128 times the
    gradient of its own loss. u and v start at ~1e-8 and grow about geometrically with the number of visits
    times that step, so at the paper's per-visit step a run of 50 epochs leaves them where they started (SOP
    then trains as CE). Here each visit moves u_i by

        lr_u · (reference_epochs / E) / reference_batch · ∂ℓ_i/∂u_i        (E: the run's epochs)

    the paper's total step per sample over a run of any length and batch size: the same as the paper at its
    own 300 epochs and batch 128, W DDP processes included (each rank's loss is a mean over its B/W samples;
    the rows are then merged so every rank holds them all). ``reference_epochs=null`` takes the rates per
    visit at the paper's batch without the epoch factor."""

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, scheduler: Optional[Callable] = None,
                 lr_u: float = 1.0, lr_v: float = 10.0, std: float = 1e-8, consistency: float = 0.0,
                 balance: float = 0.0, seed: int = 0, reference_epochs: Optional[int] = 300,
                 reference_batch: int = 128):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        if lr_u <= 0 or lr_v <= 0:
            raise UserError(f"method.lr_u={lr_u} and method.lr_v={lr_v} must both be > 0")
        if std < 0 or consistency < 0 or balance < 0:
            raise UserError(f"method.std={std}, method.consistency={consistency} and method.balance={balance} "
                            "must be >= 0")
        if (reference_epochs is not None and reference_epochs < 1) or reference_batch < 1:
            raise UserError(f"method.reference_epochs={reference_epochs} (or null) and "
                            f"method.reference_batch={reference_batch} must be >= 1")
        self.lr_u, self.lr_v, self.std, self.seed = lr_u, lr_v, std, seed
        self.reference_epochs, self.reference_batch = reference_epochs, reference_batch
        self.consistency, self.balance, self.num_classes = consistency, balance, num_classes
        self._rows = None  # (index, u leaf, v leaf) of the last loss pass: after_update applies its gradient

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if self.per_sample is None:  # u, v ~ N(0, std²), drawn from the seed alone: the same on every rank
            n, g = len(self.clean_labels), torch.Generator().manual_seed(self.seed)
            self.per_sample = PerSampleState(n, trailing={"u": (1,), "v": (self.num_classes,)},
                                             u=torch.float32, v=torch.float32)
            self.per_sample.u.copy_(torch.randn(n, 1, generator=g) * self.std)
            self.per_sample.v.copy_(torch.randn(n, self.num_classes, generator=g) * self.std)

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        weak, *strong = x if isinstance(x, (tuple, list)) else (x,)
        if self.consistency > 0 and not strong:
            raise UserError("method.consistency > 0 (SOP+) needs a strong view of each image: keep the stage "
                            "stages.views of method=sop_plus's config")
        logits = self.nets[0](torch.cat([weak, *strong]) if strong else weak)
        logits, strong_logits = (logits[:len(y)], logits[len(y):]) if strong else (logits, None)
        u = self.per_sample.u[index].clone().requires_grad_(True)
        v = self.per_sample.v[index].clone().requires_grad_(True)
        self._rows = (index, u, v)
        loss = sop_loss(logits, y, u, v)
        if strong_logits is not None:
            loss = loss + self.consistency * consistency_loss(logits, strong_logits)
        if self.balance > 0:
            loss = loss + self.balance * class_balance_loss(logits, y, u, v)
        self.observe(logits, y, index)
        return loss

    def after_update(self, batch, selected) -> None:
        """u, v of the batch's rows by plain SGD on the gradient of the last loss pass (the one applied)."""
        index, u, v = self._rows
        if u.grad is None:
            return
        scale = self.visit_scale(len(index))
        with torch.no_grad():
            self.per_sample.write(index, u=u - self.lr_u * scale * u.grad, v=v - self.lr_v * scale * v.grad)
        self.per_sample.share(index, self.trainer.world_size)

    def visit_scale(self, local_batch: int) -> float:
        """The factor from the gradient of this rank's mean loss to the per-visit step (see the class)."""
        run = self.trainer.max_epochs  # -1 or None: a run bounded by steps only, left unscaled
        epochs = 1.0 if self.reference_epochs is None or not run or run < 1 else self.reference_epochs / run
        return epochs * local_batch / self.reference_batch

    def label_issue_scores(self) -> dict:
        """u_i² (the mass added to the given label) and sum_c v_ic² (taken from the other classes)."""
        return {"sop_u": (self.per_sample.u[:, 0] ** 2).cpu().numpy(),
                "sop_v": (self.per_sample.v ** 2).sum(1).cpu().numpy()}


