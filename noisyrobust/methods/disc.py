"""DISC (Li et al., CVPR 2023, "DISC: Learning from Noisy Labels via Dynamic Instance-Specific Selection and
Correction"): one network on a weak and a strong view of each image; every sample keeps its own confidence
threshold per view, a running average of its confidence, and each epoch the samples are split by them into a
clean set (CE), a hard set (GCE) and a relabelled set, the last two with the clean one trained by mixup."""
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from noisyrobust.data.augment import mixup, permutation_within
from noisyrobust.errors import UserError
from noisyrobust.losses import cross_entropy
from noisyrobust.losses.disc import disc_supervised_loss
from noisyrobust.losses.elr import soft_cross_entropy
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.per_sample.state import PerSampleState
from noisyrobust.selection import masked_mean
from noisyrobust.selection.disc import disc_sets, threshold_update


class DISC(NoisyLabelModule):
    """Every step stores the train-mode softmax of both views of the batch (per sample, shared over DDP ranks).
    While epoch < ``warmup_epochs``: CE_w + CE_s. Afterwards: lambda_ce (n_c/B) CE(clean) + lambda_h (n_h/B)
    GCE(hard) on both views, + mixup CE over the weak set (corrected labels), once per view, each with its own
    lambda = max(l, 1 - l), l ~ Beta(alpha, alpha). At the end of every epoch (warm-up included)
    ``selection.disc.disc_sets`` with the thresholds tau^w, tau^s (starting at 1/N), then
    tau <- m tau + (1 - m) max_k p_k per view.

    As the authors' code, not noisypy's: the warm-up ends at ``warmup_epochs`` (noisypy trains one epoch
    more); the correction threshold is capped at 0.99 (the commit read; an earlier one has 0.90). Departures: the mixup partners are one random cycle among
    the weak set of the whole batch (``permutation_within``), and the mixed batch is the whole batch (rows
    outside the set are their own partner and weigh nothing), so BatchNorm sees those rows unmixed; a batch
    with every set empty still steps (zero gradient: weight decay alone), where the authors skip it, to keep
    the step free of host syncs."""

    shows_selection = True
    # the authors' values in all their scripts: CE's weight, GCE's q, mixup's Beta(5, 5), the correction cap
    lambda_ce, q, mixup_alpha, correction_cap = 1.0, 0.7, 5.0, 0.99

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, scheduler: Optional[Callable] = None,
                 warmup_epochs: int = 20, momentum: float = 0.99, sigma: float = 0.5, lambda_h: float = 1.0,
                 seed: int = 0):
        if not 0.0 <= momentum < 1.0:
            raise UserError(f"method.momentum={momentum} must be in [0, 1)")
        if min(warmup_epochs, sigma, lambda_h) < 0:
            raise UserError(f"method.warmup_epochs={warmup_epochs}, method.sigma={sigma} and "
                            f"method.lambda_h={lambda_h} must be >= 0")
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        self.warmup_epochs, self.momentum, self.sigma, self.lambda_h = warmup_epochs, momentum, sigma, lambda_h
        self.num_classes, self.rng = num_classes, np.random.default_rng(seed)

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if self.per_sample is None:
            n, c = len(self.clean_labels), self.num_classes
            self.per_sample = PerSampleState(n, trailing={"prob_w": (c,), "prob_s": (c,)}, prob_w=torch.float32,
                                             prob_s=torch.float32, thr_w=torch.float32, thr_s=torch.float32,
                                             clean=torch.bool, hard=torch.bool, correction=torch.bool,
                                             weak=torch.bool, labels=torch.long)
            start = 1.0 / len(self.trainer.datamodule.train_indices)  # 1/N, as the authors
            self.per_sample.thr_w.fill_(start)
            self.per_sample.thr_s.fill_(start)
            self.per_sample.labels.copy_(self.trainer.datamodule.noisy_labels)

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        self.rng = np.random.default_rng(int(torch.randint(2**62, (1,))))  # EpochSeed reseeds: resumable

    # -- one step --------------------------------------------------------------------------------------
    def select(self, batch):
        """This batch's mixup draws, None in warm-up: lambda = max(l, 1 - l), l ~ Beta(5, 5), per view, and
        the seed of the partners."""
        if self.current_epoch < self.warmup_epochs:
            return None
        lams = [float(self.rng.beta(self.mixup_alpha, self.mixup_alpha)) for _ in range(2)]
        return int(self.rng.integers(2**62)), [max(lam, 1 - lam) for lam in lams]

    def training_loss(self, batch, draws):
        x, y, index = batch
        weak, strong = (x[0], x[1]) if isinstance(x, (tuple, list)) else (x, x)
        n = len(y)
        logits = self.nets[0](torch.cat([weak, strong]))
        lw, ls = logits[:n], logits[n:]
        self.per_sample.write(index, prob_w=F.softmax(lw.detach().float(), 1), prob_s=F.softmax(ls.detach().float(), 1))
        self.per_sample.share(index, self.trainer.world_size)
        if draws is None:
            self.observe(lw, y, index)
            return cross_entropy(lw, y).mean() + cross_entropy(ls, y).mean()
        state = self.per_sample
        clean, hard, in_set, labels = state.clean[index], state.hard[index], state.weak[index], state.labels[index]
        loss = disc_supervised_loss(lw, ls, y, clean, hard, lambda_ce=self.lambda_ce, lambda_h=self.lambda_h, q=self.q)
        seed, lams = draws
        g = torch.Generator(device=self.device).manual_seed(seed)
        onehot = F.one_hot(labels, self.num_classes).float()
        mixed, targets = [], []
        for view, lam in zip((weak, strong), lams):
            mx, mt, _ = mixup(view, onehot, lam=lam, perm=permutation_within(in_set, generator=g))
            mixed.append(mx)
            targets.append(mt)
        terms = soft_cross_entropy(self.nets[0](torch.cat(mixed)), torch.cat(targets)).view(2, n)
        loss = loss + masked_mean(terms[0], in_set) + masked_mean(terms[1], in_set)
        self.observe(lw, y, index, kept=clean)
        return loss

    # -- selection and correction, at the end of every epoch (before the checkpoint is taken) -----------
    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()
        s = self.per_sample
        given = self.trainer.datamodule.noisy_labels.to(self.device)
        sets = disc_sets(s.prob_w, s.prob_s, given, s.labels, s.thr_w, s.thr_s, sigma=self.sigma,
                         cap=self.correction_cap)
        for name in ("clean", "hard", "correction", "weak", "labels"):
            getattr(s, name).copy_(getattr(sets, name))
        s.thr_w.copy_(threshold_update(s.thr_w, s.prob_w, momentum=self.momentum))
        s.thr_s.copy_(threshold_update(s.thr_s, s.prob_s, momentum=self.momentum))
        rows = self.trainer.datamodule.train_indices.to(self.device)
        shares = torch.stack([sets.clean[rows], sets.hard[rows], sets.correction[rows]]).float().mean(1)
        self.log_dict({"select/clean_set": shares[0], "select/hard_set": shares[1],
                       "select/corrected_set": shares[2]}, sync_dist=True)

    def label_issue_scores(self) -> dict:
        """Outside the selection (1; hard: 1/2; clean: 0), and the mean over the two views of the sample's
        threshold minus its last confidence in the given label (> 0: below its own threshold)."""
        s, y = self.per_sample, self.trainer.datamodule.noisy_labels.to(self.device)[:, None]
        gap = (s.thr_w - s.prob_w.gather(1, y)[:, 0] + s.thr_s - s.prob_s.gather(1, y)[:, 0]) / 2
        return {"disc_unselected": (1.0 - s.clean.float() - 0.5 * s.hard.float()).cpu().numpy(),
                "disc_threshold_gap": gap.cpu().numpy()}
