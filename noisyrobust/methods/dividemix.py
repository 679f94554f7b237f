"""DivideMix (Li et al., ICLR 2020): two networks; after a CE warm-up, each epoch a two-component GMM on
each network's per-sample losses divides the training set into a labelled (probably clean) and an
unlabelled part, and each network learns from its peer's division with MixMatch: refined labels on the
labelled part, labels co-guessed by both networks on the rest."""
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from noisyrobust.per_sample.passes import evaluation_mode, training_set_pass
from noisyrobust.per_sample.state import PerSampleState
from noisyrobust.errors import UserError
from noisyrobust.losses import cross_entropy
from noisyrobust.losses.dividemix import (confidence_penalty, lambda_u_ramp, mixmatch, refined_labels,
                                          semi_supervised_loss, sharpen, uniform_prior_penalty)
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.selection.gmm import gmm_clean_probability, windowed_losses


class DivideMix(NoisyLabelModule):
    """Warm-up (``warmup_epochs``): each network descends CE (+ the confidence penalty with
    ``warmup_penalty``, the reference's choice for asymmetric noise and Clothing1M). Then per epoch: the
    CE of every training sample under each network in eval mode (gathered over DDP ranks, each sample once),
    min-max normalized; a GMM on rank 0 (broadcast, so every rank divides alike) on the mean of the last
    ``loss_window`` epochs' normalized losses (the reference: 5 at 90% noise, fewer in the first epochs after
    the warm-up; else 1, this epoch's) gives w^k_i. Per step, network k trains on the
    batch with its peer's w: labelled = {w_i > p_threshold} with target sharpen(w y + (1 - w) p̄_k, T), the
    rest with sharpen(mean of both networks' softmax over both views, T); MixMatch over the two views
    (λ ~ Beta(α, α)); loss = Lx + λu(t) Lu + KL(uniform ‖ mean prediction).

    Differences from the reference, on purpose: the labelled and unlabelled parts come from the same
    shuffled batch (masks), so an epoch is one pass over the training set; the guesses come from one no-grad
    forward per network in eval mode, before either updates (the reference ran the trained network in
    train mode and its peer already updated); the GMM is seeded. ``select/*`` scores both labelled sets.
    The two views come from the stage ``stages.views`` (method=dividemix's config); without it both are
    the one augmented batch."""

    shows_selection = True

    def __init__(self, *, net1: Optional[nn.Module], net2: Optional[nn.Module], num_classes: int,
                 optimizer: Callable, scheduler: Optional[Callable] = None, warmup_epochs: int = 10,
                 lambda_u: float = 25.0, p_threshold: float = 0.5, temperature: float = 0.5, alpha: float = 4.0,
                 warmup_penalty: bool = False, ramp_epochs: float = 16.0, loss_window: int = 1, seed: int = 0):
        if net1 is None or net2 is None:
            raise UserError("method=dividemix needs two networks: method.net1 and method.net2 must both be set "
                            "(default: ${model})")
        if not 0.0 < p_threshold < 1.0:
            raise UserError(f"method.p_threshold={p_threshold} is outside (0, 1)")
        if lambda_u < 0:
            raise UserError(f"method.lambda_u={lambda_u} must be >= 0")
        if loss_window < 1:
            raise UserError(f"method.loss_window={loss_window} must be >= 1 (epochs of losses the GMM averages)")
        if temperature <= 0 or alpha <= 0 or warmup_epochs < 0 or ramp_epochs <= 0:
            raise UserError(f"method.temperature={temperature}, method.alpha={alpha} and "
                            f"method.ramp_epochs={ramp_epochs} must be > 0, method.warmup_epochs={warmup_epochs} >= 0")
        super().__init__(nets=[net1, net2], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        self.warmup_epochs, self.lambda_u, self.p_threshold = warmup_epochs, lambda_u, p_threshold
        self.temperature, self.alpha, self.warmup_penalty = temperature, alpha, warmup_penalty
        self.ramp_epochs, self.seed, self.num_classes = ramp_epochs, seed, num_classes
        self.loss_window = loss_window
        self.rng = np.random.default_rng(seed)

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if self.per_sample is None:  # w^k_i: network k's clean probability of sample i; its last normalized losses
            self.per_sample = PerSampleState(len(self.clean_labels),
                                             trailing={"clean_prob": (2,), "loss_history": (2, self.loss_window)},
                                             clean_prob=torch.float32, loss_history=torch.float64)

    # -- the division, once per epoch ------------------------------------------------------------------
    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        # λ and permutations from the global RNG, which EpochSeed reseeds from (seed, epoch, rank): resumable
        self.rng = np.random.default_rng(int(torch.randint(2**62, (1,))))
        if self.current_epoch >= self.warmup_epochs:
            self.divide()

    def divide(self) -> None:
        def losses(x, y, index):
            return {"loss": torch.stack([cross_entropy(net(x).float(), y) for net in self.nets], 1)}
        n = len(self.clean_labels)
        loss = training_set_pass(self.trainer.datamodule, losses, nets=list(self.nets), device=self.device,
                                 num_samples=n, world_size=self.trainer.world_size)["loss"]
        rows = self.trainer.datamodule.train_indices.to(self.device)
        # (every rank holds every loss: the history is the same on each, the GMM runs on rank 0)
        history = self.per_sample.loss_history[rows]
        gmm_input = windowed_losses(history, loss[rows], self.current_epoch - self.warmup_epochs)
        self.per_sample.loss_history[rows] = history
        prob = torch.zeros(n, 2, device=self.device)
        if self.trainer.is_global_zero:
            on_rows = gmm_input.cpu().numpy()
            prob[rows] = torch.as_tensor(np.stack([gmm_clean_probability(on_rows[:, k], normalize=False,
                                                                         seed=self.seed + self.current_epoch)
                                                   for k in range(2)], 1), dtype=torch.float32, device=self.device)
        prob = self.trainer.strategy.broadcast(prob, src=0)
        self.per_sample.clean_prob.copy_(prob)
        labelled = (prob[rows] > self.p_threshold).float().mean(0)
        self.log_dict({"select/labelled_net1": labelled[0], "select/labelled_net2": labelled[1]}, sync_dist=True)

    # -- one step --------------------------------------------------------------------------------------
    def select(self, batch):
        """MixMatch's draws for the batch after the warm-up: λ ~ Beta(α, α) and a permutation of both views
        for each network."""
        if self.current_epoch < self.warmup_epochs:
            return None
        n = 2 * len(batch[1])
        return float(self.rng.beta(self.alpha, self.alpha)), [torch.randperm(n, device=self.device) for _ in self.nets]

    def training_loss(self, batch, selected):
        x, y, index = batch
        views = list(x) if isinstance(x, (tuple, list)) else [x, x]
        if selected is None:
            return self.warmup_loss(views[0], y, index)
        lam, perms = selected
        both = torch.cat(views)
        with torch.no_grad(), evaluation_mode(*self.nets):
            logits = [net(both) for net in self.nets]
        probs = [F.softmax(lg.float(), 1).view(2, len(y), -1).mean(0) for lg in logits]  # p̄_k over the views
        onehot = F.one_hot(y, self.num_classes).float()
        guessed = sharpen((probs[0] + probs[1]) / 2, self.temperature)  # co-guessing
        weight = lambda_u_ramp(self.lambda_u, self.epoch_progress, warmup=self.warmup_epochs, length=self.ramp_epochs)
        loss, kept = 0.0, []
        for k, peer in ((0, 1), (1, 0)):
            w = self.per_sample.clean_prob[index, peer]  # co-divide: the peer's division
            labelled = w > self.p_threshold
            refined = refined_labels(onehot, probs[k], w, temperature=self.temperature)  # co-refinement
            target = torch.where(labelled[:, None], refined, guessed)
            mixed_x, mixed_t = mixmatch(both, torch.cat([target, target]), lam=lam, perm=perms[k])
            out = self.nets[k](mixed_x)
            lx, lu = semi_supervised_loss(out, mixed_t, torch.cat([labelled, labelled]))
            loss = loss + lx + weight * lu + uniform_prior_penalty(out)
            kept.append(labelled)
        self.observe(logits[0][:len(y)], y, index, kept=kept[0])
        self.observe_selection(y, index, kept[1])
        return loss

    def warmup_loss(self, x, y, index):
        logits = [net(x) for net in self.nets]
        self.observe(logits[0], y, index)
        loss = sum(cross_entropy(lg, y).mean() for lg in logits)
        if self.warmup_penalty:
            loss = loss + sum(confidence_penalty(lg) for lg in logits)
        return loss

    def label_issue_scores(self) -> dict:
        """1 - the mean clean probability of the two networks' last division."""
        return {"dividemix_noisy": (1.0 - self.per_sample.clean_prob.mean(1)).cpu().numpy()}
