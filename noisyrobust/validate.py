"""Checks of a composed config that run before anything is written: each bad value raises a UserError
naming it and what is allowed. Functions of the config, of whether a GPU is visible and of the launcher."""
import math
import numbers
import os
from pathlib import Path

from omegaconf import DictConfig, ListConfig, OmegaConf

from noisyrobust.errors import UserError
from noisyrobust.hyperparameters import check_fused_steps, check_hyperparameters, check_warmup


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
    if rate is not None and (not _number(rate) or not 0 <= rate <= 1):
        raise UserError(f"noise.rate={rate!r} is not a number in [0, 1]")
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


def check_model(model: DictConfig) -> None:
    """model=timm: an architecture timm has and a weights file that exists (read when the network is built)."""
    if str(model.get("_target_", "")).endswith(".timm_model"):
        from noisyrobust.models.timm_model import check_architecture, check_pretrained_file

        check_architecture(model.name)
        check_pretrained_file(model.get("pretrained_file"))


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


def check_training_batches(datamodule, world_size: int = 1) -> None:
    """Every process gets at least one training batch: ``data.batch_size`` (the global batch) no larger than
    the training split when the datamodule drops the last partial batch (its ``drop_last``, the default),
    and a sample for every process. Any datamodule after its ``setup("fit")``; before anything is written."""
    n, batch = len(datamodule.train_indices), datamodule.batch_size
    per_process = n // world_size  # each process draws an equal shard of the epoch
    if per_process == 0 or (getattr(datamodule, "drop_last", True) and per_process < batch // world_size):
        where = f" over {world_size} processes" if world_size > 1 else ""
        hint = (f"use a data.batch_size of at most {per_process * world_size}" if per_process
                else f"use at most {n} processes")
        raise UserError(f"the training split has {n} samples{where}, fewer than data.batch_size={batch}: no "
                        f"training batch (the last partial batch is dropped); {hint}")


def check_finite(node, prefix: str = "") -> None:
    """No NaN or infinity anywhere in a config node (a value ``nan`` would train on silently or fail late):
    values that cannot be resolved yet (``${hydra:...}`` before Hydra's run) are left to their users."""
    items = node.items_ex(resolve=False) if isinstance(node, DictConfig) else enumerate(node)
    for key, _ in items:
        name = f"{prefix}.{key}" if prefix else str(key)
        try:
            value = node[key]
        except Exception:  # noqa: BLE001 - an interpolation only Hydra's run resolves
            continue
        if isinstance(value, (DictConfig, ListConfig)):
            check_finite(value, name)
        elif isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{name}={value} is not a finite number")


def check_data(data: DictConfig) -> None:
    val = data.get("val_fraction")
    if val is not None and (not _number(val) or not 0 <= val < 1):
        raise UserError(f"data.val_fraction={val!r} is not a share of the training set in [0, 1)")
    if data.get("review_file"):
        from noisyrobust.data.review_file import check_review_file

        check_review_file(data.review_file)


def check_model_reads_the_data(cfg: DictConfig) -> None:
    """Token data (``data.vocab_size``: data=python_names) needs a token network, and images an image network."""
    tokens, token_model = "vocab_size" in cfg.data, "vocab_size" in cfg.model
    if tokens != token_model:
        data, model = cfg.data.get("name", "?"), str(cfg.model.get("_target_", "?")).rsplit(".", 1)[-1]
        raise UserError(f"data={data} holds token sequences: use model=bag_of_tokens or model=token_transformer, "
                        f"not {model}" if tokens else
                        f"model {model} reads token sequences (data=python_names), and data={data} holds images")


def check_stages(stages, data: DictConfig) -> None:
    """The values of the stages before the fit (``stages.*``), checked before any of them trains."""
    stages = stages or {}
    il = stages.get("irreducible_loss") or {}
    il_path = il.get("il_path")
    if il_path and not Path(str(il_path)).expanduser().is_file():
        raise UserError(f"stages.irreducible_loss.il_path={il_path} does not exist; give an .npz of irreducible "
                        "losses or leave it null to train the model (or use the cache)")
    transition = stages.get("transition") or {}
    if transition:
        percentile = transition.get("percentile")
        if not _number(percentile) or not 0 < percentile <= 100:
            raise UserError(f"stages.transition.percentile={percentile!r} is not a percentile in (0, 100]")
        source = str(transition.get("source"))
        if source not in ("estimate", "oracle"):
            from noisyrobust.stages.transition import read_transition

            path = Path(source).expanduser()
            if not path.is_file():
                raise UserError(f"method.transition={source} is neither estimate, oracle nor an existing file "
                                "holding a C x C matrix")
            read_transition(path, data.num_classes, bool(transition.get("invertible")))


def check_config(cfg: DictConfig, *, gpu_available=None) -> None:
    """Every check above, on the composed run config (``gpu_available`` None: asks PyTorch when needed)."""
    check_seed("seed", cfg.seed)
    if cfg.noise.get("seed") is not None:
        check_seed("noise.seed", cfg.noise.seed)
    check_model_reads_the_data(cfg)
    for node in ("noise", "data", "method", "model", "optimizer", "scheduler", "trainer", "stages", "callbacks"):
        if OmegaConf.select(cfg, node, throw_on_resolution_failure=False) is not None:
            check_finite(cfg[node], node)
    check_noise(cfg.noise)
    check_data(cfg.data)
    check_method(cfg.method)
    check_model(cfg.model)
    check_hyperparameters(cfg.method, "method")
    check_warmup(cfg.method, cfg.trainer.get("max_epochs"))
    check_fused_steps(cfg.get("fused_steps", "auto"))
    for name, node in (cfg.get("stages") or {}).items():
        check_hyperparameters(node, f"stages.{name}")
    check_stages(cfg.get("stages"), cfg.data)
    for prefix, node in (("optimizer", cfg.get("optimizer")), ("stages.irreducible_loss.optimizer",
                                                           (cfg.get("stages") or {}).get("irreducible_loss", {}).get("optimizer"))):
        for name, lr in _learning_rates(node, prefix):
            check_learning_rate(name, lr)
    check_trainer(cfg.trainer, gpu_available=gpu_available)
    check_validation_split(cfg.data, cfg.get("callbacks"))

