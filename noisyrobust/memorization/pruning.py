"""Iterative global magnitude pruning with rewinding (lottery-ticket style), the run type of sparse double
descent (He, Xie, Zhu, Qin, ICML 2022): ``python train.py prune=magnitude prune.levels=20``.

Level 0 trains the dense network and keeps its weights at optimizer step ``rewind`` (0: the
initialization). After each level, the ``fraction`` of the still-unpruned prunable weights with the smallest
magnitude over all prunable tensors together (global scope) is pruned, from the weights at the end of that
level; the next level restarts from the rewind weights under the new mask and trains the whole schedule
again. Sparsity after level L is 1 - (1 - fraction)^L. Prunable: the weights of Linear and Conv layers,
not biases or normalization, and not the output layer unless ``output_layer``. Pruned weights stay 0
(zeroed after every optimizer step; since they are 0 in every forward, the kept weights train as under a
masked forward). Every level is a normal run directory ``level_NN/`` under the run's directory.
"""
import copy
import math
from pathlib import Path
from typing import Callable, Dict, Optional

import torch
from omegaconf import DictConfig, open_dict
from torch import nn

from noisyrobust.callbacks import SummaryCallback
from noisyrobust.errors import UserError


def prunable_weights(net: nn.Module, *, output_layer: bool = False) -> Dict[str, nn.Parameter]:
    """Name -> weight of every Linear and Conv layer of ``net`` (the last Linear only if ``output_layer``)."""
    layers = [(n, m) for n, m in net.named_modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]
    if not output_layer and layers and isinstance(layers[-1][1], nn.Linear):
        layers = layers[:-1]
    return {f"{n}.weight" if n else "weight": m.weight for n, m in layers}


def global_magnitude_masks(weights: Dict[str, torch.Tensor], masks: Dict[str, torch.Tensor], *,
                           fraction: float) -> Dict[str, torch.Tensor]:
    """He et al.'s global rule: of the R weights still unpruned (mask 1) in all tensors together, the
    k = ceil(fraction * R) of smallest |w| are pruned; the others keep their mask. Ties at the threshold
    are broken by position, so exactly k go."""
    names = list(weights)
    flat_w = torch.cat([weights[n].detach().abs().flatten().double() for n in names])
    flat_m = torch.cat([masks[n].flatten().bool() for n in names])
    alive = flat_m.nonzero().squeeze(1)
    k = math.ceil(fraction * len(alive))
    order = flat_w[alive].argsort(stable=True)
    new = flat_m.clone()
    new[alive[order[:k]]] = False
    out, start = {}, 0
    for n in names:
        size = weights[n].numel()
        out[n] = new[start:start + size].reshape(weights[n].shape)
        start += size
    return out


def sparsity(masks: Dict[str, torch.Tensor]) -> float:
    """The share of prunable weights that are pruned."""
    total = sum(m.numel() for m in masks.values())
    return 1.0 - sum(int(m.sum()) for m in masks.values()) / total


