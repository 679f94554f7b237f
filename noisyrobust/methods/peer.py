"""Peer loss (Liu & Guo, ICML 2020): after an optional CE warm-up, the loss on the sample minus α(e) times the
loss on a peer pair, with the learning rate divided by 1 + α(e), as the authors' CIFAR code does."""
from abc import ABC, abstractmethod
from typing import Callable, Optional

import torch
from torch import nn

from noisyrobust.errors import UserError
from noisyrobust.losses import cross_entropy
from noisyrobust.losses.peer import ALPHA_SEGMENTS, PAPER_EPOCHS, peer_alpha, peer_loss
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.selection.peer import draw_peer_labels, rank_share, step_generator
from noisyrobust.selection.schedule import stretched_epoch


class PeerPairs(NoisyLabelModule, ABC):
    """What peer loss and f-divergence share: ``warmup_epochs`` of CE first, then at every step peer labels
    y'_i drawn afresh (``select``, once per batch whatever the optimizer's passes) uniformly from the training
    samples' noisy labels, from a generator keyed by (``seed``, step): the same on every DDP rank (each takes
    its slice of the global batch's draw, so W processes pair each image with the label one process would)
    and after a resume. The peer image of pair i is the batch's image x_i: the batch is a uniform draw of the
    training set independent of the peer labels, so E ℓ(f(x_i), y'_i) is the authors' E_x' E_y' ℓ(f(x'), y')
    with no second forward (the authors draw x' from a second shuffled loader; NP fixes the pairs for the
    whole run, which the papers do not)."""

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, scheduler: Optional[Callable] = None,
                 warmup_epochs: int = 0, seed: int = 0):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        self.warmup_epochs, self.seed = warmup_epochs, seed

    def setup(self, stage: str) -> None:
        super().setup(stage)
        dm = self.trainer.datamodule
        self.register_buffer("peer_pool", dm.noisy_labels[dm.train_indices].clone(), persistent=False)

    @property
    def warming_up(self) -> bool:
        return self.current_epoch < self.warmup_epochs

    def select(self, batch):
        if self.warming_up:
            return None
        world = self.trainer.world_size
        draw = draw_peer_labels(self.peer_pool, count=len(batch[1]) * world,
                                generator=step_generator(self.seed, self.batch_index, self.peer_pool.device))
        return rank_share(draw, rank=self.trainer.global_rank, world_size=world)

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits = self.nets[0](x)
        self.observe(logits, y, index)
        if selected is None:
            return cross_entropy(logits.float(), y).mean()
        return self.pair_loss(logits, y, selected).mean()

    @abstractmethod
    def pair_loss(self, logits: torch.Tensor, labels: torch.Tensor, peer_labels: torch.Tensor) -> torch.Tensor:
        """Each sample's loss on its (given, peer) label pair: peer loss's or f-divergence's formula."""


class PeerLoss(PeerPairs):
    """Per step after the warm-up: mean of ℓ(f(x_i), y_i) - α ℓ(f(x_i), y'_i), ℓ = -log(p + 1e-5), and the
    update at lr / (1 + α). With ``alpha=None`` α follows the authors' 300-epoch plan (``alpha_schedule``:
    ``dense`` for their noise rates above 0.2, ``sparse`` at or below), counted from the warm-up's end (NP
    counts from epoch 0, warm-up included) and stretched over ``schedule_epochs`` (default: the rest of the run;
    300 keeps the authors' epochs); the protocol configs use it. The plan grows α to 5 (or 20) while the
    authors' lr falls 10x every 40 epochs; at a constant lr it diverges once α passes 1 (the digits at sym0.5,
    Adam 1e-3, 50 epochs: 90% at epoch 6, 43% from epoch 15 on), so the default is a constant α = 1 (91.7%
    there, CE 88.6%). The authors also re-create SGD every epoch (momentum reset): not done here."""

    def __init__(self, *, alpha_schedule: str = "dense", schedule_epochs: Optional[int] = None,
                 alpha: Optional[float] = None, **kwargs):
        super().__init__(**kwargs)
        if alpha is not None and alpha < 0:
            raise UserError(f"method.alpha={alpha} must be >= 0 (or null: the authors' schedule)")
        self.constant_alpha = alpha
        if alpha_schedule not in ALPHA_SEGMENTS:
            raise UserError(f"method.alpha_schedule={alpha_schedule!r} is not one of {', '.join(ALPHA_SEGMENTS)}")
        if schedule_epochs is not None and schedule_epochs < 1:
            raise UserError(f"method.schedule_epochs={schedule_epochs} must be >= 1 (or null: the rest of the run)")
        self.alpha_schedule, self.schedule_epochs = alpha_schedule, schedule_epochs

    def alpha(self) -> float:
        if self.warming_up:
            return 0.0
        if self.constant_alpha is not None:
            return self.constant_alpha
        length = self.schedule_epochs or max(1, self.trainer.max_epochs - self.warmup_epochs)
        epoch = stretched_epoch(self.current_epoch - self.warmup_epochs, paper_epochs=PAPER_EPOCHS, run_epochs=length)
        return peer_alpha(epoch, schedule=self.alpha_schedule)

    def lr_factor(self) -> float:
        return 1.0 / (1.0 + self.alpha())

    def pair_loss(self, logits, labels, peer_labels):
        return peer_loss(logits, labels, logits, peer_labels, alpha=self.alpha())
