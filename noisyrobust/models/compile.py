"""``model.compile``: torch.compile for any of the networks, chosen in its config."""
import functools
from typing import Union

import torch


def compilable(cls):
    """Class decorator: the network takes the keyword ``compile`` — False (default), True (torch.compile's
    default mode) or a torch.compile mode ("reduce-overhead": CUDA graphs, "max-autotune", ...). The built
    network's forward is compiled in place (``nn.Module.compile``), so its parameter names, and so its
    checkpoints, stay those of the plain network; every method (two networks, SAM's second pass, evaluation)
    calls the compiled forward, which recompiles only when the mode (train/eval) or batch shape first
    changes (then dynamic shapes take over)."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self, *args, compile: Union[bool, str] = False, **kwargs):  # noqa: A002 - the config key's name
        init(self, *args, **kwargs)
        compile_in_place(self, compile)

    cls.__init__ = __init__
    return cls


def compile_in_place(net: torch.nn.Module, compile: Union[bool, str]) -> None:  # noqa: A002
    """``model.compile`` applied to a built network (see ``compilable``)."""
    if compile:
        net.compile(**({} if compile is True else {"mode": str(compile)}))


def has_convolutions(net: torch.nn.Module) -> bool:
    """Whether channels-last memory format can speed ``net`` up (convolutions on a GPU)."""
    return any(isinstance(m, torch.nn.Conv2d) for m in net.modules())
