"""CAL (Zhu, Liu & Liu, CVPR 2021, "A Second-Order Approach to Learning with Instance-Dependent Label Noise"):
a sieve stage distills each sample's label; then a fresh network trains with CE minus a peer term minus
the covariance term that the distilled labels estimate, which removes the instance-dependent noise's bias."""
import copy
from typing import Callable, Optional

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

from noisyrobust.errors import UserError
from noisyrobust.losses.cal import (alpha_at, class_loss_sums, covariance_term, distilled_labels, peer_term,
                                    sieve_loss, sieve_score)
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.noise import transition_matrix
from noisyrobust.optim.schedules import lr_factors
from noisyrobust.per_sample.state import PerSampleState


def fresh_weights(net: nn.Module, seed: int) -> dict:
    """``net``'s weights as its layers initialize them from ``seed``, drawn on a CPU copy: the same on every rank."""
    clone = copy.deepcopy(net).cpu()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in clone.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return clone.state_dict()


class CAL(NoisyLabelModule):
    """Epochs [0, ``warmup_epochs``), the sieve: mean -log(p_y + 1e-8) - alpha_t sum_k pi_k (-log(p_k + 1e-5)),
    pi the square-root prior, alpha_t to ``alpha_sieve``; each step the batch's distilled labels (the given label
    where the sieve score d < -8, else the prediction) and d are kept per sample. The last sieve epoch's define
    T̂ = p(ỹ | distilled) and P = p(distilled). Then a fresh network (layers re-initialized from ``seed``, a
    fresh optimizer and schedule, as the authors' second run): mean CE - alpha_t (peer term with the noisy prior
    times ``prior_scale``) - the covariance term, alpha_t to ``alpha``. alpha_t is 0 to epoch ``alpha_start``
    of each stage, linear to its target at ``alpha_end``. The learning rate of the run's schedule (restarted at
    the second stage) is divided by 1 + alpha_t, as the authors' schedulers do (noisypy does not divide).

    CIFAR-100: ``prior_scale`` 10, as the authors move a factor 10 from alpha into the prior (noisypy omits it).
    The covariance term's per-(i, j) means mu are the last epoch's (0 in the first CAL epoch), summed over DDP
    ranks at each epoch's end; the per-sample labels are merged every step, so every rank holds all rows."""

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, scheduler: Optional[Callable] = None,
                 warmup_epochs: int = 40, alpha_sieve: float = 2.0, alpha: float = 1.0, alpha_start: int = 10,
                 alpha_end: int = 40, prior_scale: float = 1.0, seed: int = 0):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        if warmup_epochs < 1 or not 0 <= alpha_start <= alpha_end:
            raise UserError(f"method.warmup_epochs={warmup_epochs} must be >= 1 and 0 <= method.alpha_start="
                            f"{alpha_start} <= method.alpha_end={alpha_end}")
        if alpha_sieve < 0 or alpha < 0 or prior_scale <= 0:
            raise UserError(f"method.alpha_sieve={alpha_sieve} and method.alpha={alpha} must be >= 0, "
                            f"method.prior_scale={prior_scale} > 0")
        self.warmup_epochs, self.alpha_sieve, self.alpha, self.prior_scale = warmup_epochs, alpha_sieve, alpha, prior_scale
        self.alpha_start, self.alpha_end, self.seed, self.num_classes = alpha_start, alpha_end, seed, num_classes
        c = num_classes
        self.register_buffer("loss_mean", torch.zeros(c, c))  # mu: travels in checkpoints
        for name, shape in (("loss_sums", (c, c)), ("loss_counts", (c,)), ("transition", (c, c)), ("share", (c,)),
                            ("noisy_prior", (c,)), ("sqrt_prior", (c,))):
            self.register_buffer(name, torch.zeros(shape), persistent=False)

    # -- where the run stands ----------------------------------------------------------------------------
    @property
    def sieving(self) -> bool:
        return self.current_epoch < self.warmup_epochs

    def stage_epoch(self, epoch: int) -> int:
        return epoch if epoch < self.warmup_epochs else epoch - self.warmup_epochs

    def alpha_of(self, epoch: int) -> float:
        target = self.alpha_sieve if epoch < self.warmup_epochs else self.alpha
        return alpha_at(self.stage_epoch(epoch), target, start=self.alpha_start, end=self.alpha_end)

    def setup(self, stage: str) -> None:
        super().setup(stage)
        dm = self.trainer.datamodule
        counts = torch.bincount(dm.noisy_labels[dm.train_indices], minlength=self.num_classes).float()
        self.noisy_prior.copy_(counts / counts.sum())
        self.sqrt_prior.copy_(counts.sqrt() / counts.sqrt().sum())
        if self.per_sample is None:  # distilled labels start as the given ones
            self.per_sample = PerSampleState(len(self.clean_labels), distilled=torch.long, sieve_score=torch.float32)
            self.per_sample.distilled.copy_(dm.noisy_labels)

    def configure_optimizers(self):
        """The run's optimizer; its schedule restarted at the second stage and divided by 1 + alpha_t."""
        optimizer = self.optimizer_factory(params=self.trainable_parameters())
        epochs = max(self.trainer.max_epochs or 0, self.warmup_epochs + 1)  # (max_epochs -1: a run bounded by steps)
        factors = lr_factors(self.scheduler_factory, epochs)
        scale = [factors[self.stage_epoch(e)] / (1.0 + self.alpha_of(e)) for e in range(epochs)]
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": LambdaLR(optimizer, lambda e: scale[min(e, epochs - 1)]),
                                                          "interval": "epoch"}}

    # -- the switch and the per-epoch estimates ------------------------------------------------------------
    def on_train_epoch_start(self) -> None:
        if self.current_epoch == self.warmup_epochs:  # the second stage: a fresh network and optimizer
            self.nets[0].load_state_dict(fresh_weights(self.nets[0], self.seed))
            self.reset_optimizer()
        super().on_train_epoch_start()
        if not self.sieving:
            dm = self.trainer.datamodule
            rows = dm.train_indices
            distilled = self.per_sample.distilled[rows.to(self.device)].cpu().numpy()
            t = transition_matrix(distilled, dm.noisy_labels[rows].numpy(), num_classes=self.num_classes)
            self.transition.copy_(torch.as_tensor(t, dtype=torch.float32))
            self.share.copy_(torch.as_tensor(np.bincount(distilled, minlength=self.num_classes) / len(distilled),
                                             dtype=torch.float32))

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits = self.nets[0](x)
        self.observe(logits, y, index)
        alpha = self.alpha_of(self.current_epoch)
        if self.sieving:
            score = sieve_score(logits.detach(), y)
            distilled = distilled_labels(score, y, logits.detach(), self.per_sample.distilled[index])
            self.per_sample.write(index, distilled=distilled, sieve_score=score)
            self.per_sample.share(index, self.trainer.world_size)
            return sieve_loss(logits, y, self.sqrt_prior, alpha).mean()
        distilled = self.per_sample.distilled[index]
        if self._recording:  # mu's sums see each batch once, also under SAM's second pass
            sums, counts = class_loss_sums(logits, y, distilled, self.transition)
            self.loss_sums.add_(sums)
            self.loss_counts.add_(counts)
        prior = self.noisy_prior * self.prior_scale
        return (F.cross_entropy(logits.float(), y) - alpha * peer_term(logits, prior).mean()
                - covariance_term(logits, y, distilled, self.transition, self.share, self.loss_mean))

    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()
        if self.sieving:
            return
        if self.trainer.world_size > 1:
            dist.all_reduce(self.loss_sums)
            dist.all_reduce(self.loss_counts)
        self.loss_mean.copy_(self.loss_sums / self.loss_counts.clamp(min=1)[:, None])
        self.loss_sums.zero_()
        self.loss_counts.zero_()

    def label_issue_scores(self) -> dict:
        """The sieve score d of the last sieve epoch: higher = the given label fits worse than an average class."""
        return {"cal_sieve": self.per_sample.sieve_score.cpu().numpy()}
