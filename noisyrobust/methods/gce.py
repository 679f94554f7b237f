"""GCE (Zhang & Sabuncu, NeurIPS 2018): the L_q loss, and its truncated variant that prunes, every few
epochs, the samples on which the best model so far gives the label a probability of k or less."""
import copy
from typing import Callable, Optional

import torch
from torch import nn

from noisyrobust.per_sample.passes import training_set_pass
from noisyrobust.per_sample.state import PerSampleState
from noisyrobust.errors import UserError
from noisyrobust.losses.gce import generalized_cross_entropy, truncated_gce, truncation_weights
from noisyrobust.methods.base import NoisyLabelModule


class GCE(NoisyLabelModule):
    """Minimizes mean L_q. With ``truncated``: mean w_i (L_q - L_q(k)), w_i = 1 [p_y > k] under the model
    best on the noisy validation split so far (the last one without a split; the reference chose on the
    test set: a pitfall), recomputed over the whole training set at the start of epochs e with
    e + 1 >= ``prune_start`` and (e + 1) % ``prune_every`` == 0 (never before a first epoch of training: an
    untrained model would prune every sample). ``select/*`` scores the kept w_i = 1 set."""

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, scheduler: Optional[Callable] = None,
                 q: float = 0.7, k: float = 0.5, truncated: bool = False, prune_start: int = 40, prune_every: int = 10):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        if not 0.0 < q <= 1.0 or not 0.0 < k < 1.0:
            raise UserError(f"method.q={q} must be in (0, 1] and method.k={k} in (0, 1)")
        if prune_every < 1:
            raise UserError(f"method.prune_every={prune_every} must be >= 1")
        self.q, self.k, self.truncated = q, k, truncated
        self.prune_start, self.prune_every = prune_start, prune_every
        self.shows_selection = truncated
        self.best_val, self.best_state = -1.0, None

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if self.per_sample is None:
            self.per_sample = PerSampleState(len(self.clean_labels), weight=torch.float32)
            self.per_sample.weight.fill_(1.0)

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits = self.nets[0](x)
        if not self.truncated:
            self.observe(logits, y, index)
            return generalized_cross_entropy(logits, y, q=self.q).mean()
        weight = self.per_sample.weight[index]
        self.observe(logits, y, index, kept=weight > 0)
        return truncated_gce(logits, y, weight, q=self.q, k=self.k).mean()

    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        e = self.current_epoch + 1
        if self.truncated and self.current_epoch > 0 and e >= self.prune_start and e % self.prune_every == 0:
            self.prune()

    def prune(self) -> None:
        """w_i from the best model so far over every training sample, gathered: the same on every rank."""
        net = self.nets[0]
        if self.best_state is not None:
            net = copy.deepcopy(net)
            net.load_state_dict(self.best_state)
        w = training_set_pass(self.trainer.datamodule, lambda x, y, i: {"w": truncation_weights(net(x), y, k=self.k)},
                              nets=[net], device=self.device, num_samples=len(self.clean_labels),
                              world_size=self.trainer.world_size)["w"]
        self.per_sample.weight.copy_(torch.nan_to_num(w, nan=1.0))

    def on_validation_epoch_end(self) -> None:
        super().on_validation_epoch_end()
        last = self.history[-1] if self.history and not self.trainer.sanity_checking else {}
        if "val/acc" in last and last["val/acc"] > self.best_val:
            self.best_val = last["val/acc"]
            self.best_state = {k: v.detach().clone() for k, v in self.nets[0].state_dict().items()}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["gce_best"] = (self.best_val, self.best_state)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        super().on_load_checkpoint(checkpoint)
        self.best_val, self.best_state = checkpoint.get("gce_best", (-1.0, None))

    def label_issue_scores(self) -> dict:
        return {"gce_pruned": (1.0 - self.per_sample.weight).cpu().numpy()} if self.truncated else {}
