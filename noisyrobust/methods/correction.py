"""Forward / backward loss correction (Patrini et al., CVPR 2017): the loss is corrected with the noise
transition matrix T that the stage ``stages.transition`` (stages/transition.py) hands the constructor."""
from typing import Callable, Optional

import numpy as np
import torch
from torch import nn

from noisyrobust.errors import UserError
from noisyrobust.losses.transition import (backward_corrected_ce, forward_corrected_ce, noisy_prediction,
                                          realized_transition)
from noisyrobust.methods.base import NoisyLabelModule

CORRECTIONS = ("forward", "backward")


class LossCorrection(NoisyLabelModule):
    """``method=forward``: mean -log (p^T T)_y; ``method=backward``: mean (T^-1)_y · (-log p). The network
    trains from its own initialization (not from the CE model the stage may have trained to estimate T).
    Every DDP rank computes T in its stage; ``setup`` broadcasts rank 0's, so all correct alike."""

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, scheduler: Optional[Callable] = None,
                 correction: str = "forward", transition: str = "estimate",
                 transition_matrix: Optional[torch.Tensor] = None):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        if correction not in CORRECTIONS:
            raise UserError(f"method.correction={correction} is unknown; choose from: {', '.join(CORRECTIONS)}")
        if transition_matrix is None:
            raise UserError(f"method={correction} needs the matrix T from the stage stages.transition, which its "
                            "config sets; keep that node")
        self.correction, self.transition_source = correction, str(transition)
        self.register_buffer("transition", transition_matrix.float(), persistent=False)

    def summary_facts(self) -> dict:
        return {"correction": self.correction}

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if stage != "fit":
            return
        self.transition = self.trainer.strategy.broadcast(self.transition, src=0)
        self.register_buffer("inverse", torch.linalg.inv(self.transition.double()).float(), persistent=False)

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits = self.nets[0](x)
        self.observe(logits, y, index)
        if self.correction == "forward":
            return forward_corrected_ce(logits, y, self.transition).mean()
        return backward_corrected_ce(logits, y, self.inverse).mean()


class NoisyPredictionValidation:
    """For a method that models T (T-Revision, VolMinNet; mixed in before ``NoisyLabelModule``): the noisy
    validation labels are scored against the noisy-label prediction argmax p^T T, as the authors select their
    epoch; the clean test labels against the clean prediction argmax p. ``current_transition()`` gives T."""

    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        x, y, _ = batch
        split = self.trainer.datamodule.eval_names[dataloader_idx]
        logits = self.nets[0](x)
        if split == "val":
            logits = noisy_prediction(logits, self.current_transition())
        self.eval_acc[split][0].update(logits.argmax(1), y)


def transition_facts(datamodule, matrix: torch.Tensor) -> dict:
    """A method's T for the summary: the matrix and its mean absolute error against the realized matrix of the
    training split."""
    rows = datamodule.train_indices.numpy()
    realized = realized_transition(datamodule.clean_labels.numpy()[rows], datamodule.noisy_labels.numpy()[rows],
                                   num_classes=len(matrix))
    t = matrix.detach().cpu().double().numpy()
    return {"matrix": t.round(4).tolist(), "mean_abs_error_vs_realized": float(np.abs(t - realized).mean())}
