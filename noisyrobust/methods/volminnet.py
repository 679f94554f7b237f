"""VolMinNet (Li et al., ICML 2021, "Provably End-to-end Label-Noise Learning without Anchor Points"): the
transition matrix is learnt with the network, the forward-corrected loss plus the volume of T (log det) so
that the smallest simplex that holds the noisy posteriors, the true T, is found without anchor points."""
from typing import Callable, Optional

import torch
from torch import nn

from noisyrobust.errors import UserError
from noisyrobust.losses.transition import forward_corrected_ce, log_volume, volume_transition
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.methods.correction import NoisyPredictionValidation, transition_facts


class VolMinNet(NoisyPredictionValidation, NoisyLabelModule):
    """Loss = mean -log (p^T T)_y + ``lam`` log|det T|, T = row-normalize(I + (1 - I) sigmoid(W)), W = -``init``
    at the start (2 for CIFAR-10, 4.5 for CIFAR-100). W trains with the network in every step, in its own
    parameter group of the run's optimizer: learning rate ``transition_lr``, no weight decay (the authors'
    second optimizer: SGD lr 0.01 momentum 0.9, no decay; Adam lr 0.01 for CIFAR-100).

    The test accuracy is that of the clean prediction argmax p, as the authors score it (noisypy scores
    argmax log(p^T T), the noisy-label prediction); the noisy validation labels are scored by the noisy
    prediction argmax p^T T (the authors select their epoch by the corrected NLL on them). The log takes the
    shared forward correction, p clipped to [1e-7, 1 - 1e-7] (the authors clip nothing; p^T T >= the smallest
    entry of T > 0, so the clip matters only where float32 underflows)."""

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, scheduler: Optional[Callable] = None,
                 init: float = 2.0, lam: float = 1e-4, transition_lr: float = 0.01):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        if lam < 0 or transition_lr <= 0:
            raise UserError(f"method.lam={lam} must be >= 0 and method.transition_lr={transition_lr} > 0")
        self.lam, self.transition_lr = lam, transition_lr
        self.transition_weights = nn.Parameter(torch.full((num_classes, num_classes), -float(init)))

    def current_transition(self) -> torch.Tensor:
        return volume_transition(self.transition_weights)

    def trainable_parameters(self):
        return [{"params": list(self.nets.parameters())},
                {"params": [self.transition_weights], "lr": self.transition_lr, "weight_decay": 0.0}]

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits = self.nets[0](x)
        self.observe(logits, y, index)
        t = self.current_transition()
        return forward_corrected_ce(logits, y, t).mean() + self.lam * log_volume(t)

    def summary_facts(self) -> dict:
        """The learnt T and its mean absolute error against the realized matrix of the training split."""
        return {"learnt_transition": transition_facts(self.trainer.datamodule, self.current_transition())}
