"""Each method's hyper-parameters checked from one declaration, its constructor's signature: a value of the
wrong type (a string where a number is declared, NaN or inf, ``maybe`` for a boolean) or a negative count of
epochs or steps is refused in one line before anything is written. Ranges that depend on the meaning of a
value (a probability in (0, 1)) are checked by the constructor itself."""
import inspect
import math
import numbers
import re
import typing

from hydra.utils import get_class
from omegaconf import DictConfig, ListConfig

from noisyrobust.errors import UserError

# integer hyper-parameters that count epochs or steps (warmup_epochs, prune_start, coef_step, num_gradual)
_COUNT = re.compile(r"(epoch|epochs|step|steps|start|every|gradual)$")


def declared_types(cls) -> dict:
    """{parameter: annotation} of ``cls``'s constructor and of every base constructor its ``**kwargs`` reach."""
    hints = {}
    for klass in reversed(cls.__mro__):
        init = vars(klass).get("__init__")
        if init is None or klass is object:
            continue
        try:
            hints.update(typing.get_type_hints(init))
        except (NameError, TypeError):  # an annotation that cannot be resolved: not a declaration we check
            continue
    hints.pop("return", None)
    return hints


def scalar_kind(annotation):
    """float for Optional[float], None for what is not a plain scalar type."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Union and len(args) == 1:
        annotation = args[0]
    return annotation if annotation in (float, int, bool) else None


def check_value(name: str, value, kind) -> None:
    if value is None:
        return
    if kind is bool:
        if not isinstance(value, bool):
            raise UserError(f"{name}={value!r} is not a boolean: use true or false")
        return
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise UserError(f"{name}={value!r} is not a number" + (": use an integer" if kind is int else ""))
    if not math.isfinite(value):
        raise UserError(f"{name}={value} is not a finite number")
    if kind is int and value != int(value):
        raise UserError(f"{name}={value} is not an integer")
    if kind is int and _COUNT.search(name) and value < 0:
        raise UserError(f"{name}={value} counts epochs or steps: use an integer >= 0")


def check_hyperparameters(node: DictConfig, prefix: str) -> None:
    """Check every scalar of a ``_target_`` config ``node`` (``prefix``: its dotted name, e.g. ``method``)
    against the type its target's constructor declares."""
    if not isinstance(node, DictConfig) or "_target_" not in node:
        return
    try:
        cls = get_class(node._target_)
    except Exception:  # noqa: BLE001 - not a class (a function target): nothing declared here
        return
    if not inspect.isclass(cls):
        return
    types = declared_types(cls)
    for key in node:
        value = node.get(key)
        if isinstance(value, (DictConfig, ListConfig)) or key.startswith("_"):
            continue
        kind = scalar_kind(types.get(key))
        if kind is not None:
            check_value(f"{prefix}.{key}", value, kind)


def check_warmup(method: DictConfig, max_epochs) -> None:
    """A warm-up (``method.warmup_epochs``) as long as the run would leave only the warm-up's training."""
    warmup = method.get("warmup_epochs")
    if isinstance(warmup, int) and isinstance(max_epochs, int) and warmup >= max_epochs:
        raise UserError(f"method.warmup_epochs={warmup} leaves no epoch after the warm-up in a run of "
                        f"trainer.max_epochs={max_epochs}; use a warm-up shorter than the run")


def check_fused_steps(value) -> None:
    """``fused_steps``: ``auto`` or a number of batches per call of the training step (1: one, as Lightning)."""
    if value == "auto":
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise UserError(f"fused_steps={value!r} is neither auto nor an integer >= 1 (batches per training-step call)")
