"""The pipeline of one run: validate, build (noisy data, stages, method, trainer), fit. Callbacks finish in
their own hooks; ``RunSummary`` writes ``summary.json``. Several runs (pruning levels) are a loop over
``train`` (``runs``)."""
import json
import logging
import time
import warnings
from pathlib import Path
from typing import Optional, Sequence

import hydra
import lightning.pytorch as pl
import numpy as np
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_class
from lightning.pytorch.loggers import WandbLogger
from omegaconf import DictConfig, OmegaConf

from noisyrobust.callbacks import EpochSeed, LabelsChecksum
from noisyrobust.checkpointing import AtomicCheckpointIO, check_resume, check_same_model, method_identity
from noisyrobust.console import quiet_libraries
from noisyrobust.errors import UserError
from noisyrobust.files import atomic_write
from noisyrobust.label_issues.finder import LabelIssues
from noisyrobust.loggers import log_plots
from noisyrobust.noise import labels_checksum, noise_rate, save_noisy_labels, transition_matrix
from noisyrobust.preemption import Preemption
from noisyrobust.run_summary import RunSummary
from noisyrobust.rundir import keep_metrics_before, release_run_dir, resume_checkpoint
from noisyrobust.validate import check_config, check_training_batches

log = logging.getLogger(__name__)
# the run directory already holds Hydra's config when the CSV logger starts; nothing is deleted but metrics.csv
warnings.filterwarnings("ignore", message=".*exists and is not empty.*")


def runs(cfg: DictConfig) -> dict:
    """What ``train.py`` runs: one run, or with ``prune=magnitude`` iterative magnitude pruning, each level
    one run (noisyrobust.memorization.pruning)."""
    if cfg.get("prune"):
        from noisyrobust.memorization.pruning import train_pruned
        return train_pruned(cfg, train)
    return train(cfg)


def train(cfg: DictConfig, callbacks: Sequence[pl.Callback] = ()) -> dict:
    """Run one training job from a composed config; returns the summary written to ``summary.json``.
    ``callbacks``: more callbacks for this run (a run type built on it: pruning levels)."""
    start = time.time()
    quiet_libraries()
    run_dir = Path(cfg.paths.output_dir)
    check_config(cfg)  # before anything is written (train.py checked already; this is for other callers)
    resume = resume_checkpoint(run_dir, cfg.get("ckpt_path"))  # refuses a directory holding another run
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    datamodule, noise = build_data(cfg)
    variant = get_class(cfg.method._target_).variant_of(cfg.method)  # an ablation (rholoss[uniform]): apart
    identity = method_identity(cfg.method, variant)
    if resume:  # all that can be checked without the method's networks, before any stage trains
        resume = check_resume(resume, labels_checksum=noise["trained_checksum"], method=identity,
                              max_epochs=cfg.trainer.max_epochs)

    # each network's initialization depends on the seed and its own config only (not on the noise draws,
    # nor on another network built before it): the RNG is seeded before each
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    stages = {name: hydra.utils.instantiate(node) for name, node in (cfg.get("stages") or {}).items()}
    summary = RunSummary(run_facts(cfg, datamodule, noise, variant), run_dir, start)
    trainer = build_trainer(cfg, datamodule, [LabelsChecksum(noise["trained_checksum"], identity), *callbacks, summary])

    outputs = {}
    for name, stage in stages.items():  # before the fit, in every process: each hands on its data and outputs
        result = stage.run(datamodule, trainer=trainer)
        datamodule, summary.facts[name] = result.datamodule, result.summary
        outputs.update(result.outputs)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    module = hydra.utils.instantiate(cfg.method, **outputs)  # a stage's outputs: constructor arguments
    if resume:
        check_same_model(resume, module)
    if trainer.is_global_zero:
        write_run_files(cfg, trainer, datamodule, noise, resume)

    trainer.fit(module, datamodule=datamodule, ckpt_path=str(resume) if resume else None)
    # a launcher that forks or spawns the ranks (ddp_fork, ddp_notebook, ddp_spawn) ran the fit in its own
    # processes: rank 0 wrote the summary there
    result = summary.summary or json.loads((run_dir / "summary.json").read_text())
    if "label_issues" in result and trainer.is_global_zero \
            and any(isinstance(lg, WandbLogger) for lg in trainer.loggers):
        log_label_issue_plots(run_dir, trainer.loggers)
    release_run_dir(run_dir)  # the run is over: its directory may be resumed or reported on (rundir.py's lock)
    return result


