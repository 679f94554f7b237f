"""Label-issue scores that train networks of their own after the run: confident learning's out-of-sample
probabilities (K-fold cross-validation) and turn-over dropout's self-influence. Each trains a fresh copy of
the run's network with cross-entropy on the noisy labels, on one device."""
import copy
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import StratifiedKFold
from torch import nn

from noisyrobust.per_sample.passes import training_set_pass
from noisyrobust.label_issues.scores import self_influence, turnover_masks
from noisyrobust.losses import CrossEntropy
from noisyrobust.methods.standard import Standard
from noisyrobust.per_sample.trainer import one_device_trainer


def out_of_sample_probabilities(net: nn.Module, optimizer: Callable, datamodule, rows: np.ndarray, *,
                                folds: int, epochs: int, trainer, seed: int) -> np.ndarray:
    """Softmax of each training sample in ``rows`` from a network that never trained on it: ``rows``
    split into ``folds`` stratified by noisy label, a fresh copy of ``net`` trained on the other folds for
    each (Northcutt et al. 2021: confident learning needs out-of-sample probabilities)."""
    labels = datamodule.noisy_labels.numpy()
    probs = np.full((len(labels), datamodule.num_classes), np.nan)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (fit_pos, held_pos) in enumerate(splitter.split(rows, labels[rows])):
        module = Standard(net=copy.deepcopy(net), loss=CrossEntropy(), num_classes=datamodule.num_classes,
                          optimizer=optimizer)
        fold_trainer = one_device_trainer(trainer, epochs=epochs, seed=seed + k, validate=False)
        subset = datamodule.with_train_indices(rows[fit_pos])
        fold_trainer.fit(module, datamodule=subset)
        out = training_set_pass(subset, lambda x, y, i: {"p": module.nets[0](x).float().softmax(1)},
                                nets=module.nets, device=module.device, num_samples=len(labels))
        held = rows[held_pos]
        probs[held] = out["p"].cpu().numpy()[held]
    return probs


def confident_learning_scores(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Confident learning (cleanlab): 1 + (1 - p(y~|x)) for the samples cleanlab's ``find_label_issues``
    flags (per-class thresholds t_j = mean p_j over samples labelled j, pruned by the estimated noise
    rate), 1 - p(y~|x) (self-confidence) for the rest: flagged samples first, each group by confidence."""
    from cleanlab.filter import find_label_issues

    # n_jobs=1: cleanlab's default forks a multiprocessing pool from this process, which holds torch's
    # threads (and, under a launcher, more): such a fork can deadlock, and the per-class pruning is cheap
    flagged = find_label_issues(labels, probs, filter_by="prune_by_noise_rate", n_jobs=1)
    return flagged.astype(np.float64) + 1.0 - probs[np.arange(len(labels)), labels]


class TurnOverDropout(Standard):
    """Cross-entropy training in which sample i reaches the last linear layer only through its own half
    m_i of that layer's inputs (Kobayashi et al. 2020; kept units scaled by 2, as inverted dropout). In
    evaluation without a mask, every unit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        last = [m for m in self.nets[0].modules() if isinstance(m, nn.Linear)][-1]
        self.width, self.mask = last.in_features, None
        last.register_forward_pre_hook(lambda _, inputs: None if self.mask is None else (inputs[0] * self.mask,))

    def masked_logits(self, x: torch.Tensor, index: torch.Tensor, *, own: bool) -> torch.Tensor:
        m = turnover_masks(index, self.width)
        self.mask = 2.0 * (m if own else ~m).to(x.dtype)
        try:
            return self.nets[0](x)
        finally:
            self.mask = None

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits = self.masked_logits(x, index, own=True)
        self.observe(logits, y, index)
        return F.cross_entropy(logits.float(), y)


def turnover_self_influence(net: nn.Module, optimizer: Callable, datamodule, rows: np.ndarray, *,
                            epochs: int, trainer, seed: int) -> np.ndarray:
    """Self-influence of every training sample in ``rows`` from a fresh copy of ``net`` trained with
    turn-over dropout on them (``scores.self_influence``); NaN elsewhere."""
    module = TurnOverDropout(net=copy.deepcopy(net), loss=CrossEntropy(), num_classes=datamodule.num_classes,
                             optimizer=optimizer)
    subset = datamodule.with_train_indices(rows)
    one_device_trainer(trainer, epochs=epochs, seed=seed, validate=False).fit(module, datamodule=subset)

    def losses(x, y, index):
        own = F.cross_entropy(module.masked_logits(x, index, own=True).float(), y, reduction="none")
        other = F.cross_entropy(module.masked_logits(x, index, own=False).float(), y, reduction="none")
        return {"si": self_influence(own, other)}

    n = len(datamodule.noisy_labels)
    out = training_set_pass(subset, losses, nets=module.nets, device=module.device, num_samples=n)["si"]
    result = np.full(n, np.nan)
    result[rows] = out.cpu().numpy()[rows]
    return result
