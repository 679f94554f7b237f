"""RHO-LOSS (Mindermann et al., ICML 2022): from each large batch, train on the points whose loss the
model can still reduce — the top share by CE(model) - IL, IL being the loss of a model trained on a holdout
split — which skips noisy-labelled points (high IL) as well as learnt ones (low CE)."""
from contextlib import nullcontext
from typing import Callable, Optional

import torch
from torch import nn
from torchmetrics import MeanMetric

from noisyrobust.errors import UserError
from noisyrobust.losses import cross_entropy
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.methods.global_batch import gather_global_batch, global_kept_mean
from noisyrobust.per_sample.passes import evaluation_mode
from noisyrobust.selection import SELECTION_RULES, keep_count, kept_positions, select_mask


class RHOLoss(NoisyLabelModule):
    """Per step, on a large batch of B points: scores under ``torch.no_grad`` (the whole network in eval
    mode when ``selection_eval_bn``: the paper's reference ran it in train mode, so BatchNorm used the
    batch's statistics and updated them twice per step), keeps round(keep_ratio * B) points by
    ``selection`` (selection/reducible.py) and descends their mean CE.

    The IL stage (stages/irreducible_loss.py, ``stages.irreducible_loss``) runs before the fit and hands it
    the datamodule restricted to the training points the IL model did not see, and this constructor every
    point's IL (``irreducible_loss``, by global index). Every selection rule trains on that same restricted
    set, so the ablations (``uniform``, ``loss``, ``irreducible``) differ in the rule alone.
    """

    shows_selection = True

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, scheduler: Optional[Callable] = None,
                 selection: str = "reducible_loss", keep_ratio: float = 0.1, selection_eval_bn: bool = True,
                 selection_scope: str = "local", irreducible_loss: Optional[torch.Tensor] = None):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        if selection not in SELECTION_RULES:
            raise UserError(f"method.selection={selection} is unknown; choose from: {', '.join(SELECTION_RULES)}")
        if not 0.0 < keep_ratio <= 1.0:
            raise UserError(f"method.keep_ratio={keep_ratio} is outside (0, 1]")
        self.selection_rule, self.keep_ratio, self.selection_eval_bn = selection, keep_ratio, selection_eval_bn
        self.selection_scope = selection_scope  # global: top-k over all processes' batches
        if irreducible_loss is None:
            raise UserError("method=rholoss needs the irreducible losses of the stage stages.irreducible_loss, "
                            "which its config sets; keep that node")
        self.register_buffer("irreducible", irreducible_loss.float(), persistent=False)  # IL per global index
        # noisy share of the selected points and of the large batch: every step, and their epoch means
        # (per step: this rank's batch; per epoch: synced means, computed on every rank in on_train_epoch_end —
        # a metric object handed to self.log is computed by the progress bar on rank 0 alone, a DDP deadlock)
        self.noisy_share = MeanMetric(nan_strategy="disable")
        self.noisy_share_pool = MeanMetric(nan_strategy="disable")
        self.generator: Optional[torch.Generator] = None  # uniform selection, reseeded every epoch

    @classmethod
    def variant_of(cls, method_cfg) -> Optional[str]:
        """The paper's ablations (``uniform``, ``loss``, ``irreducible``) are reported apart."""
        selection = method_cfg.get("selection", "reducible_loss")
        return None if selection == "reducible_loss" else selection

    def summary_facts(self) -> dict:
        return {"selection": self.selection_rule}

    def setup(self, stage: str) -> None:
        super().setup(stage)
        assert len(self.irreducible) == len(self.clean_labels), "the stage scores every training point"

    # -- training ------------------------------------------------------------------------------------
    def on_train_epoch_start(self) -> None:
        super().on_train_epoch_start()
        if self.generator is None or self.generator.device != self.device:
            self.generator = torch.Generator(device=self.device)
        # from the global RNG, which EpochSeed reseeds from (seed, epoch, rank): a resume draws the same
        self.generator.manual_seed(int(torch.randint(2**62, (1,))))

    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()
        self.log("select/noisy_share", self.noisy_share.compute(), prog_bar=True, sync_dist=True)
        self.log("select/noisy_share_pool", self.noisy_share_pool.compute(), sync_dist=True)
        self.noisy_share.reset()
        self.noisy_share_pool.reset()

    def select(self, batch):
        """The points of the large batch to train on, chosen at the weights before the update; (positions
        in the batch, the count kept over the processes it was chosen among)."""
        x, y, index = batch
        net = self.nets[0]
        with torch.no_grad(), evaluation_mode(net) if self.selection_eval_bn else nullcontext():
            logits = net(x)
        loss, irreducible = cross_entropy(logits.float(), y), self.irreducible[index]
        if self.selection_scope == "global" and self.trainer.world_size > 1:
            (loss, irreducible), mine = gather_global_batch(self, loss, irreducible)
        kept_total = keep = keep_count(len(loss), self.keep_ratio)
        kept = select_mask(self.selection_rule, loss=loss, irreducible=irreducible, keep=keep,
                           generator=self.generator)
        if len(kept) != len(y):  # global: this process's share, whose size varies (a host sync)
            kept = kept[mine]
            keep = int(kept.sum())
        self.observe(logits, y, index, kept=kept)
        self.log_noisy_share(y, index, kept)
        return kept_positions(kept, keep), kept_total

    def log_noisy_share(self, y, index, kept) -> None:
        clean = self.clean_labels[index]
        known = (clean >= 0).float()  # Clothing1M: the clean label of most training images is unknown
        is_noisy = (y != clean).float() * known
        share = (is_noisy * kept).sum() / (known * kept).sum().clamp(min=1)
        pool = is_noisy.sum() / known.sum().clamp(min=1)
        self.log_step({"select/noisy_share_step": share, "select/noisy_share_pool_step": pool})
        self.noisy_share.update(share)
        self.noisy_share_pool.update(pool)

    def training_loss(self, batch, selected):
        x, y, _ = batch
        chosen, kept_total = selected
        losses = cross_entropy(self.nets[0](x[chosen]), y[chosen])
        if self.selection_scope == "global" and self.trainer.world_size > 1:
            return global_kept_mean(self, losses, torch.ones_like(losses), kept_total)
        return losses.mean()
