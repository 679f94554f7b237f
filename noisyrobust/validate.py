"""Checks of a composed config that run before anything is written: each bad value raises a UserError
naming it and what is allowed. Functions of the config, of whether a GPU is visible and of the launcher."""
import numbers
import os

from omegaconf import DictConfig

from noisyrobust.errors import UserError


def _number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def launched_world_size():
    """The number of processes an outside launcher started (torchrun, SLURM's srun), None without one."""
    if "TORCHELASTIC_RUN_ID" in os.environ:
        return int(os.environ.get("WORLD_SIZE", 1))
    if "SLURM_NTASKS" in os.environ and os.environ.get("SLURM_JOB_NAME") not in ("bash", "interactive"):
        return int(os.environ["SLURM_NTASKS"])
    return None


MAX_SEED = 2**32 - 1  # NumPy's legacy seeding and Lightning's seed_everything take 32-bit seeds


def check_seed(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SEED:
        raise UserError(f"{name}={value!r} is not a seed: use an integer in [0, {MAX_SEED}]")


def check_learning_rate(name: str, value) -> None:
    if not _number(value) or not value > 0:
        raise UserError(f"{name}={value!r} is not a learning rate: use a number > 0")


def check_noise(noise: DictConfig) -> None:
    rate = noise.get("rate")
    if rate is not None and not _number(rate):
        raise UserError(f"noise.rate={rate!r} is not a number in [0, 1)")
    if str(noise.get("_target_", "")).endswith(".symmetric_noise") and rate == 1:
        raise UserError(f"noise.rate={rate} with symmetric noise leaves no sample its true label; use a rate < 1")


def check_method(method: DictConfig) -> None:
    forget = method.get("forget_rate")
    if forget is not None and (not _number(forget) or not 0 <= forget < 1):
        raise UserError(f"method.forget_rate={forget!r} is outside [0, 1): at 1 every sample is dropped")
    scope = method.get("selection_scope")
    if scope is not None and scope not in ("local", "global"):
        raise UserError(f"method.selection_scope={scope!r} is unknown; choose from: local, global")
    if scope == "global" and method.get("selection") == "uniform":
        raise UserError("method.selection_scope=global needs a loss-based rule; selection=uniform draws per "
                        "process (use method.selection_scope=local)")


def check_trainer(trainer: DictConfig, *, gpu_available=None) -> None:
    epochs = trainer.get("max_epochs")
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs <= 0:
        raise UserError(f"trainer.max_epochs={epochs!r} must be an integer >= 1")
    nodes = trainer.get("num_nodes", 1)
    if not isinstance(nodes, int) or isinstance(nodes, bool) or nodes < 1:
        raise UserError(f"trainer.num_nodes={nodes!r} must be an integer >= 1")
    launched = launched_world_size()
    devices = trainer.get("devices")
    if launched and isinstance(devices, int) and devices > 0 and devices * nodes != launched:
        raise UserError(f"the launcher started {launched} processes, but trainer.num_nodes={nodes} x "
                        f"trainer.devices={devices} makes {devices * nodes}; set trainer.num_nodes to the number "
                        "of machines and trainer.devices to the processes on each")
    if str(trainer.get("accelerator")) in ("gpu", "cuda") and not _gpu(gpu_available):
        raise UserError(f"trainer.accelerator={trainer.accelerator} but no GPU is visible to PyTorch; "
                        "use trainer=cpu (or the default trainer, which takes a GPU when there is one)")


def check_validation_split(data: DictConfig, callbacks) -> None:
    """Callbacks that monitor a validation metric need a validation split (or the dataset's own clean
    validation set, ``data.clean_validation``: Clothing1M)."""
    if data.get("val_fraction", None) != 0 or data.get("clean_validation", False):
        return
    for name, cb in (callbacks or {}).items():
        monitor = cb.get("monitor") if isinstance(cb, DictConfig) else None
        if monitor and str(monitor).startswith("val/"):
            raise UserError(f"data.val_fraction=0 leaves no validation split, but callbacks.{name} monitors "
                            f"{monitor}; use callbacks=last_only or a data.val_fraction > 0")


def _learning_rates(node, prefix: str):
    """(dotted name, value) of every ``lr`` in an optimizer config (SAM's sits in its base optimizer)."""
    if not isinstance(node, DictConfig):
        return
    for key in node:
        if key == "lr":
            yield f"{prefix}.lr", node.lr
        elif isinstance(node.get(key), DictConfig):
            yield from _learning_rates(node[key], f"{prefix}.{key}")


def _gpu(available) -> bool:
    if available is None:
        import torch

        return torch.cuda.is_available()
    return available


def check_config(cfg: DictConfig, *, gpu_available=None) -> None:
    """Every check above, on the composed run config (``gpu_available`` None: asks PyTorch when needed)."""
    check_seed("seed", cfg.seed)
    if cfg.noise.get("seed") is not None:
        check_seed("noise.seed", cfg.noise.seed)
    check_noise(cfg.noise)
    check_method(cfg.method)
    for prefix, node in (("optimizer", cfg.get("optimizer")), ("stages.irreducible_loss.optimizer",
                                                           (cfg.get("stages") or {}).get("irreducible_loss", {}).get("optimizer"))):
        for name, lr in _learning_rates(node, prefix):
            check_learning_rate(name, lr)
    check_trainer(cfg.trainer, gpu_available=gpu_available)
    check_validation_split(cfg.data, cfg.get("callbacks"))