class MaskedRewind(SummaryCallback):
    """One level: start from ``start_state`` (the rewind weights; None: the fresh initialization), keep the
    pruned weights at 0 after every optimizer step, and record the first network's weights at step
    ``rewind`` (``rewind_state``) and at the end (``final_state``); the summary gets the level, its sparsity
    and the learning distance from the rewind point. The masks are applied after every optimizer step, so a
    pruning level does not fuse steps."""

    needs_every_batch = True  # one on_train_batch_end per optimizer step: fused_steps stays 1

    def __init__(self, *, level: int, masks: Optional[Dict[str, torch.Tensor]], start_state: Optional[dict],
                 rewind: int, output_layer: bool, fraction: float):
        self.level, self.masks, self.start_state, self.rewind = level, masks, start_state, rewind
        self.output_layer, self.fraction = output_layer, fraction
        self.rewind_state: Optional[dict] = None
        self.final_state: Optional[dict] = None
        self.names: list = []

    def _snapshot(self, pl_module) -> dict:
        return {k: v.detach().cpu().clone() for k, v in pl_module.nets[0].state_dict().items()}

    @torch.no_grad()
    def _apply_masks(self, pl_module) -> None:
        if self.masks is None:
            return
        for name, w in prunable_weights(pl_module.nets[0], output_layer=self.output_layer).items():
            w.mul_(self.masks[name].to(w.device, w.dtype))

    def on_fit_start(self, trainer, pl_module) -> None:
        self.names = list(prunable_weights(pl_module.nets[0], output_layer=self.output_layer))
        if self.start_state is not None:
            pl_module.nets[0].load_state_dict(self.start_state)
        self._apply_masks(pl_module)
        if self.rewind == 0:
            self.rewind_state = self._snapshot(pl_module)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self._apply_masks(pl_module)
        if self.rewind_state is None and trainer.global_step >= self.rewind:
            self.rewind_state = self._snapshot(pl_module)

    def on_fit_end(self, trainer, pl_module) -> None:
        self.final_state = self._snapshot(pl_module)

    def summary(self) -> dict:
        start = self.start_state if self.start_state is not None else self.rewind_state
        return {"prune": {"level": self.level, "sparsity": 0.0 if self.masks is None else sparsity(self.masks),
                          "fraction": self.fraction, "rewind": self.rewind,
                          "learning_distance": learning_distance(start, self.final_state, self.names)}}


def learning_distance(start: dict, end: dict, names) -> float:
    """He et al.'s l2 learning distance ||theta_end - theta_rewind|| over the prunable weights."""
    return float(sum(((end[n].double() - start[n].double()) ** 2).sum() for n in names) ** 0.5)


def check_prune(prune: DictConfig) -> None:
    """Refuse impossible pruning settings before anything is written."""
    if int(prune.levels) < 1:
        raise UserError(f"prune.levels={prune.levels} must be >= 1 (the pruning levels after the dense one)")
    if not 0.0 < float(prune.fraction) < 1.0:
        raise UserError(f"prune.fraction={prune.fraction} is outside (0, 1): the share of the remaining weights "
                        "pruned at each level")
    if int(prune.rewind) < 0:
        raise UserError(f"prune.rewind={prune.rewind} must be >= 0 (an optimizer step of the dense run)")


def train_pruned(cfg: DictConfig, train: Callable) -> dict:
    """Levels 0..``prune.levels``, each ``train(level_cfg, callbacks=[...])`` (the one-run pipeline) into
    ``paths.output_dir/level_NN``. Returns the last level's summary, with every level's in ``levels``."""
    prune = cfg.prune
    check_prune(prune)
    root = Path(cfg.paths.output_dir)
    masks, rewind_state, levels = None, None, []
    for level in range(int(prune.levels) + 1):
        level_cfg = copy.deepcopy(cfg)
        with open_dict(level_cfg):
            level_cfg.prune = None
            level_cfg.paths.output_dir = str(root / f"level_{level:02d}")
        callback = MaskedRewind(level=level, masks=masks, start_state=rewind_state, rewind=int(prune.rewind),
                                output_layer=bool(prune.output_layer), fraction=float(prune.fraction))
        summary = train(level_cfg, callbacks=[callback])
        if callback.rewind_state is None:
            raise UserError(f"prune.rewind={prune.rewind} is beyond the dense run's last step "
                            f"({len(levels)} levels done); choose a smaller rewind step")
        rewind_state = rewind_state if rewind_state is not None else callback.rewind_state
        current = masks or {n: torch.ones_like(callback.final_state[n], dtype=torch.bool) for n in callback.names}
        masks = global_magnitude_masks({n: callback.final_state[n] for n in callback.names}, current,
                                       fraction=float(prune.fraction))
        levels.append({**summary["prune"], "test_acc_last": summary.get("test_acc_last"),
                       "run_dir": summary.get("run_dir")})
    return {**summary, "levels": levels}
