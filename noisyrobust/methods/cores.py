"""CORES² (Cheng et al., ICLR 2021): confidence-regularized CE, and a sample sieve that drops, from an epoch
on, the samples whose loss on the given label exceeds their mean loss over the classes."""
from typing import Callable, Optional

import torch
from torch import nn

from noisyrobust.errors import UserError
from noisyrobust.losses.cores import PAPER_EPOCHS, cores_beta, cores_loss
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.per_sample.state import PerSampleState
from noisyrobust.selection import masked_mean
from noisyrobust.selection.schedule import stretched_epoch
from noisyrobust.selection.sieve import sieve_mask, sieve_statistic, sieved_prior

SIEVE_AFTER = 30  # the authors keep every sample while epoch <= 30


class CORES(NoisyLabelModule):
    """Per step: s_i = CE_i - mean_k(-log(p_k + 1e-8)) (the sieve statistic), v_i = 1 while the sieve is off
    or s_i <= 0, loss = sum_i v_i (CE_i - β(e) sum_k π_k (-log(p_k + 1e-8))) / sum_i v_i (0 when the sieve
    keeps nothing, where the authors' code crashes), the update at lr / (1 + β(e)) as theirs. β(e) and the sieve
    follow the authors' 100-epoch plan (β 0 until epoch 10, to ``beta`` by 40; the sieve after epoch 30),
    stretched over ``schedule_epochs`` (default: the run's; 100 keeps the authors' epochs). π starts at the
    noisy class frequencies; each epoch starts from the counts of each noisy class among the samples the last
    epoch did not sieve out. s_i, v_i and the epoch of each sample's last visit are per-sample state (merged
    every step, so identical on every DDP rank, and in checkpoints); π is recomputed from them.

    The authors' SGD has lr plan 0.1 × 50, 0.01 × 50 *divided* by 1 + β; NP multiplies the plan into an lr of
    0.1 (LambdaLR), 10x too small: the protocol configs follow the authors. Phase 2 (CORES*, semi-supervised
    training on the sieved set) is not built."""

    shows_selection = True

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, scheduler: Optional[Callable] = None,
                 beta: float = 2.0, schedule_epochs: Optional[int] = None):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        if beta < 0:
            raise UserError(f"method.beta={beta} must be >= 0")
        if schedule_epochs is not None and schedule_epochs < 1:
            raise UserError(f"method.schedule_epochs={schedule_epochs} must be >= 1 (or null: the run's epochs)")
        self.peak_beta, self.schedule_epochs, self.num_classes = beta, schedule_epochs, num_classes

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if self.per_sample is None:
            self.per_sample = PerSampleState(len(self.clean_labels), statistic=torch.float32, kept=torch.float32,
                                             visited=torch.long)
            self.per_sample.kept.fill_(1.0)
            self.per_sample.visited.fill_(-1)
        dm = self.trainer.datamodule
        self.register_buffer("train_rows", dm.train_indices.clone(), persistent=False)
        self.register_buffer("train_labels", dm.noisy_labels[dm.train_indices].clone(), persistent=False)
        self.register_buffer("prior", torch.zeros(self.num_classes), persistent=False)

    def paper_epoch(self) -> float:
        length = self.schedule_epochs or self.trainer.max_epochs
        return stretched_epoch(self.current_epoch, paper_epochs=PAPER_EPOCHS, run_epochs=length)

    def beta(self) -> float:
        return cores_beta(self.paper_epoch(), peak=self.peak_beta)

    def lr_factor(self) -> float:
        return 1.0 / (1.0 + self.beta())

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        s = self.per_sample
        last = s.visited[self.train_rows] == self.current_epoch - 1
        self.prior.copy_(sieved_prior(self.train_labels, last & (s.kept[self.train_rows] == 0), self.num_classes))

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits = self.nets[0](x)
        statistic = sieve_statistic(logits.detach(), y)
        kept = sieve_mask(statistic, active=self.paper_epoch() > SIEVE_AFTER)
        self.per_sample.write(index, statistic=statistic, kept=kept, visited=torch.full_like(index, self.current_epoch))
        self.per_sample.share(index, self.trainer.world_size)
        self.observe(logits, y, index, kept=kept)
        return masked_mean(cores_loss(logits, y, self.prior, beta=self.beta()), kept)

    def label_issue_scores(self) -> dict:
        """The sieve statistic at each sample's last visit (> 0: sieved out once the sieve is on)."""
        return {"cores_sieve": self.per_sample.statistic.cpu().numpy()}
