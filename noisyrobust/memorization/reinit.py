"""Re-initialization under label noise (Zaidi et al., "When Does Re-initialization Work?", 2022), every
``generation`` epochs of the first network, the total budget unchanged:

- ``shrink_perturb`` (Ash & Adams 2020): theta <- shrink * theta + perturb * theta_fresh, theta_fresh a fresh
  initialization of the same network (each layer's own init scale);
- ``layerwise`` (Alabdulmohsin, Maennel, Keysers 2021): at the g-th boundary the first g layers (in
  forward order, counting layers with weights) are kept, rescaled to their norms at initialization,
  and every layer above them is re-initialized; bottom-up, until all layers are kept (the inserted
  normalization layer of their method is left out: its details are not published);
- ``none``: standard training (the comparison arm).
Adaptive optimizer state (moments) is cleared at each boundary; the lr schedule runs on.
"""
import copy

import torch
from lightning.pytorch import Callback
from torch import nn

from noisyrobust.errors import UserError

METHODS = ("none", "shrink_perturb", "layerwise")


def layers_with_weights(net: nn.Module) -> list:
    """The modules that own parameters directly and can re-initialize themselves, in forward order."""
    return [m for m in net.modules() if hasattr(m, "reset_parameters") and any(True for _ in m.parameters(False))]


def fresh_copy(net: nn.Module, seed: int) -> nn.Module:
    """A copy of ``net`` re-initialized by each layer's own ``reset_parameters`` under ``seed``."""
    fresh = copy.deepcopy(net)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for m in layers_with_weights(fresh):
            m.reset_parameters()
    return fresh


@torch.no_grad()
def shrink_perturb(net: nn.Module, fresh: nn.Module, *, shrink: float, perturb: float) -> None:
    """theta <- shrink * theta + perturb * theta_fresh for every parameter."""
    for p, q in zip(net.parameters(), fresh.parameters()):
        p.mul_(shrink).add_(q, alpha=perturb)


@torch.no_grad()
def layerwise_reinit(net: nn.Module, fresh: nn.Module, *, kept: int, init_norms: list) -> None:
    """Keep the first ``kept`` layers, each parameter rescaled to its norm at initialization; the layers
    above take the fresh initialization."""
    for i, (m, f) in enumerate(zip(layers_with_weights(net), layers_with_weights(fresh))):
        for j, (p, q) in enumerate(zip(m.parameters(False), f.parameters(False))):
            if i < kept:
                norm = p.norm()
                if norm > 0:
                    p.mul_(init_norms[i][j] / norm)
            else:
                p.copy_(q)


class Reinitialization(Callback):
    """``callbacks=[default,reinit] callbacks.reinit.method=shrink_perturb callbacks.reinit.generation=10``."""

    def __init__(self, *, method: str = "shrink_perturb", generation: int = 10, shrink: float = 0.4,
                 perturb: float = 0.1, seed: int = 0):
        if method not in METHODS:
            raise UserError(f"callbacks.reinit.method={method!r} is unknown; choose from: {', '.join(METHODS)}")
        if int(generation) < 1:
            raise UserError(f"callbacks.reinit.generation={generation} must be >= 1 epoch")
        self.method, self.generation, self.shrink, self.perturb, self.seed = method, int(generation), shrink, perturb, seed
        self.init_norms = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        if self.method != "none" and self.generation >= trainer.max_epochs:
            raise UserError(f"callbacks.reinit.generation={self.generation} epochs is not shorter than the run "
                            f"(trainer.max_epochs={trainer.max_epochs}): no re-initialization would happen")
        self.init_norms = [[p.detach().norm() for p in m.parameters(False)]
                           for m in layers_with_weights(pl_module.nets[0])]

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        epoch = trainer.current_epoch
        if self.method == "none" or epoch == 0 or epoch % self.generation:
            return
        boundary = epoch // self.generation
        net = pl_module.nets[0]
        fresh = fresh_copy(net, self.seed * 1_000_003 + boundary)
        if self.method == "shrink_perturb":
            shrink_perturb(net, fresh, shrink=self.shrink, perturb=self.perturb)
        else:
            layerwise_reinit(net, fresh, kept=boundary, init_norms=self.init_norms)
        for optimizer in trainer.optimizers:
            optimizer.state.clear()
