"""The stage of the methods that correct their loss with a given noise transition matrix T (forward/backward
correction, Patrini et al. 2017; T-Revision, Xia et al. 2019): T estimated from anchor points of a CE model
trained first, the run's realized matrix (``oracle``, for study), or read from a file — handed to the method's
constructor as ``transition_matrix`` (and, for T-Revision, that CE model as ``warm_start``)."""
import logging
from pathlib import Path

import hydra
import numpy as np
import torch
import torch.nn.functional as F

from noisyrobust.per_sample.passes import training_set_pass
from noisyrobust.errors import UserError
from noisyrobust.losses import CrossEntropy
from noisyrobust.losses.transition import check_transition, estimate_transition, realized_transition
from noisyrobust.methods.standard import Standard
from noisyrobust.per_sample.trainer import one_device_trainer
from noisyrobust.stages.protocol import BestOnValidation, StageResult

log = logging.getLogger(__name__)


def read_transition(path: Path, num_classes: int, invertible: bool) -> np.ndarray:
    """A C x C matrix from a .npy file or a text file of C rows of C numbers, checked."""
    try:
        t = np.load(path) if path.suffix == ".npy" else np.loadtxt(path, ndmin=2)
    except (OSError, ValueError) as e:
        raise UserError(f"method.transition={path} is not a readable matrix (.npy, or text with C rows of C "
                        f"numbers): {type(e).__name__}") from None
    return check_transition(t, num_classes=num_classes, source=str(path), invertible=invertible)


class TransitionStage:
    """``source``: ``estimate`` (a CE model — ``model``/``optimizer`` configs, built here — trained ``epochs``
    epochs on the noisy training split, its epoch best on noisy validation accuracy kept, predicts every
    training sample; T from the anchor points), ``oracle`` or a file path (read and checked here, before the
    run writes anything). ``invertible``: the backward correction needs T^-1. ``hand_on_model``: the CE model
    (its best epoch) goes to the method too, as ``warm_start`` (T-Revision trains on from it)."""

    def __init__(self, *, source: str, model, optimizer, num_classes: int, seed: int, epochs: int = 20,
                 filter_outlier: bool = True, percentile: float = 97.0, invertible: bool = False,
                 hand_on_model: bool = False):
        self.source, self.num_classes, self.seed, self.epochs = str(source), num_classes, seed, epochs
        self.filter_outlier, self.percentile, self.invertible = filter_outlier, percentile, invertible
        self.hand_on_model, self.given = hand_on_model, None
        if self.source not in ("estimate", "oracle"):
            path = Path(self.source).expanduser()
            if not path.is_file():
                raise UserError(f"method.transition={source} is neither estimate, oracle nor an existing file "
                                "holding a C x C matrix")
            self.given = read_transition(path, num_classes, invertible)
        elif self.source == "estimate" and epochs < 1:
            raise UserError(f"stages.transition.epochs={epochs} must be >= 1")
        self.model = hydra.utils.instantiate(model) if self.source == "estimate" else None
        self.optimizer = hydra.utils.instantiate(optimizer) if self.source == "estimate" else None

    def run(self, datamodule, *, trainer) -> StageResult:
        rows = datamodule.train_indices.numpy()
        clean, noisy = datamodule.clean_labels.numpy()[rows], datamodule.noisy_labels.numpy()[rows]
        realized = realized_transition(clean, noisy, num_classes=self.num_classes)
        t = {"oracle": realized, "estimate": None}.get(self.source, self.given)
        if t is None:
            t = self.estimate(datamodule, trainer)
        t = check_transition(t, num_classes=self.num_classes, source=self.source, invertible=self.invertible)
        outputs = {"transition_matrix": torch.as_tensor(t, dtype=torch.float32)}
        if self.hand_on_model and self.model is not None:
            outputs["warm_start"] = self.model
        return StageResult(datamodule, {"source": self.source, "matrix": t.round(4).tolist(),
                                        "mean_abs_error_vs_realized": float(np.abs(t - realized).mean())},
                           outputs=outputs)

    def estimate(self, datamodule, trainer) -> np.ndarray:
        stage = Standard(net=self.model, loss=CrossEntropy(), num_classes=self.num_classes, optimizer=self.optimizer)
        best = BestOnValidation("val/acc")
        log.info("loss correction: training a CE model for %d epochs to estimate T", self.epochs)
        one_device_trainer(trainer, epochs=self.epochs, seed=self.seed, callbacks=[best]).fit(
            stage, datamodule=datamodule.with_train_indices(datamodule.train_indices))  # a copy, not bound to the run
        if best.state is not None:
            stage.load_state_dict(best.state)
        net = stage.nets[0]
        probs = training_set_pass(datamodule.unsharded(), lambda x, y, i: {"p": F.softmax(net.cpu()(x).float(), 1)},
                                  nets=[net], device=torch.device("cpu"), num_samples=len(datamodule.noisy_labels))["p"]
        return estimate_transition(probs[datamodule.train_indices].numpy(), filter_outlier=self.filter_outlier,
                                   percentile=self.percentile)
