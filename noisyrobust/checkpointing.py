"""Checkpoints that a later run can trust: written atomically, checked before a resume."""
import copy
import os
from pathlib import Path
from typing import Optional

import torch
from lightning.pytorch.callbacks import Checkpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from noisyrobust.errors import UserError


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes ``path`` through a temporary file and ``os.replace``: a crash mid-write leaves the previous
    checkpoint, never a truncated one."""

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            torch.save(checkpoint, tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


class LastCheckpoint(Checkpoint):
    """``<dirpath>/<filename>.ckpt`` (last.ckpt), the point a resume continues from, for every epoch, written
    only once the epoch's rows are in the loggers' files: the checkpoint says the epoch is done, so a kill
    between the two must never leave it without the rows (lost for good: the resume starts after them).
    Lightning's ModelCheckpoint saves in ``on_train_epoch_end``, and Lightning writes the rows logged there
    (train/*, mem/*, select/*) only after every such hook. So the state is taken there, after the module's
    hook (a Checkpoint callback runs last), and written at the next epoch's start or the end of training,
    before any further step. It is copied: the best checkpoint's callback updates its own state next."""

    def __init__(self, dirpath: str, filename: str = "last"):
        self.path = Path(dirpath) / f"{filename}.ckpt"
        self._pending = None

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:  # a copy: the state as it is now, whatever changes before the write
            self._pending = copy.deepcopy(trainer._checkpoint_connector.dump_checkpoint(weights_only=False))

    def _write_pending(self, trainer) -> None:
        if self._pending is not None:
            checkpoint, self._pending = self._pending, None
            trainer.strategy.save_checkpoint(checkpoint, self.path)  # rank 0 writes, through AtomicCheckpointIO
            trainer.strategy.barrier("LastCheckpoint")

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._write_pending(trainer)

    def on_train_end(self, trainer, pl_module) -> None:
        self._write_pending(trainer)


def method_identity(method_cfg, variant: Optional[str] = None) -> str:
    """What makes two runs the same method: its config name (``method=`` option: ``forward`` and
    ``backward``, ``sop`` and ``sop_plus``, ``gce`` and ``gce_truncated`` share a class) and its variant
    (``rholoss[uniform]``). Outside a Hydra run (a config composed in-process) the name is unknown: the
    module's target and its loss stand in for it."""
    from hydra.core.hydra_config import HydraConfig

    name = HydraConfig.get().runtime.choices.get("method") if HydraConfig.initialized() else None
    if name is None:
        loss = method_cfg.get("loss")
        name = str(method_cfg._target_) + (f"/{loss._target_}" if loss is not None and "_target_" in loss else "")
    return name + (f"[{variant}]" if variant else "")


def _same_kind(a: str, b: str) -> bool:
    """Both identities are config names, or both targets (a run composed in-process): comparable."""
    return ("." in a.split("[")[0]) == ("." in b.split("[")[0])


def check_resume(path: str, module: Optional[torch.nn.Module] = None, *, labels_checksum: str,
                 method: Optional[str] = None, max_epochs: Optional[int] = None) -> Path:
    """Refuse a ``ckpt_path`` that does not exist, is no Lightning checkpoint, holds another model's
    weights (when ``module`` is given; else ``check_same_model`` later), was trained on other noisy labels
    or by another method, or has no epoch left to train."""
    p = Path(path).expanduser().resolve()
    if not p.is_file():
        raise UserError(f"ckpt_path {p} does not exist")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the same user error
        raise UserError(f"ckpt_path {p} is not a readable checkpoint ({type(e).__name__})") from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise UserError(f"ckpt_path {p} is not a Lightning checkpoint (no state_dict)")
    saved = ckpt.get("method")  # before the weights: another method's networks differ too, and that is the reason
    if method is not None and saved is not None and saved != method and _same_kind(saved, method):
        raise UserError(f"ckpt_path {p} was trained by a different method ({saved}; this run is {method}); "
                        f"resume with method={saved.split('[')[0]}, or start a new run without ckpt_path")
    if module is not None:
        _check_shapes(p, ckpt["state_dict"], module)
    saved = ckpt.get("noisy_labels_checksum")
    if saved is not None and saved != labels_checksum:
        raise UserError(f"ckpt_path {p} was trained on other noisy labels (checksum {saved}, this run "
                        f"{labels_checksum}); use the same data, noise and seed")
    done = ckpt.get("epoch", -1) + 1  # Lightning stores the last finished epoch (0-based)
    if max_epochs is not None and done >= max_epochs:
        raise UserError(f"ckpt_path {p} has already trained {done} epochs, trainer.max_epochs={max_epochs} leaves "
                        f"none to train; raise trainer.max_epochs above {done}")
    return p


def check_same_model(path: Path, module: torch.nn.Module) -> None:
    """Refuse a checkpoint (checked by ``check_resume``) whose weights are not shaped as ``module``'s."""
    _check_shapes(path, torch.load(path, map_location="cpu", weights_only=False, mmap=True)["state_dict"], module)


def _check_shapes(path: Path, state: dict, module: torch.nn.Module) -> None:
    mine = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in state.items()}
    if mine != theirs:
        diff = sorted(set(mine.items()) ^ set(theirs.items()))
        raise UserError(f"ckpt_path {path} belongs to a different model: {len(diff)} tensors differ "
                        f"(first: {diff[0][0]} {diff[0][1]}); use the method/model/data it was trained with")
