"""The pipeline: seed -> noisy labels -> method -> fit (evaluating every epoch) -> summary."""
import json
import logging
import time
import warnings
from pathlib import Path
from typing import Optional, Sequence

import hydra
import numpy as np
from hydra.core.hydra_config import HydraConfig
import lightning.pytorch as pl
from lightning.pytorch.loggers import WandbLogger
from omegaconf import DictConfig, OmegaConf

from noisyrobust.callbacks import EpochSeed, LabelsChecksum, SummaryCallback
from noisyrobust.checkpointing import AtomicCheckpointIO, check_resume, method_identity
from noisyrobust.console import quiet_libraries
from noisyrobust.errors import UserError
from noisyrobust.loggers import log_plots
from noisyrobust.diagnostics import summarize_history
from noisyrobust.diagnostics.label_issues import LabelIssues
from noisyrobust.diagnostics.issue_table import format_label_issues
from noisyrobust.files import atomic_write
from noisyrobust.noise import labels_checksum, noise_rate, save_noisy_labels, transition_matrix
from noisyrobust.preemption import Preemption
from noisyrobust.rundir import keep_metrics_before, resume_checkpoint
from noisyrobust.validate import check_config

log = logging.getLogger(__name__)
# the run directory already holds Hydra's config when the CSV logger starts; nothing is deleted but metrics.csv
warnings.filterwarnings("ignore", message=".*exists and is not empty.*")


def build_noise(noise_cfg: DictConfig):
    """The injector (a partial) and its seed; ``noise.seed`` defaults to the run seed in every noise config."""
    cfg = OmegaConf.to_container(noise_cfg, resolve=True)
    seed = cfg.pop("seed")
    return hydra.utils.instantiate(cfg), int(seed)


def _json_safe(obj):
    """NaN (an unknown, e.g. Clothing1M's realized rate) becomes null: JSON has no NaN."""
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    return [_json_safe(v) for v in obj] if isinstance(obj, list) else obj


def write_json_atomic(path: Path, obj: dict) -> None:
    with atomic_write(path, "w") as f:
        f.write(json.dumps(_json_safe(obj), indent=2, allow_nan=False) + "\n")


def save_inputs_record(path: Path, record: dict) -> None:
    with atomic_write(path) as f:
        np.savez(f, **{k: np.asarray(v) for k, v in record.items()})


def build_label_issues(cfg: DictConfig, datamodule) -> Optional[LabelIssues]:
    """The label-issue diagnostics (``diagnostics=``; ``diagnostics=none``: none), checked against the data
    before the run writes anything."""
    if not (cfg.get("diagnostics") or {}).get("_target_"):
        return None
    label_issues = hydra.utils.instantiate(cfg.diagnostics)
    label_issues.check(datamodule)
    return label_issues


def log_label_issue_plots(run_dir: Path, loggers) -> None:
    """With W&B: the plots of ``python -m noisyrobust.diagnose`` and the top of the table, logged to the run."""
    from noisyrobust.diagnose import write_plots

    try:
        write_plots(run_dir)
    except UserError as e:  # e.g. a run composed in-process, without Hydra's .hydra/ config
        log.warning("label-issue plots not drawn: %s", e)
    log_plots(run_dir, loggers)