def build_noise(noise_cfg: DictConfig):
    """The injector (a partial) and its seed; ``noise.seed`` defaults to the run seed in every noise config."""
    cfg = OmegaConf.to_container(noise_cfg, resolve=True)
    seed = cfg.pop("seed")
    return hydra.utils.instantiate(cfg), int(seed)


def build_data(cfg: DictConfig):
    """The datamodule with its noisy labels drawn, and the facts of the realized noise."""
    injector, noise_seed = build_noise(cfg.noise)
    datamodule = hydra.utils.instantiate(cfg.data, noise=injector, noise_seed=noise_seed)
    datamodule.setup("fit")
    datamodule.apply_review()  # data.review_file: refused here, before anything is written, if of other data
    clean, noisy = datamodule.clean_labels.numpy(), _drawn_labels(datamodule)
    noise = {"rate": noise_rate(clean, noisy), "checksum": labels_checksum(noisy), "seed": noise_seed,
             "trained_checksum": labels_checksum(datamodule.noisy_labels.numpy())}  # what a resume must match
    if datamodule.reference_noise_rate is not None:  # Clothing1M: clean labels of the training images
        noise["reference_rate"] = datamodule.reference_noise_rate  # mostly unknown
    return datamodule, noise


def _drawn_labels(datamodule) -> np.ndarray:
    """The labels the noise drew (before a review; noisy_labels are those trained on)."""
    return (datamodule.noisy_labels if datamodule.given_labels is None else datamodule.given_labels).numpy()


def review_facts(datamodule) -> dict:
    """What the summary records of ``data.review_file``: the file, its checksum and the decisions' counts."""
    review = datamodule.review
    kept = datamodule.train_indices.numpy()
    clean, trained = datamodule.clean_labels.numpy()[kept], datamodule.noisy_labels.numpy()[kept]
    return {"file": str(datamodule.review_file), "checksum": review.file_checksum, **review.counts(),
            "given_checksum": review.given_checksum, "trained_samples": len(kept),
            "trained_rate": noise_rate(clean, trained)}


def run_facts(cfg: DictConfig, datamodule, noise: dict, variant: Optional[str]) -> dict:
    """What the summary reports of the run as it was built: method, data, noise, seed, corrupted inputs."""
    choices = HydraConfig.get().runtime.choices if HydraConfig.initialized() else {}
    method = choices.get("method", cfg.method._target_.rsplit(".", 1)[-1]) + (f"[{variant}]" if variant else "")
    clean, noisy = datamodule.clean_labels.numpy(), _drawn_labels(datamodule)
    facts = {"method": method, "data": cfg.data.name,
             "noise": {"name": choices.get("noise", cfg.noise._target_.rsplit(".", 1)[-1]),
                       **OmegaConf.to_container(cfg.noise, resolve=True), "realized_rate": noise["rate"],
                       **({"reference_rate": noise["reference_rate"]} if "reference_rate" in noise else {}),
                       "checksum": noise["checksum"], "transition_matrix": transition_matrix(
                           clean, noisy, num_classes=datamodule.num_classes).round(4).tolist()},
             "seed": cfg.seed}
    if datamodule.review is not None:
        facts["review"] = review_facts(datamodule)
    if datamodule.inputs_record:
        facts["inputs"] = {k: v for k, v in datamodule.inputs_record.items() if k != "permutation"}
    if datamodule.corpus_facts:
        facts["corpus"] = datamodule.corpus_facts
    return facts


