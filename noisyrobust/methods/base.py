"""What every method shares: evaluation of each network on the noisy validation split and the clean
test set every epoch, the shared metric names, the training diagnostics, a NaN guard and the history
the final summary is read from. A method adds its networks, its loss and its selection rule.

A training step costs little beyond the method's own tensors: its diagnostics and loss are summed on the
device and read once per epoch; ``train/loss_step`` is logged only on the steps the logger writes
(``trainer.log_every_n_steps``), and the NaN guard reads the device every as many calls. With fused steps
one call of ``training_step`` runs several optimizer steps, each exactly as it would run alone."""
from contextlib import contextmanager, nullcontext
from typing import Any, Callable, NamedTuple, Optional, Sequence

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.utilities.types import LRSchedulerConfig
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torchmetrics.classification import MulticlassAccuracy

from noisyrobust.diagnostics.metrics import TrainingOutcomes
from noisyrobust.data.loader import FusedBatches
from noisyrobust.errors import UserError
from noisyrobust.models.compile import has_convolutions
from noisyrobust.optim import frozen_running_stats, scaled_lr
from noisyrobust.per_sample.state import frozen_rows

# the evaluation sets a datamodule may name in eval_names: the validation split, the clean test set and the
# further test sets of a dataset that has them (WebVision's ILSVRC 2012 validation images)
EVAL_SPLITS = ("val", "test", "test_imagenet")
TOP5_ABOVE = 10  # classes above which top-5 accuracy is logged too


class Observation(NamedTuple):
    """One step's logits of the first network by global sample index, and the labels it trained on."""

    index: torch.Tensor
    logits: torch.Tensor
    given: torch.Tensor