def train(cfg: DictConfig, callbacks: Sequence[pl.Callback] = ()) -> dict:
    """Run one training job from a composed config; returns the summary written to ``summary.json``.
    ``callbacks``: more callbacks for this run (a run type built on it: pruning levels). ``prune=magnitude``:
    iterative magnitude pruning, each level one such run (noisyrobust.memorization.pruning)."""
    if cfg.get("prune"):
        from noisyrobust.memorization.pruning import train_pruned
        return train_pruned(cfg, train)
    start = time.time()
    quiet_libraries()
    run_dir = Path(cfg.paths.output_dir)
    check_config(cfg)  # before anything is written (train.py checked already; this is for other callers)
    resume = resume_checkpoint(run_dir, cfg.get("ckpt_path"))  # refuses a directory holding another run
    pl.seed_everything(cfg.seed, workers=True, verbose=False)

    injector, noise_seed = build_noise(cfg.noise)
    datamodule = hydra.utils.instantiate(cfg.data, noise=injector, noise_seed=noise_seed)
    datamodule.setup("fit")
    clean, noisy = datamodule.clean_labels.numpy(), datamodule.noisy_labels.numpy()
    noise = {"rate": noise_rate(clean, noisy), "checksum": labels_checksum(noisy), "seed": noise_seed}
    if datamodule.reference_noise_rate is not None:  # Clothing1M: clean labels of the training images
        noise["reference_rate"] = datamodule.reference_noise_rate  # mostly unknown

    # each network's initialization depends on the seed and its own config only (not on the noise draws,
    # nor on another network built before it): the RNG is seeded before each
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    stages = {name: hydra.utils.instantiate(node) for name, node in (cfg.get("stages") or {}).items()}
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    module = hydra.utils.instantiate(cfg.method)
    ckpt_path = None
    if resume:
        ckpt_path = str(check_resume(resume, module, labels_checksum=noise["checksum"],
                                     method=method_identity(cfg.method), max_epochs=cfg.trainer.max_epochs))

    label_issues = build_label_issues(cfg, datamodule)
    callbacks = [hydra.utils.instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c] + list(callbacks)
    callbacks += [EpochSeed(cfg.seed), LabelsChecksum(noise["checksum"], method_identity(cfg.method)),
                  Preemption(run_dir)] + ([label_issues] if label_issues else [])
    loggers = [hydra.utils.instantiate(c) for c in (cfg.get("logger") or {}).values() if c]
    trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers,
                                      plugins=[AtomicCheckpointIO()])

    datamodule.check_world_size(trainer.world_size)  # before DDP starts its processes
    if trainer.is_global_zero:
        run_dir.mkdir(parents=True, exist_ok=True)
        if ckpt_path:  # resuming in its own directory: metrics.csv continues
            keep_metrics_before(run_dir, Path(ckpt_path), trainer.loggers)
        save_noisy_labels(run_dir / "noisy_labels.npz", clean=clean, noisy=noisy,
                          num_classes=datamodule.num_classes)
        if datamodule.inputs_record:  # data.inputs: what reproduces the corrupted inputs
            save_inputs_record(run_dir / "inputs.npz", datamodule.inputs_record)
        for logger in trainer.loggers:
            logger.log_hyperparams({**OmegaConf.to_container(cfg, resolve=True), "noise_realized": noise})
            logger.log_metrics({"noise/rate": noise["rate"]}, step=0)
        log.info("noisy labels: realized rate %.4f over %d training samples (checksum %s)",
                 noise["rate"], len(noisy), noise["checksum"])

    stage_summaries = {}
    for name, stage in stages.items():  # before the fit, in every process: each hands the fit its data
        result = stage.run(datamodule, trainer=trainer)
        datamodule, stage_summaries[name] = result.datamodule, result.summary
    trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
    issues = label_issues.finish(trainer, module, datamodule, run_dir) if label_issues else {}
    if issues and trainer.is_global_zero and any(isinstance(lg, WandbLogger) for lg in trainer.loggers):
        log_label_issue_plots(run_dir, trainer.loggers)

    choices = HydraConfig.get().runtime.choices if HydraConfig.initialized() else {}
    method = choices.get("method", cfg.method._target_.rsplit(".", 1)[-1])
    if module.variant:  # an ablation of the method (rholoss[uniform]) is reported apart
        method = f"{method}[{module.variant}]"
    summary = {"method": method, "data": cfg.data.name,
               "noise": {"name": choices.get("noise", cfg.noise._target_.rsplit(".", 1)[-1]),
                         **OmegaConf.to_container(cfg.noise, resolve=True), "realized_rate": noise["rate"],
                         **({"reference_rate": noise["reference_rate"]} if "reference_rate" in noise else {}),
                         "checksum": noise["checksum"], "transition_matrix": transition_matrix(
                             clean, noisy, num_classes=datamodule.num_classes).round(4).tolist()},
               "seed": cfg.seed, **summarize_history(module.history),
               "epochs": trainer.current_epoch,  # trained; the history holds only the evaluated ones
               **module.summary_facts(), **stage_summaries,
               **({"label_issues": issues} if issues else {}),
               **({"inputs": {k: v for k, v in datamodule.inputs_record.items() if k != "permutation"}}
                  if datamodule.inputs_record else {}),
               **{k: v for c in callbacks if isinstance(c, SummaryCallback) for k, v in c.summary().items()},
               "run_dir": str(run_dir.resolve()),
               "wall_time_s": round(time.time() - start, 1)}
    if trainer.is_global_zero:
        write_json_atomic(run_dir / "summary.json", summary)
        print(format_summary(summary), flush=True)
    return summary


def format_summary(s: dict) -> str:
    """The few lines a user reads at the end of a run."""
    noise = s["noise"]
    realized = noise["realized_rate"]
    realized = f"{realized:.3f}" if realized == realized else "unknown"  # NaN: no clean labels known
    if "reference_rate" in noise:
        realized += f"; {noise['reference_rate']:.3f} on the images labelled both ways"
    lines = [f"\n{s['method']} on {s['data']}, noise {noise['name']} "
             f"(realized {realized}), seed {s['seed']}, {s.get('epochs', 0)} epochs "
             f"in {s['wall_time_s']:.0f}s"]
    if "test_acc_last" in s:
        parts = [f"last {100 * s['test_acc_last']:.2f}", f"mean of last {s.get('test_acc_mean_epochs', 10)} {100 * s['test_acc_mean_last10']:.2f}"]
        if "test_acc_at_best_val" in s:
            parts.append(f"at best val (epoch {s['best_val_epoch']}) {100 * s['test_acc_at_best_val']:.2f}")
        parts.append(f"best, test-selected {100 * s['test_acc_best_test_selected']:.2f}")
        lines.append("test accuracy %: " + " | ".join(parts))
    lines += format_label_issues(s.get("label_issues"))
    lines.append(f"run directory: {s['run_dir']}")
    return "\n".join(lines)
