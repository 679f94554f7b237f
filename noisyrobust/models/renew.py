"""Re-initializing a network's last layers in place (PES, Bai et al., NeurIPS 2021): each network names its
renewable layer groups, from the output back (``renewable``: the final classifier first, then whole stages or
blocks), and initializes a fresh module as its constructor does (``init_module``, if it has one).

In place: the parameters stay the same objects, so an optimizer, DDP's registration and a compiled forward
stay bound to them."""
from typing import List, Tuple

import torch
from torch import nn

from noisyrobust.errors import UserError


def renewable_groups(net: nn.Module, depth: int) -> List[Tuple[str, ...]]:
    """The module names PES renews at ``depth`` k: the final layer and the k groups before it (k = 0: the
    final layer alone). A UserError, in one line, for a network that names fewer groups."""
    groups = tuple(getattr(net, "renewable", ()))
    name = type(net).__name__
    if not groups:
        raise UserError(f"model {name} names no layers to renew, which method=pes needs; every network of "
                        "model= names them, and model=timm where timm names the architecture's classifier")
    if not 0 <= depth < len(groups):
        raise UserError(f"method.refine_depths holds {depth}, but model {name} can renew depths 0 to "
                        f"{len(groups) - 1} only (its groups from the output back: {list(groups)})")
    return [tuple(group) for group in groups[:depth + 1]]


def renew_layers(net: nn.Module, depth: int, *, seed: int) -> List[nn.Parameter]:
    """Re-initialize the groups of ``renewable_groups(net, depth)`` from the random stream of ``seed`` alone
    (every DDP rank renews alike, and a resumed run as the uninterrupted one); returns their parameters.
    BatchNorm layers restart their running statistics, as a rebuilt layer would."""
    init = getattr(net, "init_module", None)
    modules = [net.get_submodule(name) for group in renewable_groups(net, depth) for name in group]
    device = next(net.parameters()).device
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for module in modules:
            for m in module.modules():
                if hasattr(m, "reset_parameters"):
                    m.reset_parameters()
                if init is not None:
                    init(m)
    return renewable_parameters(net, depth)


def renewable_parameters(net: nn.Module, depth: int) -> List[nn.Parameter]:
    """The parameters of ``renewable_groups(net, depth)`` (those of all smaller depths among them)."""
    return [p for group in renewable_groups(net, depth) for name in group for p in net.get_submodule(name).parameters()]
