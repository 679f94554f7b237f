"""ProMix (Xiao et al., IJCAI 2023, "ProMix: Combating Label Noise via Maximizing Clean Sample Utility"): two
networks, each with a main head and a pseudo head; after a CE warm-up each network trains on the samples it
selects (class-wise small loss per epoch, matched high confidence and label guessing by agreement per batch)
with strong views, mixup and FMix, and its pseudo head also learns debiased pseudo-labels of the rest."""
import math
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from noisyrobust.data.augment import fmix, fmix_mask, mixup, permutation_within
from noisyrobust.errors import UserError
from noisyrobust.losses import cross_entropy
from noisyrobust.losses.dividemix import confidence_penalty, sharpen
from noisyrobust.losses.elr import soft_cross_entropy
from noisyrobust.losses.promix import debiased_logits, debiased_probs, linear_ramp, prior_update, pseudo_targets
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.per_sample.passes import training_set_pass
from noisyrobust.per_sample.state import PerSampleState
from noisyrobust.selection import masked_mean
from noisyrobust.selection.promix import (class_wise_small_loss, label_guessing_by_agreement,
                                          matched_high_confidence, rho_schedule)


class FeatureTap(nn.Module):
    """A network's output layer that keeps its input, the features a second head reads."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.linear, self.features = linear, None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.features = x
        return self.linear(x)


def tap_output_layer(net: nn.Module, num_classes: int) -> FeatureTap:
    """Wrap the last ``nn.Linear`` of ``net`` (its classifier) in a ``FeatureTap``, in place."""
    names = [n for n, m in net.named_modules() if isinstance(m, nn.Linear)]
    if not names or net.get_submodule(names[-1]).out_features != num_classes:
        raise UserError(f"method=promix adds a pseudo head beside the network's output layer; model "
                        f"{type(net).__name__} does not end in an nn.Linear with {num_classes} outputs")
    parent, _, child = names[-1].rpartition(".")
    owner = net.get_submodule(parent) if parent else net
    tap = FeatureTap(getattr(owner, child))
    setattr(owner, child, tap)
    return tap


class ProMix(NoisyLabelModule):
    """Warm-up (``warmup_epochs``): CE of both main heads on the weak view. Then, each epoch, every network's
    own CSS set (its CE in eval mode over the training set, gathered over DDP ranks: the same on every rank).
    Per step and network k, on the weak and strong views (both forwarded through both heads):
    selected = CSS_k | p_k(y) > tau (MHCS) | LGA (from epoch max_epochs - start_expand on, up to
    floor(expand_threshold B)); targets y on the selected, onehot(argmax softmax(z - tau_pl log pi_k)) on the
    rows LGA adds; main head: CE_w + w (CE_s + mixup + FMix) over the selected, on logits z + tau_o log pi_k
    (mixup lambda ~ Beta(4, 4) larger side, FMix lambda ~ Beta(1, 1), partners among the selected);
    pseudo head: the same terms + beta (CE_w + w CE_s) over the rest against
    sharpen(softmax(z - tau_pl log pi'_k), T), its logits + tau_o log pi'_k. w ramps over ``ramp_epochs``;
    beta = 0.1 ramp(100) and 0 from ``beta_epochs`` on. After the update pi_k <- m pi_k + (1 - m) mean p_k over
    the selected (pi'_k over the rest), means over the global batch.

    As the authors' code (not the paper's "co-divide"): each network trains on its own CSS set; the unlabelled
    term stops at epoch 100. Departures: an empty set adds 0 and leaves pi as it is (the authors' code gives
    NaN); mixing partners are one random cycle among the selected rows of the whole batch (``permutation_within``);
    test accuracy is each main head's (the authors log net 1's pseudo head)."""

    shows_selection = True
    # the authors' values, the same in all their scripts: pi's momentum, the weight ramp and beta's schedule
    # (epochs), the cap of label guessing (share of the batch), sharpening T, mixup's and FMix's Beta
    # parameters and FMix's spectral decay
    prior_momentum, ramp_epochs, rho_epochs, beta, beta_epochs = 0.9999, 50, 50, 0.1, 100
    expand_threshold, temperature, mixup_alpha, fmix_alpha, fmix_decay = 0.9, 0.5, 4.0, 1.0, 3.0

    def __init__(self, *, net1: Optional[nn.Module], net2: Optional[nn.Module], num_classes: int,
                 optimizer: Callable, scheduler: Optional[Callable] = None, warmup_epochs: int = 10,
                 rho_start: float = 0.5, rho_end: float = 0.5, tau: float = 0.99, debias_output: float = 0.8,
                 debias_pl: float = 0.8, start_expand: int = 250, warmup_penalty: bool = False, seed: int = 0):
        if net1 is None or net2 is None:
            raise UserError("method=promix needs two networks: method.net1 and method.net2 must both be set")
        for name, value in (("rho_start", rho_start), ("rho_end", rho_end), ("tau", tau)):
            if not 0.0 < value <= 1.0:
                raise UserError(f"method.{name}={value} is outside (0, 1]")
        if min(warmup_epochs, start_expand, debias_output, debias_pl) < 0:
            raise UserError(f"method.warmup_epochs={warmup_epochs}, start_expand={start_expand}, "
                            f"debias_output={debias_output} and debias_pl={debias_pl} must be >= 0")
        super().__init__(nets=[net1, net2], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        self.taps = [tap_output_layer(net, num_classes) for net in self.nets]
        self.pseudo_heads = nn.ModuleList(nn.Linear(t.linear.in_features, num_classes) for t in self.taps)
        self.register_buffer("prior", torch.full((2, 2, num_classes), 1.0 / num_classes))  # [net, selected / rest]
        self.warmup_epochs, self.rho, self.tau = warmup_epochs, (rho_start, rho_end), tau
        self.debias_output, self.debias_pl, self.start_expand = debias_output, debias_pl, start_expand
        self.warmup_penalty, self.num_classes = warmup_penalty, num_classes
        self.rng = np.random.default_rng(seed)
        self._batch = None  # the selection (and the prior's sums) of this batch's first loss pass

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if self.per_sample is None:  # each network's CSS set and its min-max normalized loss
            self.per_sample = PerSampleState(len(self.clean_labels), trailing={"css": (2,), "loss": (2,)},
                                             css=torch.bool, loss=torch.float32)

    # -- the class-wise small-loss selection, once per epoch -------------------------------------------
    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        self.rng = np.random.default_rng(int(torch.randint(2**62, (1,))))  # EpochSeed reseeds: resumable
        if self.current_epoch >= self.warmup_epochs:
            self.divide()

    def divide(self) -> None:
        def losses(x, y, index):
            return {"loss": torch.stack([cross_entropy(net(x).float(), y) for net in self.nets], 1)}
        dm, n = self.trainer.datamodule, len(self.clean_labels)
        loss = training_set_pass(dm, losses, nets=list(self.nets), device=self.device, num_samples=n,
                                 world_size=self.trainer.world_size)["loss"]
        rows = torch.zeros(n, dtype=torch.bool, device=self.device)
        rows[dm.train_indices.to(self.device)] = True
        labels, rho = dm.noisy_labels.to(self.device), rho_schedule(self.current_epoch, start=self.rho[0],
                                                                     end=self.rho[1], length=self.rho_epochs)
        lo, hi = loss[rows].amin(0), loss[rows].amax(0)
        loss = ((loss - lo) / (hi - lo).clamp(min=1e-12)).nan_to_num(0.0)  # min-max over the set, per network
        css = torch.stack([class_wise_small_loss(loss[:, k], labels, num_classes=self.num_classes, rho=rho, among=rows)
                           for k in range(2)], 1)
        self.per_sample.css.copy_(css)
        self.per_sample.loss.copy_(loss)
        kept = css[rows].float().mean(0)
        self.log_dict({"select/css_net1": kept[0], "select/css_net2": kept[1]}, sync_dist=True)

    # -- one step --------------------------------------------------------------------------------------
    def select(self, batch):
        """This batch's draws, None in warm-up: per network mixup's lambda (Beta(4, 4), the larger side) and
        FMix's (Beta(1, 1)), and the seed of the masks and partners."""
        if self.current_epoch < self.warmup_epochs:
            return None
        lams = [(max(lam, 1 - lam), float(self.rng.beta(self.fmix_alpha, self.fmix_alpha)))
                for lam in (float(self.rng.beta(self.mixup_alpha, self.mixup_alpha)) for _ in range(2))]
        return int(self.rng.integers(2**62)), lams

    def heads(self, k: int, x: torch.Tensor):
        main = self.nets[k](x)
        return main, self.pseudo_heads[k](self.taps[k].features)

    def training_loss(self, batch, draws):
        x, y, index = batch
        weak, strong = (x[0], x[1]) if isinstance(x, (tuple, list)) else (x, x)
        if draws is None:
            return self.warmup_loss(weak, y, index)
        seed, lams = draws
        n, epoch = len(y), self.current_epoch
        outs = [self.heads(k, torch.cat([weak, strong])) for k in range(2)]
        if self._recording:  # the selection at w; an optimizer's second pass (SAM) reuses it
            self._batch = self.batch_selection([F.softmax(main[:n].detach().float(), 1) for main, _ in outs], y, index)
        selected, probs = self._batch
        onehot = F.one_hot(y, self.num_classes).float()
        w = linear_ramp(epoch, self.ramp_epochs)
        beta = self.beta * linear_ramp(epoch, self.beta_epochs) if epoch < self.beta_epochs else 0.0
        g = torch.Generator(device=self.device).manual_seed(seed)
        loss = 0.0
        for k, (main, pseudo) in enumerate(outs):
            sel, rest = selected[k], ~selected[k]
            prior, prior_rest = self.prior[k, 0], self.prior[k, 1]
            target = pseudo_targets(onehot, debiased_probs(main[:n].detach(), prior, tau=self.debias_pl), sel)
            lam, lam_f = lams[k]
            perm = permutation_within(sel, generator=g)
            mixed, mixed_t, _ = mixup(weak, target, lam=lam, perm=perm)
            mask = fmix_mask(lam_f, tuple(weak.shape[-2:]), decay_power=self.fmix_decay, generator=g, device=self.device)
            mix_main, mix_pseudo = self.heads(k, torch.cat([mixed, fmix(weak, mask, perm)]))
            targets = torch.cat([target, target, mixed_t, torch.lerp(target[perm], target, lam_f)])
            for logits, mixes in ((main, mix_main), (pseudo, mix_pseudo)):
                terms = soft_cross_entropy(debiased_logits(torch.cat([logits, mixes]), prior, tau=self.debias_output),
                                           targets).view(4, n)
                loss = loss + masked_mean(terms[0], sel) + w * sum(masked_mean(t, sel) for t in terms[1:])
            if beta > 0:  # the pseudo head learns the rest's debiased, sharpened pseudo-labels
                guess = sharpen(debiased_probs(main[:n].detach(), prior_rest, tau=self.debias_pl), self.temperature)
                rest_terms = soft_cross_entropy(debiased_logits(pseudo, prior_rest, tau=self.debias_output),
                                                torch.cat([guess, guess])).view(2, n)
                loss = loss + beta * (masked_mean(rest_terms[0], rest) + w * masked_mean(rest_terms[1], rest))
        self.observe(outs[0][0][:n], y, index, kept=selected[0])
        self.observe_selection(y, index, selected[1])
        return loss

    def batch_selection(self, probs, y, index):
        """Each network's selected rows of the batch: its CSS set, MHCS, and LGA in the last ``start_expand``
        epochs."""
        selected = [self.per_sample.css[index, k] | matched_high_confidence(probs[k], y, tau=self.tau) for k in range(2)]
        if self.current_epoch >= self.trainer.max_epochs - self.start_expand:
            cap = math.floor(self.expand_threshold * len(y))
            selected = [s | label_guessing_by_agreement(probs[0], probs[1], s, tau=self.tau, cap=cap) for s in selected]
        return selected, probs

    def after_update(self, batch, draws) -> None:
        """pi_k (selected) and pi'_k (the rest) move towards the mean main-head softmax of the global batch."""
        if draws is None:
            return
        selected, probs = self._batch
        sums = torch.stack([torch.stack([(p * m[:, None]).sum(0) for m in (s, ~s)]) for p, s in zip(probs, selected)])
        counts = torch.stack([torch.stack([s.sum(), (~s).sum()]) for s in selected]).float()
        if self.trainer.world_size > 1:
            sums = self.trainer.strategy.reduce(sums, reduce_op="sum")
            counts = self.trainer.strategy.reduce(counts, reduce_op="sum")
        self.prior.copy_(prior_update(self.prior, sums, counts[..., None], momentum=self.prior_momentum))

    def warmup_loss(self, x, y, index):
        """CE of both heads of both networks (the pseudo heads too: every parameter takes part in every DDP
        step), + the NegEntropy penalty of the main heads with ``warmup_penalty``."""
        outs = [self.heads(k, x) for k in range(2)]
        self.observe(outs[0][0], y, index)
        loss = sum(cross_entropy(lg, y).mean() for out in outs for lg in out)
        if self.warmup_penalty:  # the authors' NegEntropy for asymmetric noise clamps the logits at 1e-12
            loss = loss + sum(confidence_penalty(main.clamp(min=1e-12)) for main, _ in outs)
        return loss

    def label_issue_scores(self) -> dict:
        """Outside the last CSS sets (share of the two networks that left the sample out), and the mean
        min-max normalized loss the CSS ranked by."""
        return {"promix_unselected": (1.0 - self.per_sample.css.float().mean(1)).cpu().numpy(),
                "promix_loss": self.per_sample.loss.mean(1).cpu().numpy()}
