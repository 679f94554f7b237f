"""Forward / backward loss correction (Patrini et al., CVPR 2017): the loss is corrected with a noise
transition matrix T — estimated from anchor points of a CE model trained first, the run's realized one
(oracle, for study), or read from a file."""
import copy
import logging
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from noisyrobust.diagnostics.passes import training_set_pass
from noisyrobust.errors import UserError
from noisyrobust.losses import CrossEntropy
from noisyrobust.losses.correction import (backward_corrected_ce, check_transition, estimate_transition,
                                           forward_corrected_ce)
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.methods.irreducible import BestOnValidation
from noisyrobust.methods.standard import Standard
from noisyrobust.noise import transition_matrix
from noisyrobust.stages import one_device_trainer

log = logging.getLogger(__name__)
CORRECTIONS = ("forward", "backward")


def read_transition(path: Path, num_classes: int, invertible: bool) -> np.ndarray:
    """A C x C matrix from a .npy file or a text file of C rows of C numbers."""
    try:
        t = np.load(path) if path.suffix == ".npy" else np.loadtxt(path, ndmin=2, delimiter=None)
    except (OSError, ValueError) as e:
        raise UserError(f"method.transition={path} is not a readable matrix (.npy, or text with C rows of C "
                        f"numbers): {type(e).__name__}") from None
    return check_transition(t, num_classes=num_classes, source=str(path), invertible=invertible)


class LossCorrection(NoisyLabelModule):
    """``method=forward``: mean -log (p^T T)_y; ``method=backward``: mean (T^-1)_y · (-log p).
    ``transition``: ``estimate`` (``prepare`` trains a copy of the network with CE for ``estimate_epochs``,
    keeps its epoch best on noisy validation accuracy, predicts every training sample and takes T from the
    anchor points; this network then trains from its untouched initialization), ``oracle`` (the realized
    clean -> noisy matrix of the training split) or the path of a C x C file."""

    def __init__(self, *, net: nn.Module, num_classes: int, optimizer: Callable, scheduler: Optional[Callable] = None,
                 correction: str = "forward", transition: str = "estimate", estimate_epochs: int = 20,
                 filter_outlier: bool = True, percentile: float = 97.0):
        super().__init__(nets=[net], num_classes=num_classes, optimizer=optimizer, scheduler=scheduler)
        if correction not in CORRECTIONS:
            raise UserError(f"method.correction={correction} is unknown; choose from: {', '.join(CORRECTIONS)}")
        self.correction, self.num_classes = correction, num_classes
        self.transition_source, self.estimate_epochs = str(transition), estimate_epochs
        self.filter_outlier, self.percentile = filter_outlier, percentile
        t = None
        if self.transition_source not in ("estimate", "oracle"):
            path = Path(self.transition_source).expanduser()
            if not path.is_file():
                raise UserError(f"method.transition={transition} is neither estimate, oracle nor an existing file "
                                "holding a C x C matrix")
            t = read_transition(path, num_classes, invertible=correction == "backward")
        elif transition == "estimate" and estimate_epochs < 1:
            raise UserError(f"method.estimate_epochs={estimate_epochs} must be >= 1")
        self.register_buffer("transition", torch.as_tensor(np.eye(num_classes) if t is None else t,
                                                           dtype=torch.float32), persistent=False)
        self.summary_extra: dict = {}

    def prepare(self, datamodule, *, cfg, trainer):
        """T before the fit (in every process; ``setup`` then broadcasts rank 0's, so ranks agree)."""
        rows = datamodule.train_indices.numpy()
        clean, noisy = datamodule.clean_labels.numpy()[rows], datamodule.noisy_labels.numpy()[rows]
        realized = transition_matrix(clean, noisy, num_classes=self.num_classes)
        realized[realized.sum(1) == 0] = np.eye(self.num_classes)[realized.sum(1) == 0]  # classes absent from the split
        if self.transition_source == "oracle":
            t = realized
        elif self.transition_source == "estimate":
            t = self.estimate(datamodule, seed=cfg.seed, trainer=trainer)
        else:
            t = self.transition.double().cpu().numpy()
        t = check_transition(t, num_classes=self.num_classes, source=self.transition_source,
                             invertible=self.correction == "backward")
        self.transition = torch.as_tensor(t, dtype=torch.float32)
        self.summary_extra = {"transition": {"source": self.transition_source, "matrix": t.round(4).tolist(),
                                             "mean_abs_error_vs_realized": float(np.abs(t - realized).mean())}}
        return datamodule

    def estimate(self, datamodule, *, seed: int, trainer) -> np.ndarray:
        stage = Standard(net=copy.deepcopy(self.nets[0]), loss=CrossEntropy(), num_classes=self.num_classes,
                         optimizer=self.optimizer_factory)
        best = BestOnValidation("val/acc")
        log.info("loss correction: training a CE model for %d epochs to estimate T", self.estimate_epochs)
        one_device_trainer(trainer, epochs=self.estimate_epochs, seed=seed, callbacks=[best]).fit(
            stage, datamodule=datamodule.with_train_indices(datamodule.train_indices))  # a copy: not bound to the run
        if best.state is not None:
            stage.load_state_dict(best.state)
        net, n = stage.nets[0], len(datamodule.noisy_labels)
        probs = training_set_pass(datamodule.unsharded(), lambda x, y, i: {"p": F.softmax(net(x).float(), 1)},
                                  nets=[net], device=torch.device("cpu"), num_samples=n)["p"]
        rows = datamodule.train_indices
        return estimate_transition(probs[rows].numpy(), filter_outlier=self.filter_outlier,
                                   percentile=self.percentile)

    def setup(self, stage: str) -> None:
        super().setup(stage)
        self.transition = self.trainer.strategy.broadcast(self.transition.to(self.device), src=0)
        self.register_buffer("inverse", torch.linalg.inv(self.transition.double()).float(), persistent=False)

    def training_loss(self, batch):
        x, y, index = batch
        logits = self.nets[0](x)
        self.observe(logits, y, index)
        if self.correction == "forward":
            return forward_corrected_ce(logits, y, self.transition).mean()
        return backward_corrected_ce(logits, y, self.inverse).mean()
