"""What every method shares: evaluation of each network on the noisy validation split and the clean
test set every epoch, the shared metric names, the training diagnostics, a NaN guard and the history
the final summary is read from. A method adds its networks, its loss and its selection rule.

A training step costs little beyond the method's own tensors: its diagnostics and loss are summed on the
device and read once per epoch; ``train/loss_step`` is logged only on the steps the logger writes
(``trainer.log_every_n_steps``), and the NaN guard reads the device every as many steps."""
from contextlib import contextmanager, nullcontext
from typing import Callable, Optional, Sequence

import torch
from lightning.pytorch import LightningModule
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torchmetrics.classification import MulticlassAccuracy

from noisyrobust.diagnostics.metrics import TrainingOutcomes
from noisyrobust.errors import UserError
from noisyrobust.models.compile import has_convolutions
from noisyrobust.optim import frozen_running_stats


class NoisyLabelModule(LightningModule):
    """Base of every method. ``optimizer`` and ``scheduler`` are partials (Hydra ``_partial_: true``)
    bound here to the parameters of all ``nets``; the scheduler steps once per epoch.

    A method implements ``training_loss(batch) -> loss | None`` (None: no update on this batch) and
    records its diagnostics there with ``observe``; this base runs the update, so that an optimizer
    that needs the loss twice (SAM) works with every method.
    """

    shows_selection = False  # methods that select show select/* on the progress bar
    variant = None  # an ablation of the method, reported apart: the summary names it method[variant]

    def __init__(self, *, nets: Sequence[nn.Module], num_classes: int, optimizer: Callable,
                 scheduler: Optional[Callable] = None):
        super().__init__()
        self.nets = nn.ModuleList(nets)
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.outcomes = TrainingOutcomes()  # train/acc, mem/*, select/*
        # validate_args=False: predictions are argmax indices and labels the datamodule's checked ones; the
        # checks would scan every evaluation batch again
        self.eval_acc = nn.ModuleDict({split: nn.ModuleList(MulticlassAccuracy(num_classes, average="micro",
                                                                               validate_args=False)
                                                            for _ in nets) for split in ("val", "test")})
        self.history: list = []
        self.automatic_optimization = False  # training_step below runs the update
        self.probing = False  # True while a second loss pass runs for the optimizer: no diagnostics
        # this epoch's sum of batch-size-weighted losses and the count of updates before the first non-finite one
        self.register_buffer("loss_sum", torch.zeros(()), persistent=False)
        self.register_buffer("finite_updates", torch.zeros((), dtype=torch.long), persistent=False)
        self._loss_weight, self._first_step = 0, 0
        self.dynamics = None  # per-sample training dynamics, attached by the label-issue diagnostics
        self.per_sample = None  # a method's PerSampleState (ELR targets, SOP u/v, ...): travels in checkpoints

    # -- setup ---------------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        dm = self.trainer.datamodule
        self.register_buffer("clean_labels", dm.clean_labels.clone(), persistent=False)
        if self.trainer.strategy.root_device.type == "cuda":  # cuDNN's convolutions are faster channels-last
            for net in self.nets:
                if has_convolutions(net):
                    net.to(memory_format=torch.channels_last)

    def stage_output(self, name: str, stage: str) -> torch.Tensor:
        """The per-sample fact ``name`` a stage before the fit handed over in ``datamodule.per_sample``; a
        clear error when the method's config lost the stage node ``stages.<stage>``."""
        value = self.trainer.datamodule.per_sample.get(name)
        if value is None:
            raise UserError(f"this method needs {name} from the stage stages.{stage}, which its config sets; "
                            "keep that node")
        return value

    def summary_facts(self) -> dict:
        """Facts of the method's settings the end-of-run summary reports (none by default)."""
        return {}

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": self.scheduler_factory(optimizer=optimizer),
                                                          "interval": "epoch"}}

    def training_step(self, batch, batch_idx: int):
        optimizer = self.optimizers()
        loss = self.training_loss(batch)
        if loss is None:
            return None
        optimizer.zero_grad()
        if getattr(optimizer.optimizer, "two_pass", False):
            self.sharpness_aware_update(optimizer, batch, loss)
        else:
            self.manual_backward(loss)
            optimizer.step()
        loss = loss.detach()
        n = len(batch[1])  # (labels: x may be a tuple of views) the epoch mean weighs each batch by its size
        self.loss_sum.add_(loss, alpha=n)
        self.finite_updates.add_(torch.isfinite(self.loss_sum))  # stops growing at the first NaN/inf loss
        self._loss_weight += n
        if self.trainer._logger_connector.should_update_logs:  # the steps whose metrics the logger writes
            self.log("train/loss_step", loss, on_step=True, on_epoch=False)
        return loss

    def sharpness_aware_update(self, optimizer, batch, loss: torch.Tensor) -> None:
        """SAM/ASAM (``noisyrobust.optim.SAM``): the gradient of ``loss`` (the first pass, at w: it has
        recorded the diagnostics and updated BatchNorm's statistics) gives the ascent w -> w + e; the
        method's loss again at w + e, without diagnostics and with BatchNorm's statistics frozen, gives
        the gradient the base optimizer applies from w. Under DDP only that second gradient is
        all-reduced; each rank ascends along its own first-pass gradient, as in the SAM paper."""
        model = self.trainer.strategy.model
        with model.no_sync() if isinstance(model, DistributedDataParallel) else nullcontext():
            self.manual_backward(loss)
        optimizer.optimizer.ascend()
        with self.second_pass():
            loss_at_ascent = self.training_loss(batch)
            if loss_at_ascent is not None:
                optimizer.zero_grad()
                self.manual_backward(loss_at_ascent)
        # back to w before the step (which would restore it too): w stays exact when no step is taken,
        # here or when fp16's GradScaler skips one
        optimizer.optimizer.restore()
        if loss_at_ascent is not None:  # None: e.g. Co-teaching+ without disagreement at w + e, no update
            optimizer.step()

    @contextmanager
    def second_pass(self):
        """Another loss pass (and its backward) for the optimizer: no diagnostics, and BatchNorm's
        running statistics put back afterwards, so that they see each batch once."""
        self.probing = True
        try:
            with frozen_running_stats(self):
                yield
        finally:
            self.probing = False

    def on_train_epoch_start(self) -> None:
        self.loss_sum.zero_()
        self.finite_updates.zero_()
        self._loss_weight, self._first_step = 0, self.global_step
        # the scheduler's epoch count follows the trainer's, so a resumed run continues the schedule
        scheduler = self.lr_schedulers()
        while scheduler is not None and scheduler.last_epoch < self.current_epoch:
            scheduler.step()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the first network (two-network methods score each network in evaluation)."""
        return self.nets[0](x)

    # -- training diagnostics ------------------------------------------------------------------------
    def observe(self, logits: torch.Tensor, given: torch.Tensor, index: torch.Tensor,
                kept: Optional[torch.Tensor] = None) -> None:
        """Record one batch's diagnostics from the logits the update step already computed: accuracy
        on the given labels, memorization rates, the quality of the kept subset (all kept if None), and
        each sample's loss, margin and correctness (``dynamics``, when the label-issue diagnostics run)."""
        if self.probing:
            return
        if self.dynamics is not None:
            self.dynamics.record(index, logits, given, self.current_epoch)
        clean = self.clean_labels[index]  # clean < 0: unknown (Clothing1M)
        self.outcomes.update(logits.detach().argmax(1), given, clean, kept)

    def label_issue_scores(self) -> dict:
        """The method's own per-sample scores for the label-issue table, ``{name: array over all training
        samples, higher = more likely mislabelled}`` (e.g. ELR's targets, SOP's u and v); none by default."""
        return {}

    def on_train_epoch_end(self) -> None:
        outcomes = self.outcomes.compute()
        self.log_dict({k: v for k, v in outcomes.items() if not k.startswith("select/")}, sync_dist=True)
        self.log_dict({k: v for k, v in outcomes.items() if k.startswith("select/")}, prog_bar=self.shows_selection,
                      sync_dist=True)
        self.outcomes.reset()
        if self._loss_weight:
            self.log("train/loss_epoch", self.loss_sum / self._loss_weight, sync_dist=True)  # the mean over ranks

    # -- NaN guard: the device-side loss sum, read only every log_every_n_steps steps (no per-step host sync)
    def on_train_batch_end(self, outputs, batch, batch_idx: int) -> None:
        trainer = self.trainer
        if (batch_idx + 1) % trainer.log_every_n_steps == 0 or batch_idx + 1 == trainer.num_training_batches:
            if not torch.isfinite(self.loss_sum):
                step = self._first_step + int(self.finite_updates)
                raise UserError(f"training loss became NaN/inf at step {step} (epoch {self.current_epoch}); "
                                "stopped without saving — lower optimizer.lr or check the data")

    # -- evaluation: noisy validation split and clean test set, every network ----------------------------
    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        x, y, _ = batch
        split = self.trainer.datamodule.eval_names[dataloader_idx]
        for net, acc in zip(self.nets, self.eval_acc[split]):
            acc.update(net(x).argmax(1), y)

    def on_validation_epoch_end(self) -> None:
        record = {"epoch": self.current_epoch}
        for split in self.trainer.datamodule.eval_names:
            accs = [acc.compute() for acc in self.eval_acc[split]]
            record[f"{split}/acc"] = torch.stack(accs).mean()
            if len(accs) > 1:
                record.update({f"{split}/acc_net{i + 1}": a for i, a in enumerate(accs)})
            for acc in self.eval_acc[split]:
                acc.reset()
        for key, value in record.items():
            if key != "epoch":
                self.log(key, value, prog_bar=key in ("val/acc", "test/acc"), add_dataloader_idx=False,
                         sync_dist=True)
        if not self.trainer.sanity_checking:
            self.history.append({k: (int(v) if k == "epoch" else float(v)) for k, v in record.items()})

    # the history travels with checkpoints so that a resumed run reports over all its epochs
    # (and the per-sample state, outside state_dict: its size is only known once the data is set up)
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["history"] = self.history
        if self.per_sample is not None:
            checkpoint["per_sample"] = {n: getattr(self.per_sample, n).cpu() for n in self.per_sample.names}

    def on_load_checkpoint(self, checkpoint: dict) -> None:  # after setup: the state exists, on its device
        self.history = list(checkpoint.get("history", []))
        for name, value in checkpoint.get("per_sample", {}).items():
            getattr(self.per_sample, name).copy_(value)
