"""The label-issue finder: per-sample scores over a run, ``label_issues.csv`` at its end, and how well each
score finds the wrong labels where the clean ones are known (``diagnostics=label_issues``, the default).

It reads what training exposes and nothing else: each step's logits by sample index (the training step's
``outputs["observed"]``, one per batch of the call), the method's own per-sample columns
(``label_issue_scores``) and its first network; it finishes in its own ``on_train_end`` and hands its part
of the summary on (``summary``)."""
import logging
from pathlib import Path
from typing import Optional

import hydra
import numpy as np
import torch

from noisyrobust.callbacks import SummaryCallback
from noisyrobust.errors import UserError
from noisyrobust.files import atomic_write
from noisyrobust.label_issues.dynamics import TrainingDynamics
from noisyrobust.label_issues.influence import arnoldi_self_influence, check_arnoldi
from noisyrobust.label_issues.refits import (confident_learning_scores, out_of_sample_probabilities,
                                             turnover_self_influence)
from noisyrobust.label_issues.scores import (class_normalize, complexity_gap_bytes, complexity_gap_scores,
                                             input_gradient_spread, input_gradients, welford_update)
from noisyrobust.label_issues.table import detection_by_score, issue_table, write_issue_table
from noisyrobust.per_sample.passes import training_set_pass

log = logging.getLogger(__name__)
# from the training step's own forward; early_*: the same over the epochs up to the noisy validation accuracy's
# peak (the onset of memorization, read without clean labels), which holds however long the run trains
FREE_SCORES = ("loss", "aum", "forgetting", "first_learned",
               "early_loss", "early_aum", "early_forgetting", "early_first_learned")
EXTRA_SCORES = ("vog", "cl", "cg", "self_influence", "influence")  # each costs passes or trainings of its own
SCORES = FREE_SCORES + EXTRA_SCORES