def build_trainer(cfg: DictConfig, datamodule, extra: Sequence[pl.Callback]) -> pl.Trainer:
    """The Trainer with the config's callbacks and loggers, the label-issue finder (``diagnostics=``;
    ``diagnostics=none``: none, checked against the data before anything is written), and the callbacks
    every run has; ``extra`` last (the run's summary, which reads what the others found)."""
    callbacks = [hydra.utils.instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c]
    if (cfg.get("diagnostics") or {}).get("_target_"):
        finder: LabelIssues = hydra.utils.instantiate(cfg.diagnostics)
        finder.check(datamodule)
        callbacks.append(finder)
    callbacks += [EpochSeed(cfg.seed), Preemption(Path(cfg.paths.output_dir)), *extra]
    loggers = [hydra.utils.instantiate(c) for c in (cfg.get("logger") or {}).values() if c]
    trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers, plugins=[AtomicCheckpointIO()])
    datamodule.check_world_size(trainer.world_size)  # before DDP starts its processes
    check_training_batches(datamodule, trainer.world_size)  # an empty epoch is refused, not trained
    datamodule.fused_steps = fused_steps(cfg.get("fused_steps", "auto"), datamodule, trainer)
    return trainer


AUTO_FUSED_STEPS = 16


def fused_steps(value, datamodule, trainer: pl.Trainer) -> int:
    """Batches per call of the training step. ``auto``: 16 where fusing is exact — batches held on the device,
    no callback that reads every step (``needs_every_batch``), every epoch whole (no limit_train_batches,
    max_steps or val_check_interval, which Lightning counts in calls) — else 1; an integer asks for it."""
    exact = (datamodule.fuses_steps and not any(getattr(c, "needs_every_batch", False) for c in trainer.callbacks)
             and trainer.limit_train_batches in (None, 1.0) and trainer.max_steps == -1
             and trainer.val_check_interval == 1.0)
    if value == "auto":
        return AUTO_FUSED_STEPS if exact else 1
    if value > 1 and not exact:
        raise UserError(f"fused_steps={value} needs batches held on the device (data={datamodule.name} "
                        f"{'is' if datamodule.fuses_steps else 'is not'}), no callback that reads every step "
                        "(slingshot, pruning) and no trainer.limit_train_batches, max_steps or val_check_interval; "
                        "use fused_steps=auto or 1")
    return int(value)


def write_run_files(cfg: DictConfig, trainer: pl.Trainer, datamodule, noise: dict, resume: Optional[Path]) -> None:
    """Rank 0, right before the fit: the noisy labels (and the record of corrupted inputs), the config and
    the realized noise to every logger; a run resumed in its own directory keeps its metrics rows."""
    run_dir = Path(cfg.paths.output_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if resume:  # resuming in its own directory: metrics.csv continues
        keep_metrics_before(run_dir, resume, trainer.loggers)
    clean, noisy = datamodule.clean_labels.numpy(), datamodule.noisy_labels.numpy()
    reviewed = {} if datamodule.review is None else {  # the labels trained on (noisy), beside those given
        "given": _drawn_labels(datamodule), "dropped": ~np.isin(np.arange(len(noisy)), np.concatenate(
            [datamodule.train_indices.numpy(), datamodule.val_indices.numpy()]))}
    save_noisy_labels(run_dir / "noisy_labels.npz", clean=clean, noisy=noisy, num_classes=datamodule.num_classes,
                      **reviewed)
    if datamodule.inputs_record:  # data.inputs: what reproduces the corrupted inputs
        with atomic_write(run_dir / "inputs.npz") as f:
            np.savez(f, **{k: np.asarray(v) for k, v in datamodule.inputs_record.items()})
    params = {**OmegaConf.to_container(cfg, resolve=True), "noise_realized": noise} if trainer.loggers else {}
    for logger in trainer.loggers:
        logger.log_hyperparams(params)
        logger.log_metrics({"noise/rate": noise["rate"]}, step=0)
    log.info("noisy labels: realized rate %.4f over %d training samples (checksum %s)",
             noise["rate"], len(noisy), noise["checksum"])


def log_label_issue_plots(run_dir: Path, loggers) -> None:
    """With W&B: the plots of ``python -m noisyrobust.diagnose`` and the top of the table, logged to the run."""
    from noisyrobust.diagnose import write_plots

    try:
        write_plots(run_dir)
    except UserError as e:  # e.g. a run composed in-process, without Hydra's .hydra/ config
        log.warning("label-issue plots not drawn: %s", e)
    log_plots(run_dir, loggers)
