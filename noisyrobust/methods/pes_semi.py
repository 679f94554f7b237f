"""PES-semi (Bai et al., NeurIPS 2021): PES's early stopping and refinement, then MixMatch with the confident
set labelled and the rest unlabelled."""
from typing import Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from noisyrobust.errors import UserError
from noisyrobust.losses.dividemix import lambda_u_ramp, mixmatch, semi_supervised_loss, sharpen
from noisyrobust.methods.pes import PES
from noisyrobust.per_sample.passes import evaluation_mode


class PESSemi(PES):
    """PES's phases with one refinement (k = 0 for T2 = 5 epochs) and the class weights capped at 3; then per
    step, with the two views of the batch (``stages.views``): labelled = the confident samples, target their
    one-hot label; unlabelled = the rest, target sharpen(mean of the two views' softmax, T); MixMatch over
    both views (λ ~ Beta(α, α), α = ``alpha`` and ``alpha_late`` from half the reference's epochs on);
    loss = Lx + λu(t) Lu with Lx = -mean_i sum_c w_c t_ic log p_ic, Lu the MSE (over rows and classes) and
    λu ramped over ``ramp_epochs`` from T1 (DivideMix's pieces, ``losses.dividemix``; no prior penalty, one
    network, no co-guessing). The refinement epochs precede the reference's epoch T1, which runs MixMatch.

    Departures, as in ``PES`` and our DivideMix: the labelled and unlabelled samples are those of one
    shuffled batch (masks; the reference draws two batches in proportion to the two sets, 390 steps an
    epoch), and the guesses come from a no-grad forward in eval mode."""

    refinement_takes_epoch = False

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, refine_optimizer: Callable,
                 scheduler: Optional[Callable] = None, warmup_epochs: int = 20,
                 refine_depths: Sequence[int] = (0,), refine_epochs: Sequence[int] = (5,),
                 weight_cap: Optional[float] = 3.0, lambda_u: float = 150.0, temperature: float = 0.5,
                 alpha: float = 4.0, alpha_late: float = 0.75, ramp_epochs: float = 16.0, seed: int = 0):
        if lambda_u < 0 or temperature <= 0 or alpha <= 0 or alpha_late <= 0 or ramp_epochs <= 0:
            raise UserError(f"method.lambda_u={lambda_u} must be >= 0 and method.temperature={temperature}, "
                            f"method.alpha={alpha}, method.alpha_late={alpha_late}, method.ramp_epochs={ramp_epochs} > 0")
        super().__init__(net=net, num_classes=num_classes, optimizer=optimizer, refine_optimizer=refine_optimizer,
                         scheduler=scheduler, warmup_epochs=warmup_epochs, refine_depths=refine_depths,
                         refine_epochs=refine_epochs, weight_cap=weight_cap, seed=seed)
        self.lambda_u, self.temperature, self.ramp_epochs = lambda_u, temperature, ramp_epochs
        self.alpha, self.alpha_late = alpha, alpha_late
        self.rng = np.random.default_rng(seed)

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        # λ and permutations from the global RNG, which EpochSeed reseeds from (seed, epoch, rank): resumable
        self.rng = np.random.default_rng(int(torch.randint(2**62, (1,))))

    def select(self, batch):
        """MixMatch's draws in the confident phase: λ ~ Beta(α, α) and a permutation of both views."""
        if self.phase <= len(self.refine_epochs):
            return None
        reference_epochs = self.trainer.max_epochs - sum(self.refine_epochs)
        alpha = self.alpha if self.schedule_epoch < reference_epochs / 2 else self.alpha_late
        return float(self.rng.beta(alpha, alpha)), torch.randperm(2 * len(batch[1]), device=self.device)

    def training_loss(self, batch, selected=None):
        if selected is None:  # warm-up and refinement: PES's CE on every sample
            return super().training_loss(batch, selected)
        x, y, index = batch
        views = list(x) if isinstance(x, (tuple, list)) else [x, x]
        lam, perm = selected
        both = torch.cat(views)
        with torch.no_grad(), evaluation_mode(self.nets[0]):
            guess_logits = self.nets[0](both)
        probs = F.softmax(guess_logits.float(), 1).view(2, len(y), -1).mean(0)
        confident = self.per_sample.confident[index]
        target = torch.where(confident[:, None], F.one_hot(y, self.num_classes).float(),
                             sharpen(probs, self.temperature))
        mixed_x, mixed_t = mixmatch(both, torch.cat([target, target]), lam=lam, perm=perm)
        lx, lu = semi_supervised_loss(self.nets[0](mixed_x), mixed_t, torch.cat([confident, confident]),
                                      class_weight=self.class_weight)
        self.observe(guess_logits[:len(y)], y, index, kept=confident)
        reference_progress = self.epoch_progress - sum(self.refine_epochs)  # the reference's epochs from T1 on
        return lx + lambda_u_ramp(self.lambda_u, reference_progress, warmup=self.warmup_epochs,
                                  length=self.ramp_epochs) * lu
