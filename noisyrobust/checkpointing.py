"""Checkpoints that a later run can trust: written atomically, checked before a resume."""
import os
from pathlib import Path
from typing import Optional

import torch
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


def check_resume(path: str, module: torch.nn.Module, *, labels_checksum: str, method: Optional[str] = None,
                 max_epochs: Optional[int] = None) -> Path:
    """Refuse a ``ckpt_path`` that does not exist, is no Lightning checkpoint, holds another model's
    weights, was trained on other noisy labels or by another method, or has no epoch left to train."""
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
    mine = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in ckpt["state_dict"].items()}
    if mine != theirs:
        diff = sorted(set(mine.items()) ^ set(theirs.items()))
        raise UserError(f"ckpt_path {p} belongs to a different model: {len(diff)} tensors differ "
                        f"(first: {diff[0][0]} {diff[0][1]}); use the method/model/data it was trained with")
    saved = ckpt.get("noisy_labels_checksum")
    if saved is not None and saved != labels_checksum:
        raise UserError(f"ckpt_path {p} was trained on other noisy labels (checksum {saved}, this run "
                        f"{labels_checksum}); use the same data, noise and seed")
    done = ckpt.get("epoch", -1) + 1  # Lightning stores the last finished epoch (0-based)
    if max_epochs is not None and done >= max_epochs:
        raise UserError(f"ckpt_path {p} has already trained {done} epochs, trainer.max_epochs={max_epochs} leaves "
                        f"none to train; raise trainer.max_epochs above {done}")
    return p
