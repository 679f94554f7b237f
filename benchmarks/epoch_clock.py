"""Timestamps of a run's epochs, for the benchmarks (a callback added through the config)."""
import time

import torch
from lightning.pytorch import Callback


class EpochClock(Callback):
    """Class-level marks (the pipeline builds the instance from the config): ``("train", t)`` at every
    training epoch start, ``("eval", t)`` when its evaluation starts, ``("end", t)`` when training ends.
    CUDA work is waited for before each mark, so a mark closes the device time of what came before."""

    marks: list = []
    batches: dict = {}  # per epoch: "train"/"eval" batches of the datamodule, "train_run"/"eval_run" after limits

    @staticmethod
    def _mark(kind: str, pl_module) -> None:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize()
        EpochClock.marks.append((kind, time.perf_counter()))

    def on_train_start(self, trainer, pl_module) -> None:
        evals = [len(d) for d in trainer.datamodule.val_dataloader()]
        limit = trainer.limit_val_batches
        train = trainer.datamodule.train_dataloader()  # batches, also where several come to a call (fused)
        EpochClock.batches = {"train": getattr(train, "batches_per_epoch", None) or len(train),
                              "train_run": trainer.num_training_batches, "eval": sum(evals),
                              "eval_run": sum(n if isinstance(limit, float) else min(n, limit) for n in evals)}

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._mark("train", pl_module)

    def on_validation_start(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self._mark("eval", pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        self._mark("end", pl_module)

    @classmethod
    def epochs(cls) -> list:
        """(seconds of training, seconds of evaluation + epoch end) of each epoch, in order."""
        starts = [i for i, (kind, _) in enumerate(cls.marks) if kind == "train"] + [len(cls.marks) - 1]
        out = []
        for a, b in zip(starts, starts[1:]):
            evals = [t for kind, t in cls.marks[a:b] if kind == "eval"]
            t0, t1 = cls.marks[a][1], cls.marks[b][1]
            out.append(((evals[0] if evals else t1) - t0, t1 - (evals[0] if evals else t1)))
        return out