class LabelIssues(SummaryCallback):
    """Keeps the per-sample training dynamics (free scores) of the run's first network, the VoG
    checkpoints when asked, and when training ends computes the other asked scores and writes the table
    into the trainer's ``default_root_dir`` (the run directory). Its state travels in checkpoints, so a
    resumed run writes the same table."""

    def __init__(self, *, scores=(), default_score: str = "early_aum", keep_trajectories: bool = False,
                 vog_checkpoints: int = 5, cv_folds: int = 5, cv_epochs: int = 10, self_influence_epochs: int = 10,
                 cg_ratio: float = 1.0, cg_repeats: int = 1, cg_max_gb: float = 4.0, seed: int = 0,
                 model=None, optimizer=None, influence_iterations: int = 100, influence_top_k: int = 20,
                 influence_hessian_samples: int = 2000):
        if isinstance(scores, str):  # diagnostics.scores=vog: one score, meant as [vog]
            scores = [scores]
        unknown = [s for s in scores if s not in SCORES]
        if unknown:
            raise UserError(f"diagnostics.scores has unknown score {unknown[0]!r}; choose from: {', '.join(SCORES)}")
        self.scores = list(FREE_SCORES) + [s for s in EXTRA_SCORES if s in scores]
        if default_score not in self.scores:
            raise UserError(f"diagnostics.default_score={default_score!r} is not among the computed scores "
                            f"({', '.join(self.scores)}); add it to diagnostics.scores")
        for name, value, low in (("vog_checkpoints", vog_checkpoints, 2), ("cv_epochs", cv_epochs, 1),
                                 ("self_influence_epochs", self_influence_epochs, 1), ("cg_repeats", cg_repeats, 1)):
            if int(value) < low:
                raise UserError(f"diagnostics.{name}={value} must be >= {low}")
        if not float(cg_max_gb) > 0:
            raise UserError(f"diagnostics.cg_max_gb={cg_max_gb} must be > 0 (the GiB the complexity-gap score may use)")
        if "influence" in self.scores:
            check_arnoldi(influence_iterations, influence_top_k)
        self.influence = {"iterations": int(influence_iterations), "top_k": int(influence_top_k),
                          "hessian_samples": int(influence_hessian_samples)}
        self.default_score, self.keep_trajectories = default_score, keep_trajectories
        self.vog_checkpoints, self.cv_folds, self.cv_epochs = vog_checkpoints, cv_folds, cv_epochs
        self.self_influence_epochs, self.seed = self_influence_epochs, seed
        self.cg_ratio, self.cg_repeats, self.cg_max_gb = cg_ratio, cg_repeats, cg_max_gb
        self.model_cfg, self.optimizer_cfg = model, optimizer  # built only for the refits (cl, self_influence)
        self.dynamics: Optional[TrainingDynamics] = None
        self.vog = None  # Welford state over the VoG checkpoints: {"count", "mean", "m2"}
        self.result: dict = {}  # what the summary reports, once training has ended

    # -- before anything is written --------------------------------------------------------------------
    def check(self, datamodule) -> None:
        """Refuse what cannot work on this data, before the run writes anything."""
        labels = datamodule.noisy_labels.numpy()[datamodule.train_indices.numpy()]
        if "cl" in self.scores:
            smallest = int(np.bincount(labels, minlength=datamodule.num_classes).min())
            if not 2 <= self.cv_folds <= smallest:
                raise UserError(f"diagnostics.cv_folds={self.cv_folds} is outside [2, {smallest}]: at least 2 "
                                f"folds, at most the training samples of the smallest class ({smallest})")
        if "cg" in self.scores:
            need = complexity_gap_bytes(labels, ratio=self.cg_ratio) / 2**30
            if need > self.cg_max_gb:
                raise UserError(f"the complexity-gap score needs {need:.1f} GiB for data={datamodule.name} (one "
                                f"float64 kernel inverse per class), above diagnostics.cg_max_gb={self.cg_max_gb}; "
                                "raise cg_max_gb, lower cg_ratio or leave cg out of diagnostics.scores")
        if "vog" in self.scores and not getattr(datamodule, "image_size", None):
            raise UserError(f"VoG needs image inputs (N, C, H, W) and data={datamodule.name} declares no "
                            "image_size; leave vog out of diagnostics.scores")

    # -- during the fit --------------------------------------------------------------------------------
    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage != "fit" or self.dynamics is not None:
            return
        dm = trainer.datamodule
        self.dynamics = TrainingDynamics(len(dm.noisy_labels), dm.num_classes, keep_trajectories=self.keep_trajectories)

    def on_train_start(self, trainer, pl_module) -> None:
        # beside the logits it records; a resumed run's state, loaded on the CPU by now, moves along
        self.dynamics.to(pl_module.device)
        if self.vog is not None:
            self.vog = {k: (v.to(pl_module.device) if torch.is_tensor(v) else v) for k, v in self.vog.items()}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        for seen in outputs.get("observed", ()) if isinstance(outputs, dict) else ():  # one per fused batch
            self.dynamics.record(seen.index, seen.logits, seen.given, trainer.current_epoch)
        if batch_idx + 1 == trainer.num_training_batches:  # before validation and checkpointing, on every rank
            self._end_epoch(trainer, pl_module)

    def on_validation_end(self, trainer, pl_module) -> None:
        accuracy = trainer.callback_metrics.get("val/acc")
        if not trainer.sanity_checking and accuracy is not None and self.dynamics is not None:
            self.dynamics.observe_validation(float(accuracy), trainer.current_epoch)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._end_epoch(trainer, pl_module)  # a no-op when the last batch already folded the epoch

    def _end_epoch(self, trainer, pl_module) -> None:
        if self.dynamics.pending_epoch is None:
            return
        self.dynamics.end_epoch(trainer.world_size)
        if "vog" in self.scores and trainer.current_epoch in self._vog_epochs(trainer.max_epochs):
            self._vog_checkpoint(trainer, pl_module)

    def _vog_epochs(self, max_epochs: int) -> set:
        k = min(self.vog_checkpoints, max_epochs)
        return set(np.round(np.linspace(0, max_epochs - 1, k)).astype(int).tolist())

    def _vog_checkpoint(self, trainer, pl_module) -> None:
        """Welford's update of the mean and squared deviations of S_t = d logit_y / d x (eval mode)."""
        net, dm = pl_module.nets[0], trainer.datamodule
        s = training_set_pass(dm, lambda x, y, i: {"s": input_gradients(net, x, y)}, nets=[net],
                              device=pl_module.device, num_samples=len(dm.noisy_labels),
                              world_size=trainer.world_size)["s"]
        if self.vog is None:
            self.vog = {"count": 0, "mean": torch.zeros_like(s), "m2": torch.zeros_like(s)}
        count, mean, m2 = welford_update(self.vog["count"], self.vog["mean"], self.vog["m2"], s)
        self.vog = {"count": count, "mean": mean, "m2": m2}

    def state_dict(self) -> dict:
        vog = None if self.vog is None else {k: (v.cpu() if torch.is_tensor(v) else v) for k, v in self.vog.items()}
        return {"dynamics": self.dynamics.state() if self.dynamics is not None else None, "vog": vog}

    def load_state_dict(self, state_dict: dict) -> None:
        if state_dict.get("dynamics") is not None:
            self.dynamics.load_state(state_dict["dynamics"])
        vog = state_dict.get("vog")
        if vog is not None:
            device = self.dynamics.presentations.device
            self.vog = {k: (v.to(device) if torch.is_tensor(v) else v) for k, v in vog.items()}

    # -- after the fit ---------------------------------------------------------------------------------
    def on_train_end(self, trainer, pl_module) -> None:
        self.result = self.finish(trainer, pl_module, trainer.datamodule, Path(trainer.default_root_dir))

    def summary(self) -> dict:
        return {"label_issues": self.result} if self.result else {}

    def finish(self, trainer, pl_module, datamodule, run_dir: Path) -> dict:
        """Compute the asked scores, write the table (rank 0) and return what the summary reports."""
        self._end_epoch(trainer, pl_module)
        rows = datamodule.train_indices.numpy()
        given, clean = datamodule.noisy_labels.numpy(), datamodule.clean_labels.numpy()
        if not datamodule.verified_labels and (given == clean).all():  # a user's labels, nothing injected
            clean = np.full_like(clean, -1)
        scores = self.dynamics.scores()
        method_scores = {name: np.asarray(v, dtype=np.float64) for name, v in pl_module.label_issue_scores().items()}
        scores.update(method_scores)  # the method's own per-sample scores (ELR's targets, SOP's u and v)
        mean_probs = self.dynamics.mean_probabilities(early=True)  # the network's guess before it memorizes
        suggested = np.where(np.isnan(mean_probs).any(1), given, np.nan_to_num(mean_probs).argmax(1))
        if not trainer.is_global_zero:  # the refits and the kernel run once, on rank 0, which writes the files
            return {}
        scores.update(self._extra_scores(trainer, pl_module, datamodule, rows, given))
        # the table's columns in the documented order, then the method's own
        scores = {name: scores[name] for name in self.scores + list(method_scores)}
        table = issue_table(rows, given=given, suggested=suggested, clean=clean, scores=scores,
                            order_by=self.default_score)
        files = write_issue_table(run_dir, table)
        if self.keep_trajectories:
            files.append(self._write_trajectories(run_dir))
        detection = detection_by_score(table, self.scores + list(method_scores))
        if detection is not None:
            metrics = {f"detect/{s}/{k}": v for s, d in detection.items() for k, v in d.items()}
            for logger in trainer.loggers:
                logger.log_metrics(metrics, step=trainer.global_step)
                logger.save()
        return {"default_score": self.default_score, "validation_peak_epoch": self.dynamics.peak_epoch,
                "scores": self.scores + list(method_scores), "rows": len(rows),
                "flagged_by_suggestion": int((table["suggested_label"] != table["given_label"]).sum()),
                "detection": detection, "files": [p.name for p in files]}

    def _extra_scores(self, trainer, pl_module, datamodule, rows, given) -> dict:
        out = {}
        if "vog" in self.scores:
            vog = np.full(len(given), np.nan)
            spread = input_gradient_spread(self.vog["mean"], self.vog["m2"], self.vog["count"]).cpu().numpy()
            vog[rows] = class_normalize(spread[rows], given[rows])
            out["vog"] = vog
        if "cg" in self.scores:
            x = training_set_pass(datamodule.unsharded(), lambda x, y, i: {"x": x.flatten(1)}, nets=[],
                                  device=torch.device("cpu"), num_samples=len(given))["x"].numpy()
            cg = np.full(len(given), np.nan)
            cg[rows] = complexity_gap_scores(x[rows], given[rows], ratio=self.cg_ratio, repeats=self.cg_repeats,
                                             rng=np.random.default_rng(self.seed))
            out["cg"] = cg
        if "influence" in self.scores:  # Arnoldi self-influence of the trained first network
            scores, _ = arnoldi_self_influence(pl_module.nets[0], datamodule, rows,
                                                                 device=pl_module.device, seed=self.seed,
                                                                 **self.influence)
            out["influence"] = scores.numpy()
        if "cl" in self.scores or "self_influence" in self.scores:
            net, optimizer = hydra.utils.instantiate(self.model_cfg), hydra.utils.instantiate(self.optimizer_cfg)
            if "cl" in self.scores:
                probs = out_of_sample_probabilities(net, optimizer, datamodule, rows, folds=self.cv_folds,
                                                    epochs=self.cv_epochs, trainer=trainer, seed=self.seed)
                cl = np.full(len(given), np.nan)
                cl[rows] = confident_learning_scores(given[rows], probs[rows])
                out["cl"] = cl
            if "self_influence" in self.scores:
                out["self_influence"] = turnover_self_influence(net, optimizer, datamodule, rows,
                                                                epochs=self.self_influence_epochs,
                                                                trainer=trainer, seed=self.seed)
        return out

    def _write_trajectories(self, run_dir: Path) -> Path:
        t = self.dynamics.trajectories
        path = Path(run_dir) / "per_sample.npz"
        with atomic_write(path) as f:
            np.savez_compressed(f, epoch=np.asarray(t["epoch"], dtype=np.int64),
                                **{k: np.stack(t[k]) if t[k] else np.zeros((0, self.dynamics.num_samples))
                                   for k in ("loss", "margin", "correct")})
        return path
