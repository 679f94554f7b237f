"""ELR+ (Liu et al., NeurIPS 2020): ELR with two networks, each regularized towards the running targets of
its peer's weight-averaged copy, on mixup batches."""
import copy
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from noisyrobust.per_sample.state import PerSampleState
from noisyrobust.errors import UserError
from noisyrobust.losses.dividemix import mixmatch
from noisyrobust.losses.elr import clamped_softmax, elr_regularizer, elr_target_update, sigmoid_rampup, soft_cross_entropy
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.methods.elr import check_elr


class ELRPlus(NoisyLabelModule):
    """Per step, for network k with peer j: mixup of the batch (λ ~ Beta(α, α), max(λ, 1 - λ)); the target
    t^k_i <- β t^k_i + (1 - β) softmax(EMA_j(x_i)) on the un-mixed batch (the EMA copy in train mode, as the
    reference), mixed with the same λ and permutation into q; loss = soft CE(mixed y) + w(step) λ_ELR
    log(1 - <q, p>). After the update, EMA_k <- a EMA_k + (1 - a) θ_k over the parameters (BatchNorm
    buffers are the copy's own). Both networks train on every batch (the reference trains net 1 for an
    epoch, then net 2). ``weighted_target``: the CE target normalize(mixed y ⊙ q) (the reference's
    CIFAR-100 case). Mixup is per DDP rank; the targets are merged across ranks every step."""

    def __init__(self, *, net1: nn.Module, net2: nn.Module, num_classes: int, optimizer: Callable,
                 scheduler: Optional[Callable] = None, beta: float = 0.7, lam: float = 3.0, alpha: float = 1.0,
                 coef_step: int = 0, ema_alpha: float = 0.997, ema_update: bool = True, ema_step: int = 40000,
                 weighted_target: bool = False, seed: int = 0):
        check_elr(beta, lam)
        if alpha <= 0 or not 0.0 < ema_alpha < 1.0:
            raise UserError(f"method.alpha={alpha} must be > 0 and method.ema_alpha={ema_alpha} in (0, 1)")
        super().__init__(nets=[net1, net2], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        self.ema = nn.ModuleList(copy.deepcopy(n).requires_grad_(False) for n in (net1, net2))
        self.beta, self.lam, self.alpha, self.coef_step = beta, lam, alpha, coef_step
        self.ema_alpha, self.ema_update, self.ema_step = ema_alpha, ema_update, ema_step
        self.weighted_target, self.num_classes = weighted_target, num_classes
        self.rng = np.random.default_rng(seed)

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if self.per_sample is None:
            self.per_sample = PerSampleState(len(self.clean_labels), trailing={"target": (2, self.num_classes)},
                                             target=torch.float32)

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        self.rng = np.random.default_rng(int(torch.randint(2**62, (1,))))  # EpochSeed reseeds: resumable

    def select(self, batch):
        """Mixup's λ and permutation, and the targets moved towards the peers' EMA predictions: once per batch."""
        x, y, index = batch
        lam, perm = float(self.rng.beta(self.alpha, self.alpha)), torch.randperm(len(y), device=self.device)
        with torch.no_grad():
            peer = [F.softmax(self.ema[j](x).float(), 1) for j in (1, 0)]  # EMA copies in train mode
        self.per_sample.write(index, target=torch.stack([elr_target_update(
            self.per_sample.target[index, k], peer[k], beta=self.beta) for k in (0, 1)], 1))
        self.per_sample.share(index, self.trainer.world_size)
        return lam, perm

    def training_loss(self, batch, selected):
        x, y, index = batch
        lam, perm = selected
        onehot = F.one_hot(y, self.num_classes).float()
        mixed_x, mixed_y = mixmatch(x, onehot, lam=lam, perm=perm)
        weight = sigmoid_rampup(self.global_step, self.coef_step) * self.lam
        loss = 0.0
        for k in (0, 1):
            target = self.per_sample.target[index, k]
            q = max(lam, 1 - lam) * target + (1 - max(lam, 1 - lam)) * target[perm]
            logits = self.nets[k](mixed_x)
            ce_target = F.normalize(mixed_y * q, p=1, dim=1) if self.weighted_target else mixed_y
            loss = loss + soft_cross_entropy(logits, ce_target).mean() + weight * elr_regularizer(
                clamped_softmax(logits), q).mean()
            if k == 0:
                self.observe(logits, y, index)  # on mixed inputs: accuracy against the dominant image's label
        return loss

    def after_update(self, batch, selected) -> None:
        """EMA_k <- a EMA_k + (1 - a) θ_k."""
        step = self.global_step
        a = (sigmoid_rampup(step + 1, self.ema_step) * self.ema_alpha if self.ema_update
             else min(1 - 1 / (step + 1), self.ema_alpha))
        with torch.no_grad():
            for net, ema in zip(self.nets, self.ema):
                for p, e in zip(net.parameters(), ema.parameters()):
                    e.mul_(a).add_(p.detach(), alpha=1 - a)

    def label_issue_scores(self) -> dict:
        t, y = self.per_sample.target.mean(1), self.trainer.datamodule.noisy_labels.to(self.device)
        return {"elr_target": (1.0 - t.gather(1, y[:, None]).squeeze(1)).cpu().numpy()}
