"""DISC's dynamic instance-specific selection and correction (Li et al., CVPR 2023, "DISC: Learning from
Noisy Labels via Dynamic Instance-Specific Selection and Correction"), once per epoch over the whole
training set, from the last weak- and strong-view softmax stored for every sample."""
from typing import NamedTuple

import torch


class DiscSets(NamedTuple):
    clean: torch.Tensor  # (N,) bool: both views exceed their thresholds on the given label
    hard: torch.Tensor  # selected by one view only
    correction: torch.Tensor  # not selected, relabelled: the views' mean is confident enough
    weak: torch.Tensor  # correction or selected: the mixup set
    labels: torch.Tensor  # (N,) long: the labels the mixup set trains on


def disc_sets(prob_w: torch.Tensor, prob_s: torch.Tensor, given: torch.Tensor, corrected: torch.Tensor,
              thr_w: torch.Tensor, thr_s: torch.Tensor, *, sigma: float, cap: float = 0.99) -> DiscSets:
    """With the thresholds of the previous epoch (tau^w, tau^s per sample):
    w = p^w[y] > tau^w, s = p^s[y] > tau^s; clean = w & s; selected = w | s; hard = selected & ~clean;
    correction = ~selected & max_k (p^w + p^s)_k / 2 > min((tau^w + tau^s) / 2 + sigma, cap);
    weak = correction | selected; labels: y on selected, argmax (p^w + p^s) / 2 on correction, the previous
    ``corrected`` label elsewhere."""
    w = prob_w.gather(1, given[:, None]).squeeze(1) > thr_w
    s = prob_s.gather(1, given[:, None]).squeeze(1) > thr_s
    clean, selected = w & s, w | s
    mean = (prob_w + prob_s) / 2
    confident = mean.amax(1) > ((thr_w + thr_s) / 2 + sigma).clamp(max=cap)
    correction = confident & ~selected
    labels = torch.where(selected, given, torch.where(correction, mean.argmax(1), corrected))
    return DiscSets(clean, selected & ~clean, correction, correction | selected, labels)


def threshold_update(threshold: torch.Tensor, probs: torch.Tensor, *, momentum: float) -> torch.Tensor:
    """tau_i <- m tau_i + (1 - m) max_k p_ik: each sample's threshold follows its own confidence."""
    return momentum * threshold + (1 - momentum) * probs.amax(1)
