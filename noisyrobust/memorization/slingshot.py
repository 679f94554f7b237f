"""The slingshot mechanism (Thilak et al. 2022): late in training with adaptive optimizers, cycles of rapid
growth of the last layer's weight norm -> a training-loss spike -> a norm plateau.

``SlingshotMonitor`` keeps (step, ||W_last||_F, loss) of every step on the training device (no host sync
and no logging call in the step); at each epoch end the history is read once, every step's norm is written
to the loggers as ``train/last_layer_norm`` and ``mem/slingshot_events`` counts the cycles found by
``slingshot_events`` over the whole history (our detector: the paper gives none; vectorized, so that running it
every epoch of a 3x10^4-step run costs little).
"""
from typing import List

import numpy as np
import torch
from torch import nn

from noisyrobust.callbacks import SummaryCallback
from noisyrobust.errors import UserError


def last_linear(net: nn.Module) -> nn.Linear:
    """The classification layer: the last nn.Linear of ``net``."""
    return [m for m in net.modules() if isinstance(m, nn.Linear)][-1]


def slingshot_events(steps: np.ndarray, norms: np.ndarray, losses: np.ndarray, *, fitted_loss: float = 1e-2,
                     spike_factor: float = 10.0, window: int = 100, loss_floor: float = 1e-3,
                     growth_window: int = 1000, min_growth: float = 0.01) -> List[dict]:
    """Slingshot cycles in per-step histories of ||W_last||_F and the training loss.

    Thilak et al. (2022, Fig. 1) describe each slingshot as "a period of rapid growth of the last-layer
    weight norm -> an ensuing training-loss spike -> a norm plateau", repeating late in training, once the
    training set is fitted. The paper gives no detection rule; this one (ours) reads that sentence off the
    logs:

    - armed: the loss L has fallen below ``fitted_loss`` (the training set is fitted) since the last spike;
    - spike at step t (while armed): L_t > ``spike_factor`` x median(L_{t-window..t-1}) and L_t > ``loss_floor``;
      the spike disarms the detector until the loss is fitted again at least ``window`` steps later (the
      recovery, which can oscillate around ``fitted_loss``, is part of the same event);
    - growth before: N_t / N_{t-G} - 1 >= ``min_growth`` (G = ``growth_window``). On real curves (Adam on 200
      digits) the norm grows for ~10^3 steps, fast at first and slowing just before the spike, so a short
      window misses it; the first cycle grew the norm 61% over its last 10^3 steps, the second, at a norm
      already 6x its initial value, only 2.1%: what marks it is the plateau after;
    - plateau after: the per-step log-growth over the (up to G) steps after t is below half that before;
      a spike with fewer than ``window`` steps after it is not judged yet.

    Returns one dict per slingshot: step, norm G steps before / at / G steps after (or at the end), the
    spike's loss and the median loss before it.
    """
    events: List[dict] = []
    n = len(losses)
    below = np.flatnonzero(losses < fitted_loss)
    if len(below) == 0 or n <= window:
        return events
    # every test but the arming is vectorized: the monitor runs this over the whole history every epoch
    t_all = np.flatnonzero(losses > loss_floor)
    t_all = t_all[(t_all > below[0]) & (t_all >= window)]
    bases = np.median(np.lib.stride_tricks.sliding_window_view(losses, window)[t_all - window], axis=1)
    spiking = losses[t_all] > spike_factor * bases
    armed_from = int(below[0])
    for t, base in zip(t_all[spiking], bases[spiking]):
        if t <= armed_from:  # still recovering from the previous spike
            continue
        refit = below[np.searchsorted(below, t + window):]
        armed_from = int(refit[0]) if len(refit) else n  # the next spike needs the loss fitted again
        if n - 1 - t < window:
            continue
        start, end = max(0, t - growth_window), min(n - 1, t + growth_window)
        before = np.log(norms[t] / norms[start])
        after = np.log(norms[end] / norms[t])
        if np.exp(before) - 1 >= min_growth and after / (end - t) < 0.5 * before / (t - start):
            events.append({"step": int(steps[t]), "norm_before": float(norms[start]), "norm": float(norms[t]),
                           "norm_after": float(norms[end]), "loss": float(losses[t]), "loss_base": float(base)})
    return events


class SlingshotMonitor(SummaryCallback):
    """``train/last_layer_norm`` of every step and ``mem/slingshot_events`` every epoch (first network).

    The detector reads the whole history, so it reruns only once ``detect_every`` new steps have come (and
    at the end of training): a 5x10^4-step history costs it ~8 ms, about 10% of an 8-step epoch if run every
    epoch. The count lags by at most that many steps; a spike is judged ``window`` steps after it anyway.
    It reads the network after every optimizer step, so a run with it does not fuse steps."""

    needs_every_batch = True  # one on_train_batch_end per optimizer step: fused_steps stays 1

    def __init__(self, detect_every: int = 500, **detector):
        if detect_every < 1:
            raise UserError(f"callbacks.slingshot.detect_every={detect_every} must be a number of steps >= 1")
        self.detect_every, self.detector = detect_every, detector
        self._detected_at = 0  # history length at the last detection
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
        if len(self.history["step"]) - self._detected_at >= self.detect_every:
            self.detect()
        pl_module.log("mem/slingshot_events", float(len(self.events)), sync_dist=True)

    def on_train_end(self, trainer, pl_module) -> None:
        self.detect()  # the summary counts over every step

    def detect(self) -> None:
        self._detected_at = len(self.history["step"])
        self.events = slingshot_events(self.history["step"], self.history["norm"], self.history["loss"],
                                       **self.detector)

    def state_dict(self) -> dict:
        return {k: v.copy() for k, v in self.history.items()}

    def load_state_dict(self, state_dict: dict) -> None:
        self.history = {k: np.asarray(v) for k, v in state_dict.items()}

    def summary(self) -> dict:
        return {"slingshot": {"events": len(self.events), "event_steps": [e["step"] for e in self.events]}}
