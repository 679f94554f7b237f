"""RHO-LOSS's first stage: the irreducible-loss (IL) model and the stored IL of every training point.

The IL model is trained on a holdout split of the (noisy) training set, its checkpoint chosen on the noisy
validation split (never on test: the reference code's pitfall), and IL(x, y) = CE of that model on the
point's given label, for every training point. The losses are stored in
``<cache_dir>/irreducible_loss/<data>_<key>.npz``, ``key`` hashing exactly what determines them, so a
second run with the same data, noise, seed, holdout and IL model reuses them.

A stage of the run (config node ``stages.irreducible_loss``, set by ``method=rholoss``): ``run`` hands the fit
the datamodule without the holdout points, and the method every point's IL (``irreducible_loss``).
"""
import copy
import hashlib
import json
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import lightning.pytorch as pl
import numpy as np
import torch
import hydra
from omegaconf import OmegaConf

from noisyrobust.errors import UserError
from noisyrobust.files import atomic_write
from noisyrobust.losses import CrossEntropy, cross_entropy
from noisyrobust.methods.standard import Standard
from noisyrobust.noise import labels_checksum
from noisyrobust.per_sample.trainer import one_device_trainer
from noisyrobust.stages.protocol import BestOnValidation, StageResult

log = logging.getLogger(__name__)
FORMAT_VERSION = 1
# data keys that change no IL value (evaluation batch size, loader processes); nor does data.source.download
_DATA_KEYS_WITHOUT_EFFECT = ("eval_batch_size", "num_workers")


def irreducible_loss_key(*, data: dict, noise: dict, seed: int, precision: str, holdout_fraction: float,
                         holdout_seed: int, model: dict, optimizer: dict, epochs: int) -> str:
    """16 hex characters of the SHA-256 of what determines the irreducible losses: the data config (the
    points, their transforms, the validation split, the batches the IL model trains on), the noise config
    with its seed (the labels), the run seed (IL model initialization, dropout), the holdout fraction and
    seed, the IL model, its optimizer and epochs, and the numeric precision."""
    data = copy.deepcopy(data)
    for k in _DATA_KEYS_WITHOUT_EFFECT:
        data.pop(k, None)
    if isinstance(data.get("source"), dict):
        data["source"].pop("download", None)
    model = {k: v for k, v in model.items() if k != "compile"}  # how the IL model runs, not what it computes
    what = {"format": FORMAT_VERSION, "data": data, "noise": noise, "seed": seed, "holdout_fraction": holdout_fraction,
            "holdout_seed": holdout_seed, "il_model": model, "il_optimizer": optimizer, "il_epochs": epochs,
            "precision": str(precision)}
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16]


def holdout_split(train_indices: np.ndarray, fraction: float, seed: int):
    """(holdout, rest): a random ``fraction`` of ``train_indices`` (rounded) and the remainder, each sorted."""
    perm = np.random.default_rng(seed).permutation(len(train_indices))
    n = int(round(fraction * len(train_indices)))
    return np.sort(train_indices[perm[:n]]), np.sort(train_indices[perm[n:]])


@dataclass
class IrreducibleLosses:
    """IL per training point (``losses[i]`` for global index i), the points the IL model trained on, and
    where they came from (``source``: ``trained``, ``cache`` or ``il_path``)."""

    losses: np.ndarray
    holdout: np.ndarray
    source: str
    path: Path
    info: dict = field(default_factory=dict)


def save_irreducible_losses(path: Path, il: IrreducibleLosses, *, key: str, checksum: str) -> None:
    """Write the .npz atomically (temporary file + os.replace): a crash never leaves a truncated cache."""
    with atomic_write(path) as f:
        np.savez(f, irreducible_loss=il.losses.astype(np.float32), holdout=il.holdout.astype(np.int64),
                 size=np.int64(len(il.losses)), labels_checksum=np.str_(checksum), key=np.str_(key),
                 info=np.str_(json.dumps(il.info)))


