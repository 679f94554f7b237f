"""T-Revision (Xia et al., NeurIPS 2019, "Are Anchor Points Really Indispensable in Label-Noise Learning?"):
T estimated from anchor points (the stage ``stages.transition``, shared with forward/backward correction),
then importance reweighting with T, then the same loss with T + ΔT, ΔT learnt through the weights."""
from typing import Callable, Optional

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

from noisyrobust.errors import UserError
from noisyrobust.losses.transition import reweighted_ce
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.methods.correction import NoisyPredictionValidation, transition_facts


def constant(epoch: int) -> float:
    return 1.0


class TRevision(NoisyPredictionValidation, NoisyLabelModule):
    """Epochs [0, ``reweight_epochs``): mean beta_i CE_i with beta = p_y / (p^T T)_y held constant; then
    (revision) the same with T + ΔT and beta differentiable, ΔT (C x C, from 0) trained with the network by
    ``revision_optimizer`` (the paper's Adam, lr 5e-7, weight decay 1e-4; null: the run's optimizer), at a
    constant learning rate. The network starts from the stage's CE model (``warm_start``; none when T is
    given as ``oracle`` or a file), as the authors' stages 2 and 3 start from the best model before them.

    ``accumulate``: the authors' code adds ΔT to T once per sample inside its loop over the batch, so sample
    i of a batch sees T + (i+1)ΔT (fixed in their commit 37f41bf3 and reverted a minute later, b598cf28);
    the paper writes T + ΔT, our default. Its published numbers came from that code, so from the
    accumulating loss. Departure: the authors run each stage as its own run and restart the revision from
    the reweighting stage's best epoch on noisy validation; here the stages are epochs of one run (resumable
    anywhere), the revision going on from the last reweighting epoch."""

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, scheduler: Optional[Callable] = None,
                 transition: str = "estimate", transition_matrix: Optional[torch.Tensor] = None,
                 warm_start: Optional[nn.Module] = None, reweight_epochs: int = 20,
                 revision_optimizer: Optional[Callable] = None, accumulate: bool = False):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        if transition_matrix is None:
            raise UserError("method=trevision needs the matrix T from the stage stages.transition, which its config "
                            "sets; keep that node")
        if reweight_epochs < 0:
            raise UserError(f"method.reweight_epochs={reweight_epochs} must be >= 0")
        if warm_start is not None:
            net.load_state_dict(warm_start.state_dict())
        self.transition_source, self.reweight_epochs, self.accumulate = str(transition), reweight_epochs, accumulate
        self.revision_optimizer = revision_optimizer
        self.register_buffer("transition", transition_matrix.float(), persistent=False)
        self.revision = nn.Parameter(torch.zeros(num_classes, num_classes))
        self.revising = False

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if stage == "fit":  # every rank estimated T; all correct with rank 0's
            self.transition = self.trainer.strategy.broadcast(self.transition, src=0)

    def current_transition(self) -> torch.Tensor:
        return self.transition + self.revision if self.revising else self.transition

    # -- the two phases: ΔT and the revision's optimizer join at the switch --------------------------------
    def trainable_parameters(self):
        return self.parameters() if self.revising else self.nets.parameters()

    def configure_optimizers(self):
        if not self.revising or self.revision_optimizer is None:
            return super().configure_optimizers()
        optimizer = self.revision_optimizer(params=self.trainable_parameters())
        if self.scheduler_factory is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": LambdaLR(optimizer, constant), "interval": "epoch"}}

    def on_train_epoch_start(self) -> None:
        if not self.revising and self.current_epoch >= self.reweight_epochs:
            self.revising = True
            self.reset_optimizer()
        super().on_train_epoch_start()

    def training_loss(self, batch, selected=None):
        x, y, index = batch
        logits = self.nets[0](x)
        self.observe(logits, y, index)
        if not self.revising:  # ΔT joins the graph with a zero gradient: DDP expects every parameter used
            return reweighted_ce(logits, y, self.transition).mean() + 0.0 * self.revision.sum()
        return reweighted_ce(logits, y, self.transition, revision=self.revision, accumulate=self.accumulate,
                             detach_weight=False).mean()

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["revising"] = self.revising

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        super().on_load_checkpoint(checkpoint)
        self.revising = checkpoint.get("revising", False)

    def summary_facts(self) -> dict:
        """The revised T + ΔT and its mean absolute error against the realized matrix of the training split."""
        facts = transition_facts(self.trainer.datamodule, self.transition + self.revision)
        return {"revised_transition": {**facts, "accumulate": self.accumulate}}
