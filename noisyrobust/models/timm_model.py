"""Any architecture of timm (Wightman, PyTorch Image Models, https://github.com/huggingface/pytorch-image-models):
``model=timm model.name=convnext_tiny``, built for the dataset's classes and channels, from random weights or
from a local file of timm weights (``model.pretrained_file``). Nothing is downloaded at run time."""
import difflib
from pathlib import Path
from typing import Optional, Union

from torch import nn

from noisyrobust.data.download import one_line
from noisyrobust.errors import UserError
from noisyrobust.models.compile import compile_in_place


def check_architecture(name: str) -> None:
    """A UserError unless ``name`` is one of timm's architectures (the closest names suggested)."""
    import timm

    if not timm.is_model(name):
        close = difflib.get_close_matches(str(name), timm.list_models(), n=5)
        raise UserError(f"model.name={name} is not a timm architecture" + (f"; close: {', '.join(close)}" if close else "")
                        + " (`python -c 'import timm; print(timm.list_models())'` lists them)")


def check_pretrained_file(pretrained_file) -> Optional[Path]:
    """The weights file, or None without one; a UserError if it is not a file."""
    if pretrained_file is None:
        return None
    path = Path(str(pretrained_file)).expanduser()
    if not path.is_file():
        raise UserError(f"model.pretrained_file={pretrained_file} does not exist (timm weights are read from a local "
                        "file, e.g. the model.safetensors of the architecture's page; nothing is downloaded)")
    return path


def timm_model(*, name: str, in_channels: int, num_classes: int, image_size: int, pretrained_file=None,
               kwargs=None, compile: Union[bool, str] = False) -> nn.Module:  # noqa: A002 - the config key's name
    """timm's ``name`` with ``num_classes`` outputs and ``in_channels`` input channels; ``kwargs``: more of
    ``timm.create_model``'s arguments (``img_size`` for a ViT); ``image_size`` is the data's, for the record."""
    import timm

    check_architecture(name)
    path = check_pretrained_file(pretrained_file)
    try:
        net = timm.create_model(name, pretrained=False, num_classes=num_classes, in_chans=in_channels, **dict(kwargs or {}))
    except TypeError as error:  # an argument the architecture does not take
        raise UserError(f"timm's {name} refuses model.kwargs={dict(kwargs or {})}: {one_line(error)}") from error
    if path is not None:
        load_weights(net, path, name)
    net.renewable = renewable(net)
    compile_in_place(net, compile)
    return net


def renewable(net: nn.Module) -> tuple:
    """PES's renewal groups (models.renew), from the output back: timm's classifier, then the stages its
    ``feature_info`` names (the deepest first); none where the architecture names no classifier."""
    head = _names(net.pretrained_cfg.get("classifier"))
    if not head:
        return ()
    stages = [info["module"] for info in reversed(getattr(net, "feature_info", None) or ())]
    stages = [s for s in dict.fromkeys(stages) if s and any(True for _ in net.get_submodule(s).parameters())]
    return (head, *((s,) for s in stages))


def _names(entry) -> tuple:
    return () if not entry else (entry,) if isinstance(entry, str) else tuple(entry)


def load_weights(net: nn.Module, path: Path, name: str) -> None:
    """Load a file of timm weights (safetensors or a torch file; a ``state_dict``/``model`` entry, DDP and
    torch.compile prefixes allowed) into ``net``: the first convolution adapted to the data's channels as timm
    adapts it, the classifier left new where the file has another number of classes. Anything else missing,
    extra or of another shape is refused (a file of another architecture), never loaded in part."""
    from timm.models import adapt_input_conv, load_state_dict

    try:
        state = dict(load_state_dict(str(path)))
    except Exception as error:  # noqa: BLE001 - not a weights file
        raise UserError(f"cannot read model.pretrained_file={path}: {one_line(error)}") from error
    own = net.state_dict()
    for conv in _names(net.pretrained_cfg.get("first_conv")):
        key = f"{conv}.weight"
        if key in state and key in own and state[key].ndim == 4 and state[key].shape[1] != own[key].shape[1]:
            state[key] = adapt_input_conv(own[key].shape[1], state[key])
    head = {f"{c}.{p}" for c in _names(net.pretrained_cfg.get("classifier")) for p in ("weight", "bias")}
    new_head = {k for k in head if k in state and k in own and state[k].shape != own[k].shape}
    for key in new_head:
        del state[key]
    missing = [k for k in own if k not in state and k not in new_head and not k.endswith("num_batches_tracked")]
    extra = [k for k in state if k not in own]
    other = [k for k in state if k in own and state[k].shape != own[k].shape]
    if missing or extra or other:
        found = [f"{len(missing)} of its tensors missing (e.g. {missing[0]})" if missing else "",
                 f"{len(extra)} it does not have (e.g. {extra[0]})" if extra else "",
                 f"{len(other)} of another shape (e.g. {other[0]}: {tuple(state[other[0]].shape)} for "
                 f"{tuple(own[other[0]].shape)})" if other else ""]
        raise UserError(f"model.pretrained_file={path} does not fit timm's {name}: "
                        + "; ".join(f for f in found if f))
    net.load_state_dict(state, strict=False)  # strict but for the new head, checked above
