"""Which training samples the network predicts as their given label, measured by one evaluation-mode pass
(dropout off, no augmentation) after chosen epochs: Arpit et al. 2017's per-example misclassification after
the first epoch (their Fig. 1) and the fit of noisy vs clean labels under dropout (their Fig. 9/10).

The training step's own forward (``train/acc``, the per-sample dynamics) sees each sample once per epoch,
before that step's update and with dropout on: a sample early in the epoch is judged by a network that has
barely trained. Here every sample is judged by the same network, the one the epoch ended with."""
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from noisyrobust.callbacks import SummaryCallback
from noisyrobust.per_sample.passes import training_set_pass
from noisyrobust.errors import UserError
from noisyrobust.files import atomic_write


class TrainingSetFit(SummaryCallback):
    """After each epoch of ``epochs`` (0 = after the first; -1 = the last one trained, wherever the run
    stops), ``correct[e, i]`` = whether training sample ``i`` is predicted as its given label. Writes
    ``path`` (npz: ``epoch`` (E,), ``index`` (N,) the global indices of the training split, ``correct``
    (E, N) bool, ``noisy`` (N,) bool: given label != clean label) and adds ``training_set_fit`` to the
    summary: per epoch the share fitted overall, on the clean-labelled and on the noisy-labelled samples."""

    def __init__(self, *, epochs=(0, -1), path: str = "training_set_fit.npz"):
        epochs = [int(e) for e in epochs]
        if not epochs or any(e < -1 for e in epochs):
            raise UserError(f"callbacks.training_set_fit.epochs={epochs} must list epochs >= 0 (or -1: the last)")
        self.epochs, self.path = epochs, Path(path)
        self.rows: dict = {}  # epoch -> bool (N,) over the training split
        self.last_epoch: Optional[int] = None
        self.noisy = np.zeros(0, dtype=bool)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        epoch = int(trainer.current_epoch)
        self.last_epoch = epoch
        if epoch in self.epochs or (-1 in self.epochs and epoch == trainer.max_epochs - 1):
            self._measure(trainer, pl_module, epoch)

    def on_train_end(self, trainer, pl_module) -> None:
        # a run stopped before max_epochs (callbacks.fit_stop.stop, early stopping): its last epoch
        if -1 in self.epochs and self.last_epoch is not None and self.last_epoch not in self.rows:
            self._measure(trainer, pl_module, self.last_epoch)
        if trainer.is_global_zero and self.rows:
            self._write(trainer.datamodule.train_indices)

    def _measure(self, trainer, pl_module, epoch: int) -> None:
        dm = trainer.datamodule

        @torch.no_grad()
        def correct(x, y, index):
            return {"correct": (pl_module.nets[0](x).argmax(1) == y).float()}

        out = training_set_pass(dm, correct, nets=pl_module.nets, device=pl_module.device,
                                num_samples=len(dm.noisy_labels), world_size=trainer.world_size)
        self.rows[epoch] = (out["correct"].cpu()[dm.train_indices] == 1).numpy()
        clean, given = dm.clean_labels[dm.train_indices], dm.noisy_labels[dm.train_indices]
        self.noisy = ((clean >= 0) & (clean != given)).numpy()  # clean < 0 (unknown): counted as clean

    def _write(self, train_indices: torch.Tensor) -> None:
        epochs = sorted(self.rows)
        with atomic_write(self.path) as f:
            np.savez_compressed(f, epoch=np.asarray(epochs, dtype=np.int64), index=train_indices.numpy(),
                                correct=np.stack([self.rows[e] for e in epochs]), noisy=self.noisy)

    def summary(self) -> dict:
        if not self.rows:
            return {}
        return {"training_set_fit": {"file": self.path.name, "epochs": {
            str(e): shares(c, self.noisy) for e, c in sorted(self.rows.items())}}}

    def state_dict(self) -> dict:
        return {"rows": {e: torch.from_numpy(c) for e, c in self.rows.items()}, "noisy": torch.from_numpy(self.noisy),
                "last_epoch": self.last_epoch}

    def load_state_dict(self, state_dict: dict) -> None:
        self.rows = {int(e): c.numpy() for e, c in state_dict.get("rows", {}).items()}
        self.noisy = state_dict["noisy"].numpy() if "noisy" in state_dict else self.noisy
        self.last_epoch = state_dict.get("last_epoch")


def shares(correct: np.ndarray, noisy: np.ndarray) -> dict:
    """The share of samples predicted as their given label: all, clean-labelled, noisy-labelled (None where
    there are none)."""
    def mean(mask):
        return float(correct[mask].mean()) if mask.any() else None
    return {"all": mean(np.ones_like(noisy, dtype=bool)), "clean": mean(~noisy), "noisy": mean(noisy)}


def read_training_set_fit(run_dir: Path, epoch: int):
    """``(index, correct, noisy)`` of a run's ``training_set_fit.npz`` after ``epoch`` (-1: its last
    measured epoch); None where the run has no such file or did not measure that epoch."""
    path = Path(run_dir) / "training_set_fit.npz"
    if not path.is_file():
        return None
    with np.load(path) as f:
        epochs = f["epoch"].tolist()
        if not epochs or (epoch != -1 and epoch not in epochs):
            return None
        row = len(epochs) - 1 if epoch == -1 else epochs.index(epoch)
        return f["index"], f["correct"][row], f["noisy"]