def load_irreducible_losses(path: Path, *, size: int, checksum: str, source: str) -> IrreducibleLosses:
    """Read an IL file and refuse one computed for another training set: its size and its noisy labels'
    checksum must match this run's. ``holdout`` is optional (absent: an IL model trained elsewhere)."""
    if not path.is_file():
        raise UserError(f"stages.irreducible_loss.il_path {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as f:
            losses = np.asarray(f["irreducible_loss"], dtype=np.float32)
            holdout = np.asarray(f["holdout"], dtype=np.int64) if "holdout" in f else np.zeros(0, np.int64)
            saved_checksum = str(f["labels_checksum"]) if "labels_checksum" in f else None
            info = json.loads(str(f["info"])) if "info" in f else {}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:  # a truncated or corrupt file
        raise UserError(f"irreducible-loss file {path} is not readable: needs an array 'irreducible_loss' "
                        f"({type(e).__name__})") from None
    if losses.ndim != 1 or len(losses) != size:
        raise UserError(f"irreducible-loss file {path} holds {losses.size} losses, but this training set has "
                        f"{size} points; use a file computed for the same data")
    if saved_checksum != checksum:
        raise UserError(f"irreducible-loss file {path} was computed on other noisy labels (labels checksum "
                        f"{saved_checksum}, this run {checksum}); use the same data, noise and seed")
    if len(holdout) and (holdout.min() < 0 or holdout.max() >= size):
        raise UserError(f"irreducible-loss file {path} names holdout points outside [0, {size})")
    return IrreducibleLosses(losses, holdout, source, path, info)


class IrreducibleLossModel(Standard):
    """A network trained with cross-entropy on the holdout points; ``predict_step`` gives (index, IL)."""

    def predict_step(self, batch, batch_idx: int, dataloader_idx: int = 0):
        x, y, index = batch
        return index, cross_entropy(self.nets[0](x).float(), y)


class IrreducibleLossStage:
    """Train the IL model (or reuse its stored losses) for one run. See the module docstring. ``model`` and
    ``optimizer`` are configs, built here (right after the run seeds the RNG: the IL model's initialization
    depends on the seed and its own config only, both in the cache key); ``key`` holds the run's ``data``,
    ``noise``, ``seed`` and ``precision`` configs, hashed with the stage's own settings."""

    def __init__(self, *, model, optimizer, num_classes: int, holdout_fraction: float = 0.5, holdout_seed: int = 0,
                 epochs: int = 50, il_path: Optional[str] = None, cache_dir: Optional[str] = None, key: dict):
        where = "stages.irreducible_loss"
        if not 0.0 < holdout_fraction < 1.0:
            raise UserError(f"{where}.holdout_fraction={holdout_fraction} is outside (0, 1)")
        if epochs < 1:
            raise UserError(f"{where}.epochs={epochs} must be >= 1")
        if il_path is None and not cache_dir:
            raise UserError(f"{where}.cache_dir is empty: RHO-LOSS stores its irreducible losses there "
                            f"(default ${{paths.cache_dir}}); or give {where}.il_path")
        self.key = irreducible_loss_key(**_plain(key), holdout_fraction=holdout_fraction, holdout_seed=holdout_seed,
                                        model=_plain(model), optimizer=_plain(optimizer), epochs=epochs)
        self.seed = int(key["seed"])
        self.model, self.optimizer = hydra.utils.instantiate(model), hydra.utils.instantiate(optimizer)
        self.num_classes, self.holdout_fraction, self.holdout_seed = num_classes, holdout_fraction, holdout_seed
        self.epochs = epochs
        self.il_path = Path(il_path).expanduser().resolve() if il_path else None
        self.cache_dir = Path(cache_dir).expanduser().resolve() if cache_dir else None

    def run(self, datamodule, *, trainer: pl.Trainer) -> StageResult:
        """IL of every training point (trained, cached or given), and the datamodule of the target: the
        training split without the IL model's holdout points."""
        il = self.losses(datamodule, trainer=trainer)
        target = np.setdiff1d(datamodule.train_indices.numpy(), il.holdout)
        if len(target) < datamodule.batch_size:
            raise UserError(f"RHO-LOSS leaves {len(target)} training points for the target model, fewer than one "
                            f"large batch (data.batch_size={datamodule.batch_size}); lower "
                            "stages.irreducible_loss.holdout_fraction or data.batch_size")
        return StageResult(datamodule.with_train_indices(target),
                           {"source": il.source, "path": str(il.path), "target_points": len(target), **il.info},
                           outputs={"irreducible_loss": torch.as_tensor(il.losses)})

    def losses(self, datamodule, *, trainer: pl.Trainer) -> IrreducibleLosses:
        """IL of every training point: from ``il_path`` if given, else from the cache, else trained (by
        global rank 0 only, which writes the cache before DDP starts the other processes)."""
        size, checksum = len(datamodule.noisy_labels), labels_checksum(datamodule.noisy_labels.numpy())
        key, seed = self.key, self.seed
        if self.il_path is not None:
            il = load_irreducible_losses(self.il_path, size=size, checksum=checksum, source="il_path")
            log.info("RHO-LOSS: using the given il_path %s (%d irreducible losses, %d holdout points)",
                     self.il_path, size, len(il.holdout))
            return il
        path = self.cache_dir / "irreducible_loss" / f"{datamodule.name}_{key}.npz"
        if path.is_file():
            try:
                il = load_irreducible_losses(path, size=size, checksum=checksum, source="cache")
                log.info("RHO-LOSS: reusing irreducible losses from %s (cache hit)", path)
                return il
            except UserError as e:  # a cache file that does not match is stale, not the user's error
                log.warning("RHO-LOSS: ignoring the cached file (%s); training the IL model again", e)
        if not trainer.is_global_zero:
            raise UserError(f"RHO-LOSS: process of global rank {trainer.global_rank} found no irreducible losses "
                            f"at {path}; with a launcher that starts every process at once (torchrun, SLURM), "
                            "compute them first in a single-process run of the same command, or give "
                            "stages.irreducible_loss.il_path")
        holdout, _ = holdout_split(datamodule.train_indices.numpy(), self.holdout_fraction, self.holdout_seed)
        log.info("RHO-LOSS: no stored irreducible losses for this data, noise, seed and IL model (key %s): "
                 "training the irreducible-loss model on %d holdout points for %d epochs", key, len(holdout),
                 self.epochs)
        il = self.train(datamodule, holdout, seed=seed, trainer=trainer)
        il.path = path
        save_irreducible_losses(path, il, key=key, checksum=checksum)
        log.info("RHO-LOSS: irreducible losses of %d training points stored in %s (IL model: %s)", size, path,
                 _describe(il.info))
        return il

    def train(self, datamodule, holdout: np.ndarray, *, seed: int, trainer: pl.Trainer) -> IrreducibleLosses:
        """Fit the IL model on ``holdout`` with a one-device Trainer on the run's device and precision, keep
        the epoch that is best on the noisy validation split, and score every training point with it."""
        if len(holdout) < datamodule.batch_size:
            raise UserError(f"the RHO-LOSS holdout has {len(holdout)} points, fewer than one batch "
                            f"(data.batch_size={datamodule.batch_size}); raise stages.irreducible_loss.holdout_fraction or lower "
                            "data.batch_size")
        module = IrreducibleLossModel(net=self.model, loss=CrossEntropy(), num_classes=self.num_classes,
                                      optimizer=self.optimizer)
        best = BestOnValidation("val/acc")
        il_trainer = one_device_trainer(trainer, epochs=self.epochs, seed=seed, callbacks=[best])
        on_holdout = datamodule.with_train_indices(holdout)
        il_trainer.fit(module, datamodule=on_holdout)
        if best.state is not None:
            module.load_state_dict(best.state)
            info = {"epochs": self.epochs, "best_epoch": best.best_epoch, "val_acc": best.best,
                    "val_acc_by_epoch": best.by_epoch}
        else:  # no validation split (data.val_fraction=0): nothing fair to select on, the last epoch
            log.warning("RHO-LOSS: no validation split, so the IL model is its last epoch (data.val_fraction=0)")
            info = {"epochs": self.epochs, "best_epoch": None, "val_acc": None}
        scored = il_trainer.predict(module, datamodule=on_holdout)  # every training point, eval mode, no grad
        index = torch.cat([i for i, _ in scored]).cpu().numpy()
        losses = np.full(len(datamodule.noisy_labels), np.nan, dtype=np.float32)
        losses[index] = torch.cat([v for _, v in scored]).cpu().numpy()
        assert not np.isnan(losses).any(), "every training point is scored once"
        self.model = None  # the IL model is not needed after its losses are stored
        return IrreducibleLosses(losses, holdout, "trained", Path(), {**info, "holdout_points": len(holdout)})


def _plain(node) -> dict:
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else dict(node)


def _describe(info: dict) -> str:
    if info.get("val_acc") is None:
        return f"last of {info.get('epochs')} epochs"
    return f"best val acc {info['val_acc']:.4f} at epoch {info['best_epoch']} of {info['epochs']}"
