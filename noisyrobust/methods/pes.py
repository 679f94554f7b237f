"""PES (Bai et al., NeurIPS 2021, "Understanding and Improving Early Stopping for Learning with Noisy
Labels"): early-stop the whole network, then renew its last layers and retrain them alone (progressive early
stopping), then train on the samples whose prediction agrees with their label (the confident set)."""
from typing import Callable, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from noisyrobust.errors import UserError
from noisyrobust.losses import cross_entropy
from noisyrobust.losses.pes import weighted_cross_entropy
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.models.renew import renew_layers, renewable_groups, renewable_parameters
from noisyrobust.per_sample.passes import training_set_pass
from noisyrobust.per_sample.state import PerSampleState
from noisyrobust.selection.confident import confident_class_weights, confident_mask


class PES(NoisyLabelModule):
    """Phases, by epoch: CE on every sample with the run's optimizer for ``warmup_epochs`` (T1); then for each
    (depth k, epochs) of ``refine_depths``/``refine_epochs`` (PES: k = 1 for T2 = 7, then k = 0 for T3 = 5)
    the final layer and the k groups before it (``models.renew``) are re-initialized and trained alone with
    CE on every sample by ``refine_optimizer`` (Adam, lr 1e-4); then, every epoch, the confident set =
    {i : argmax p_i = ỹ_i} (a pass in eval mode over the training set, the same on every DDP rank) and the
    class-weighted CE on the batch's confident samples (``losses.pes``, w_c = mean_c' n_c' / n_c, capped at
    ``weight_cap``), by the run's optimizer over every layer that was never renewed.

    As the reference (its renewed layers are new modules, absent from the optimizer built before them):
    renewed layers stay frozen after their refinement, whole stages are renewed (shortcuts included; noisypy
    resets the blocks' direct children only), and the refinement stands in for epoch T1 (the run holds its
    epochs on top: ``schedule_epoch``). Departures: the confident samples are those of each shuffled batch (a
    mask; the reference loads the confident set alone, so fewer, fuller batches); the split predicts once on
    the un-augmented images (the reference averages two augmented draws); the main optimizer restarts after
    the refinement (its momentum is dropped; its lr schedule goes on)."""

    shows_selection = True
    refinement_takes_epoch = True  # the reference trains nothing else in epoch T1 (PES-semi does)

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, refine_optimizer: Callable,
                 scheduler: Optional[Callable] = None, warmup_epochs: int = 25,
                 refine_depths: Sequence[int] = (1, 0), refine_epochs: Sequence[int] = (7, 5),
                 weight_cap: Optional[float] = None, seed: int = 0):
        refine_depths, refine_epochs = list(refine_depths), list(refine_epochs)
        if not refine_depths or len(refine_depths) != len(refine_epochs) or min(refine_epochs) < 1:
            raise UserError(f"method.refine_depths={refine_depths} and method.refine_epochs={refine_epochs} must "
                            "be lists of the same length >= 1, each refinement >= 1 epoch")
        if weight_cap is not None and weight_cap <= 0:
            raise UserError(f"method.weight_cap={weight_cap} must be > 0 (or null: no cap)")
        for depth in refine_depths:
            renewable_groups(net, depth)  # a network without the groups asked for: a one-line error, now
        if len(renewable_parameters(net, max(refine_depths))) == len(list(net.parameters())):
            raise UserError(f"method.refine_depths={refine_depths} renews every layer of model {type(net).__name__}, "
                            "leaving none to train on the confident set; use smaller depths (e.g. [0, 0]) or a "
                            "deeper network (e.g. model.hidden=[256,256])")
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        self.refine_optimizer_factory = refine_optimizer
        self.warmup_epochs, self.refine_depths, self.refine_epochs = warmup_epochs, refine_depths, refine_epochs
        self.weight_cap, self.seed, self.num_classes = weight_cap, seed, num_classes
        self.phase = 0  # 0 warm-up, s in 1..S refinement s, S + 1 the confident phase: its optimizer is live
        self.register_buffer("class_weight", torch.ones(num_classes), persistent=False)

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if self.per_sample is None:  # the confident set of the epoch's split
            self.per_sample = PerSampleState(len(self.clean_labels), confident=torch.bool)

    # -- phases ---------------------------------------------------------------------------------------
    def phase_of(self, epoch: int) -> int:
        end = self.warmup_epochs
        for stage, epochs in enumerate(self.refine_epochs, start=1):
            if epoch < end:
                return stage - 1
            end += epochs
        return len(self.refine_epochs) + (epoch >= end)

    @property
    def refining(self) -> bool:
        return 1 <= self.phase <= len(self.refine_epochs)

    @property
    def schedule_epoch(self) -> int:
        if self.current_epoch < self.warmup_epochs:
            return self.current_epoch
        after = self.current_epoch - sum(self.refine_epochs) + self.refinement_takes_epoch
        return max(self.warmup_epochs, after)

    def trainable_parameters(self):
        net = self.nets[0]
        if self.refining:  # the layers renewed by this refinement alone
            return renewable_parameters(net, self.refine_depths[self.phase - 1])
        if self.phase == 0:
            return self.parameters()
        frozen = {id(p) for p in renewable_parameters(net, max(self.refine_depths))}  # every layer ever renewed
        return [p for p in self.parameters() if id(p) not in frozen]

    def configure_optimizers(self):
        if self.refining:  # a constant lr: no schedule
            return self.refine_optimizer_factory(params=self.trainable_parameters())
        return super().configure_optimizers()

    def on_train_epoch_start(self) -> None:
        phase = self.phase_of(self.current_epoch)
        if phase != self.phase:  # renew (refinements), then a fresh optimizer, before the schedule catches up
            self.phase = phase
            if self.refining:
                renew_layers(self.nets[0], self.refine_depths[phase - 1], seed=self.seed * 1000 + phase)
            self.reset_optimizer()
        super().on_train_epoch_start()
        if self.phase > len(self.refine_epochs):
            confident = self.split()[self.trainer.datamodule.train_indices.to(self.device)]
            self.log("select/confident", confident.float().mean(), sync_dist=True)

    # -- the confident split, once per epoch ----------------------------------------------------------
    def split(self) -> torch.Tensor:
        """The confident set of the current network (and its class weights); a collective under DDP."""
        def probs(x, y, index):
            return {"prob": F.softmax(self.nets[0](x).float(), 1)}
        n = len(self.clean_labels)
        prob = training_set_pass(self.trainer.datamodule, probs, nets=list(self.nets), device=self.device,
                                 num_samples=n, world_size=self.trainer.world_size)["prob"]
        rows = self.trainer.datamodule.train_indices.to(self.device)
        noisy = self.trainer.datamodule.noisy_labels.to(self.device)
        confident = torch.zeros(n, dtype=torch.bool, device=self.device)
        confident[rows] = confident_mask(prob[rows], noisy[rows])
        self.per_sample.confident.copy_(confident)
        self.class_weight.copy_(confident_class_weights(noisy[rows], confident[rows], self.num_classes,
                                                        cap=self.weight_cap))
        return confident

    # -- one step ----------------------------------------------------------------------------------------
    def training_loss(self, batch, selected=None):
        x, y, index = batch
        x = x[0] if isinstance(x, (tuple, list)) else x
        logits = self.nets[0](x)
        if self.phase <= len(self.refine_epochs):  # warm-up and refinements: CE on every sample
            self.observe(logits, y, index)
            return cross_entropy(logits, y).mean()
        confident = self.per_sample.confident[index]
        self.observe(logits, y, index, kept=confident)
        return weighted_cross_entropy(logits, y, self.class_weight, confident)

    def label_issue_scores(self) -> dict:
        """1 outside the final network's confident set, 0 inside (a split of its own, on every rank)."""
        return {"pes_unconfident": (~self.split()).float().cpu().numpy()}

    # the live optimizer's phase travels with checkpoints: a resumed run builds that optimizer to load its state
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["pes_phase"] = self.phase

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        super().on_load_checkpoint(checkpoint)
        self.phase = checkpoint.get("pes_phase", 0)

