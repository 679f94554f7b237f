"""The slingshot mechanism (Thilak et al. 2022): late in training with adaptive optimizers, cycles of rapid
growth of the last layer's weight norm -> a training-loss spike -> a norm plateau.

``SlingshotMonitor`` keeps (step, ||W_last||_F, loss) of every step on the training device (no host sync
and no logging call in the step); at each epoch end the history is read once, every step's norm is written
to the loggers as ``train/last_layer_norm`` and ``mem/slingshot_events`` counts the cycles found by ``slingshot_events`` (our detector: the paper gives none).
"""
from typing import List

import numpy as np
import torch
from torch import nn

from noisyrobust.callbacks import SummaryCallback


def last_linear(net: nn.Module) -> nn.Linear:
    """The classification layer: the last nn.Linear of ``net``."""
    return [m for m in net.modules() if isinstance(m, nn.Linear)][-1]


def slingshot_events(steps: np.ndarray, norms: np.ndarray, losses: np.ndarray, *, fitted_loss: float = 1e-2,
                     spike_factor: float = 10.0, window: int = 100, loss_floor: float = 1e-3,
                     min_growth: float = 0.05, merge: int = 100) -> List[dict]:
    """Norm growth -> loss spike -> plateau cycles in per-step histories (DESIGN, MEMORIZATION.md §4).

    After the loss first falls below ``fitted_loss``, step t is a spike if L_t > ``spike_factor`` x the
    median loss of the ``window`` steps before it and L_t > ``loss_floor``; spikes closer than ``merge``
    steps are one. A spike is a slingshot when the norm grew by at least ``min_growth`` (relative) over
    the ``window`` steps before it and grows less over the ``window`` steps after it than before (the
    plateau). Returns one dict per event: step, norm before/at/after, loss spike height.
    """
    events: List[dict] = []
    below = np.flatnonzero(losses < fitted_loss)
    if len(below) == 0:
        return events
    start = max(int(below[0]), window)
    last_spike = -10**9
    for t in range(start, len(losses)):
        base = np.median(losses[t - window:t])
        if not (losses[t] > spike_factor * base and losses[t] > loss_floor) or t - last_spike < merge:
            continue
        last_spike = t
        before = norms[t] / norms[t - window] - 1.0
        after_end = min(len(norms) - 1, t + window)
        after = norms[after_end] / norms[t] - 1.0
        if before >= min_growth and after < before:
            events.append({"step": int(steps[t]), "norm_before": float(norms[t - window]), "norm": float(norms[t]),
                           "norm_after": float(norms[after_end]), "loss": float(losses[t]), "loss_base": float(base)})
    return events


class SlingshotMonitor(SummaryCallback):
    """``train/last_layer_norm`` of every step and ``mem/slingshot_events`` every epoch (first network)."""

    def __init__(self, **detector):
        self.detector = detector
        self.steps, self.norms, self.losses = [], [], []  # device tensors, read at epoch end
        self.history = {"step": np.zeros(0), "norm": np.zeros(0), "loss": np.zeros(0)}
        self.events: List[dict] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is None:
            return
        norm = last_linear(pl_module.nets[0]).weight.detach().norm()
        self.norms.append(norm)
        self.losses.append(loss.detach().float())
        self.steps.append(trainer.global_step)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if self.norms:  # one host read per epoch; every step's norm goes to the loggers from here
            h = self.history
            steps, norms = np.asarray(self.steps, dtype=np.float64), torch.stack(self.norms).double().cpu().numpy()
            h["step"], h["norm"] = np.concatenate([h["step"], steps]), np.concatenate([h["norm"], norms])
            h["loss"] = np.concatenate([h["loss"], torch.stack(self.losses).double().cpu().numpy()])
            self.steps, self.norms, self.losses = [], [], []
            if trainer.is_global_zero:
                for logger in trainer.loggers:
                    for step, norm in zip(steps, norms):
                        logger.log_metrics({"train/last_layer_norm": float(norm)}, step=int(step))
        self.events = slingshot_events(self.history["step"], self.history["norm"], self.history["loss"],
                                       **self.detector)
        pl_module.log("mem/slingshot_events", float(len(self.events)))

    def state_dict(self) -> dict:
        return {k: v.copy() for k, v in self.history.items()}

    def load_state_dict(self, state_dict: dict) -> None:
        self.history = {k: np.asarray(v) for k, v in state_dict.items()}

    def summary(self) -> dict:
        return {"slingshot": {"events": len(self.events), "event_steps": [e["step"] for e in self.events]}}