class NoisyLabelModule(LightningModule):
    """Base of every method. ``optimizer`` and ``scheduler`` are partials (Hydra ``_partial_: true``)
    bound here to the parameters of all ``nets``; the scheduler steps once per epoch.

    A method implements ``training_loss(batch, selected) -> loss | None`` (None: no update on this batch)
    and records its diagnostics there with ``observe``. What it decides once per batch, at the weights
    before the update (random draws such as mixup's λ, the samples it trains on), it returns from
    ``select(batch)``, which runs first and whose result every loss pass of the batch receives as
    ``selected``; ``after_update(batch, selected)`` runs after the optimizer's step (per-sample
    parameters, weight averages). This base runs the update, so that an optimizer that takes the loss
    twice (SAM) works with every method without the method knowing: the second pass runs with
    BatchNorm's running statistics and the method's per-sample state frozen, and records nothing.
    """

    shows_selection = False  # methods that select show select/* on the progress bar

    @classmethod
    def variant_of(cls, method_cfg) -> Optional[str]:
        """The ablation a method config asks for, reported apart (the summary names it method[variant]) and
        resumed only by the same; none by default."""
        return None

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
                                                            for _ in nets) for split in EVAL_SPLITS})
        # top-5 accuracy beside top-1 where there are more than 10 classes (WebVision's, Food-101N's tables)
        self.eval_top5 = nn.ModuleDict({split: nn.ModuleList(MulticlassAccuracy(num_classes, top_k=5, average="micro",
                                                                                validate_args=False)
                                                             for _ in nets) for split in EVAL_SPLITS}) \
            if num_classes > TOP5_ABOVE else None
        self.history: list = []
        self.automatic_optimization = False  # training_step below runs the update
        # this epoch's sum of batch-size-weighted losses and the count of updates before the first non-finite one
        self.register_buffer("loss_sum", torch.zeros(()), persistent=False)
        self.register_buffer("finite_updates", torch.zeros((), dtype=torch.long), persistent=False)
        self._loss_weight, self._first_step = 0, 0
        self._recording = True  # False during an optimizer's second loss pass
        self._observed: Optional[Observation] = None  # what observe saw in this step's first pass
        self.batch_in_epoch, self.batches_in_epoch = 0, 1  # set at every epoch's start
        self._logged_steps: dict = {}  # {step: metrics} of this call's log_step, for the loggers
        self.per_sample = None  # a method's PerSampleState (ELR targets, SOP u/v, ...): travels in checkpoints

    # -- setup ---------------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        dm = self.trainer.datamodule
        self.register_buffer("clean_labels", dm.clean_labels.clone(), persistent=False)
        if self.trainer.strategy.root_device.type == "cuda":  # cuDNN's convolutions are faster channels-last
            for net in self.nets:
                if has_convolutions(net):
                    net.to(memory_format=torch.channels_last)

    def summary_facts(self) -> dict:
        """Facts of the method's settings the end-of-run summary reports (none by default)."""
        return {}

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.trainable_parameters())
        if self.scheduler_factory is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": self.scheduler_factory(optimizer=optimizer),
                                                          "interval": "epoch"}}

    def trainable_parameters(self):
        """What the optimizer trains: every parameter by default. A method whose schedule changes that
        mid-run (PES re-initializes layers and trains them with a fresh optimizer) overrides it, keeps its
        phase in the checkpoint (``on_load_checkpoint`` runs before the optimizer is built on a resume) and
        calls ``reset_optimizer`` when the phase changes."""
        return self.parameters()

    def reset_optimizer(self) -> None:
        """A fresh optimizer (and schedule) over ``trainable_parameters()`` from the next step on, built from
        the run's config: SAM stays SAM, and the step keeps its path (and its host-sync guarantee)."""
        config = self.configure_optimizers()
        optimizer = config["optimizer"] if isinstance(config, dict) else config
        strategy = self.trainer.strategy
        strategy.optimizers = [optimizer]
        # a phase may train without the run's schedule (PES's refinement: a constant lr) and the next with it
        strategy.lr_scheduler_configs = ([LRSchedulerConfig(config["lr_scheduler"]["scheduler"], interval="epoch")]
                                         if isinstance(config, dict) else [])

    @property
    def schedule_epoch(self) -> int:
        """The epoch the lr schedule stands at: the trainer's, unless a method's run holds epochs its schedule
        does not count (PES's refinement)."""
        return self.current_epoch

    # -- one step: select once, a loss pass (two for SAM), the update ----------------------------------
    def select(self, batch) -> Any:
        """What the method decides once per batch before its loss passes; None by default."""
        return None

    def after_update(self, batch, selected) -> None:
        """Runs after the optimizer's step on this batch (not when ``training_loss`` gave None)."""

    def lr_factor(self) -> float:
        """A host number the schedule's learning rate is multiplied by for this step's update only (the
        scheduler and the checkpointed lr untouched): the papers that divide the lr by 1 + the weight of a
        regularizer (peer loss, CORES²); 1 by default."""
        return 1.0

    def training_step(self, batch, batch_idx: int):
        """One optimizer step per batch; several consecutive batches when they come fused (``FusedBatches``:
        Lightning's per-call hooks, logging and progress then run once for all of them)."""
        batches = batch if isinstance(batch, FusedBatches) else (batch,)
        outputs = [self.optimization_step(one) for one in batches]
        if len(batches) > 1:  # the loggers' step counts batches, fused or not (Lightning counts its calls: it
            # has no public counter to advance, and adds this call's 1 itself)
            self.trainer.fit_loop.epoch_loop._batches_that_stepped += len(batches) - 1
        observed = [o for o, _ in outputs if o is not None]
        losses = [loss for _, loss in outputs if loss is not None]
        return {**({"loss": losses[-1]} if losses else {}), **({"observed": observed} if observed else {})}

    def optimization_step(self, batch):
        """select, the loss pass(es), the optimizer's step and after_update on one batch; returns what
        ``observe`` saw and the loss (None: no update)."""
        optimizer = self.optimizers()
        self._observed = None
        selected = self.select(batch)
        loss = self.training_loss(batch, selected)
        if loss is not None:
            optimizer.zero_grad()
            with scaled_lr(optimizer.optimizer, self.lr_factor()):
                if getattr(optimizer.optimizer, "two_pass", False):
                    self.sharpness_aware_update(optimizer, batch, selected, loss)
                else:
                    self.manual_backward(loss)
                    optimizer.step()
            self.after_update(batch, selected)
            loss = loss.detach()
            n = len(batch[1])  # (labels: x may be a tuple of views) the epoch mean weighs each batch by its size
            self.loss_sum.add_(loss, alpha=n)
            self.finite_updates.add_(torch.isfinite(self.loss_sum))  # stops growing at the first NaN/inf loss
            self._loss_weight += n
            self.log_step({"train/loss_step": loss})
        self.batch_in_epoch += 1
        return self._observed, loss

    # -- where a step stands, whether or not batches come fused ----------------------------------------
    @property
    def batch_index(self) -> int:
        """The current batch's index over the whole run (Lightning's step for the loggers, unfused)."""
        return self.current_epoch * self.batches_in_epoch + self.batch_in_epoch

    @property
    def epoch_progress(self) -> float:
        """Epochs trained so far, fractional: the epoch + the share of its batches done."""
        return self.current_epoch + self.batch_in_epoch / max(1, self.batches_in_epoch)

    def log_step(self, metrics: dict) -> None:
        """Per-batch metrics, written on every ``trainer.log_every_n_steps``-th batch at that batch's step (as
        Lightning's ``on_step`` logging; here per batch also when batches come fused). Read on the host in
        ``on_train_batch_end``, outside the step."""
        trainer = self.trainer
        if (self.batch_index + 1) % trainer.log_every_n_steps == 0 or trainer.should_stop:
            self._logged_steps.setdefault(self.batch_index, {}).update(metrics)

    def sharpness_aware_update(self, optimizer, batch, selected, loss: torch.Tensor) -> None:
        """SAM/ASAM (``noisyrobust.optim.SAM``): the gradient of ``loss`` (the first pass, at w: it has
        recorded the diagnostics and updated BatchNorm's statistics) gives the ascent w -> w + e; the
        method's loss again at w + e, with the same ``selected``, nothing recorded and the running state
        frozen, gives the gradient the base optimizer applies from w. Under DDP only that second gradient
        is all-reduced; each rank ascends along its own first-pass gradient, as in the SAM paper."""
        model = self.trainer.strategy.model
        with model.no_sync() if isinstance(model, DistributedDataParallel) else nullcontext():
            self.manual_backward(loss)
        optimizer.optimizer.ascend()
        with self.second_pass():
            loss_at_ascent = self.training_loss(batch, selected)
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
        """Another loss pass (and its backward) for the optimizer: no diagnostics, and BatchNorm's running
        statistics and the per-sample state put back or left alone, so that they see each batch once."""
        self._recording = False
        try:
            with frozen_running_stats(self), frozen_rows(self):
                yield
        finally:
            self._recording = True

    def on_train_epoch_start(self) -> None:
        loader = self.trainer.train_dataloader
        fused = getattr(loader, "fuse", 1) > 1  # (fused only without Lightning's batch limits)
        self.batches_in_epoch = loader.batches_per_epoch if fused else self.trainer.num_training_batches
        self.batch_in_epoch = 0
        self.loss_sum.zero_()
        self.finite_updates.zero_()
        self._loss_weight, self._first_step = 0, self.global_step
        # the scheduler's epoch count follows the trainer's, so a resumed run continues the schedule
        scheduler = self.lr_schedulers()
        while scheduler is not None and scheduler.last_epoch < self.schedule_epoch:
            scheduler.step()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the first network (two-network methods score each network in evaluation)."""
        return self.nets[0](x)

    # -- training diagnostics ------------------------------------------------------------------------
    def observe(self, logits: torch.Tensor, given: torch.Tensor, index: torch.Tensor,
                kept: Optional[torch.Tensor] = None) -> None:
        """Record one batch's diagnostics from the logits the update step already computed: accuracy
        on the given labels, memorization rates and the quality of the kept subset (all kept if None).
        The logits, by sample index, are what the step exposes to callbacks (``outputs["observed"]``):
        the label-issue finder reads each sample's loss, margin and correctness from them."""
        if not self._recording:
            return
        self._observed = Observation(index, logits.detach(), given)
        clean = self.clean_labels[index]  # clean < 0: unknown (Clothing1M)
        self.outcomes.update(logits.detach().argmax(1), given, clean, kept)

    def observe_selection(self, given: torch.Tensor, index: torch.Tensor, kept: torch.Tensor) -> None:
        """Score one more selection of the batch (a second network's kept set) in ``select/*``."""
        if self._recording:
            self.outcomes.update(None, given, self.clean_labels[index], kept, selection_only=True)

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
        for step, metrics in self._logged_steps.items():
            metrics = {k: float(v) for k, v in metrics.items()}
            for logger in trainer.loggers:
                logger.log_metrics({**metrics, "epoch": self.current_epoch}, step=step)
        self._logged_steps = {}
        if (batch_idx + 1) % trainer.log_every_n_steps == 0 or batch_idx + 1 == trainer.num_training_batches:
            if not torch.isfinite(self.loss_sum):
                step = self._first_step + int(self.finite_updates)
                raise UserError(f"training loss became NaN/inf at step {step} (epoch {self.current_epoch}); "
                                "stopped without saving — lower optimizer.lr or check the data")

    # -- evaluation: noisy validation split and clean test set, every network ----------------------------
    def validation_step(self, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        x, y, _ = batch
        split = self.trainer.datamodule.eval_names[dataloader_idx]
        for i, (net, acc) in enumerate(zip(self.nets, self.eval_acc[split])):
            logits = net(x)
            acc.update(logits.argmax(1), y)
            if self.eval_top5 is not None:
                self.eval_top5[split][i].update(logits, y)

    def on_validation_epoch_end(self) -> None:
        record = {"epoch": self.current_epoch}
        for split in self.trainer.datamodule.eval_names:
            accs = [acc.compute() for acc in self.eval_acc[split]]
            record[f"{split}/acc"] = torch.stack(accs).mean()
            if len(accs) > 1:
                record.update({f"{split}/acc_net{i + 1}": a for i, a in enumerate(accs)})
            for acc in self.eval_acc[split]:
                acc.reset()
            if self.eval_top5 is not None:
                record[f"{split}/acc_top5"] = torch.stack([acc.compute() for acc in self.eval_top5[split]]).mean()
                for acc in self.eval_top5[split]:
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
