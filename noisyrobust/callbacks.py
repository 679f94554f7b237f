"""Callbacks the pipeline always adds."""
import sys
import time

import torch
from lightning.pytorch import Callback
from lightning.pytorch.callbacks import TQDMProgressBar


class EpochSeed(Callback):
    """Reseed torch's global RNG (dropout, ...) from (seed, epoch, rank) at every epoch start, so a run
    resumed from an epoch-end checkpoint draws exactly what the uninterrupted run drew."""

    def __init__(self, seed: int):
        self.seed = seed

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        torch.manual_seed((self.seed * 1_000_003 + trainer.current_epoch * 7_919 + trainer.global_rank) % 2**63)


class LabelsChecksum(Callback):
    """Stamps the noisy labels' checksum (and the method) into every checkpoint, so a resume on other labels
    (or with another method of the same networks) is refused."""

    def __init__(self, checksum: str, method: str = None):
        self.checksum, self.method = checksum, method

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        checkpoint["noisy_labels_checksum"] = self.checksum
        if self.method:
            checkpoint["method"] = self.method


class ProgressBar(TQDMProgressBar):
    """Lightning's bar for training epochs, without a second bar for each evaluation pass. When standard
    output is not a terminal (a log file, SLURM, Docker), one line per epoch with the bar's metrics instead.

    The line of an epoch is printed once its metrics are complete: callbacks' ``on_train_epoch_end`` runs
    before the module's (which logs train/* and select/*) and before Lightning gathers them for the bar, so
    the line waits for the next epoch's start (or the end of training)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.epoch_lines = not sys.stdout.isatty()
        if self.epoch_lines:
            self.disable()
        self._finished = None  # (epoch, seconds) of an epoch whose line is still to print

    def on_train_epoch_start(self, trainer, *args) -> None:
        self._print_finished(trainer, *args)
        super().on_train_epoch_start(trainer, *args)
        self._epoch_start = time.monotonic()

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        self._finished = (trainer.current_epoch, time.monotonic() - self._epoch_start)

    def on_train_end(self, trainer, pl_module) -> None:
        self._print_finished(trainer, pl_module)
        super().on_train_end(trainer, pl_module)

    def _print_finished(self, trainer, pl_module) -> None:
        if self._finished is None:
            return
        epoch, seconds = self._finished
        self._finished = None
        if self.epoch_lines and trainer.is_global_zero:
            metrics = {k: v for k, v in self.get_metrics(trainer, pl_module).items() if k != "v_num"}
            print(f"Epoch {epoch}: " + " ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())
                + f" [{epoch + 1}/{trainer.max_epochs} epochs, {seconds:.1f}s]", flush=True)

    def init_validation_tqdm(self):
        bar = super().init_validation_tqdm()
        bar.disable = True
        return bar


class SummaryCallback(Callback):
    """A callback whose ``summary()`` entries join the run's ``summary.json`` (after the fit, rank 0)."""

    def summary(self) -> dict:
        return {}
