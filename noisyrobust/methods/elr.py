"""ELR (Liu et al., NeurIPS 2020): a per-sample running average of the network's own predictions (the
target) and a regularizer that keeps the prediction close to it, so early learning is not undone by
memorizing the wrong labels."""
from typing import Callable, Optional

import torch
from torch import nn

from noisyrobust.per_sample.state import PerSampleState
from noisyrobust.errors import UserError
from noisyrobust.losses.elr import clamped_softmax, elr_loss, elr_target_update
from noisyrobust.methods.base import NoisyLabelModule


def check_elr(beta: float, lam: float) -> None:
    if not 0.0 <= beta < 1.0 or lam < 0:
        raise UserError(f"method.beta={beta} must be in [0, 1) and method.lam={lam} >= 0")


class ELR(NoisyLabelModule):
    """Per step: t_i <- beta t_i + (1 - beta) p̂_i for the batch (written, then merged so every DDP rank holds
    every rank's rows), then the mean of CE + lambda log(1 - <t_i, p_i>) with the updated t_i, as the
    reference does. The targets are running state: a second loss pass of the optimizer (SAM) reads the
    updated targets and leaves them as they are."""

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, scheduler: Optional[Callable] = None,
                 beta: float = 0.7, lam: float = 3.0):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        check_elr(beta, lam)
        self.beta, self.lam, self.num_classes = beta, lam, num_classes

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if self.per_sample is None:  # targets start at 0, as in the reference
            self.per_sample = PerSampleState(len(self.clean_labels), trailing={"target": (self.num_classes,)},
                                             target=torch.float32)

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits = self.nets[0](x)
        target = elr_target_update(self.per_sample.target[index], clamped_softmax(logits), beta=self.beta)
        self.per_sample.write(index, target=target)  # running state: once per batch, like BatchNorm's
        self.per_sample.share(index, self.trainer.world_size)
        self.observe(logits, y, index)
        return elr_loss(logits, y, self.per_sample.target[index], lam=self.lam).mean()

    def label_issue_scores(self) -> dict:
        """1 - t_i[y_i]: the target's doubt about the given label (its argmax differs when > 1/2)."""
        t, y = self.per_sample.target, self.trainer.datamodule.noisy_labels.to(self.device)
        return {"elr_target": (1.0 - t.gather(1, y[:, None]).squeeze(1)).cpu().numpy()}
