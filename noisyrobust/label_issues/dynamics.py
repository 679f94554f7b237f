"""Training dynamics per sample, read off the training step's own forward (no second pass): each step
stores its logits (one scatter); at the end of the epoch the loss, margin, correctness and probabilities
of every sample are derived from them at once and folded into running aggregates of O(N) memory, from which
the free scores (mean loss, AUM, forgetting events, first-learned epoch) are computed."""
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from noisyrobust.per_sample.state import PerSampleState
from noisyrobust.label_issues.scores import area_under_margin, first_learned_epoch, forgetting_events, margins


class TrainingDynamics(torch.nn.Module):
    """Per-sample running aggregates over presentations (one per epoch a sample is trained on).

    ``record(index, logits, given, epoch)`` queues this epoch's logits (no tensor op, no host sync); they
    are written to the epoch's rows together (one scatter for up to ``WRITE_EVERY`` batches, a row's last
    record winning as if written batch by batch); ``end_epoch`` merges them across DDP ranks and folds them
    into the aggregates, identically on every rank. With ``keep_trajectories`` the per-epoch loss, margin and correctness are also kept (on the CPU)."""

    def __init__(self, num_samples: int, num_classes: int, *, keep_trajectories: bool = False):
        super().__init__()
        self.num_samples, self.num_classes, self.keep_trajectories = num_samples, num_classes, keep_trajectories
        self.epoch = PerSampleState(num_samples, trailing={"logits": (num_classes,)}, logits=torch.float32,
                                    given=torch.long)
        zeros = {"presentations": torch.int32, "loss_sum": torch.float64, "margin_sum": torch.float64,
                 "first_margin": torch.float32, "forgetting": torch.int32}
        for name, dtype in zeros.items():
            self.register_buffer(name, torch.zeros(num_samples, dtype=dtype), persistent=False)
        self.register_buffer("prob_sum", torch.zeros(num_samples, num_classes, dtype=torch.float32),
                             persistent=False)
        self.register_buffer("last_correct", torch.zeros(num_samples, dtype=torch.bool), persistent=False)
        self.register_buffer("first_learned", torch.full((num_samples,), -1, dtype=torch.int32), persistent=False)
        self.pending_epoch: Optional[int] = None  # an epoch recorded but not folded yet
        self._queue: List[tuple] = []  # (index, logits, given) of recorded batches not written to ``epoch`` yet
        self.trajectories: Dict[str, List[np.ndarray]] = {"epoch": [], "loss": [], "margin": [], "correct": []}
        self.peak: Optional[dict] = None  # the aggregates as they stood at the noisy validation accuracy's peak
        self.peak_epoch, self.peak_accuracy = -1, float("-inf")

    WRITE_EVERY = 256  # queued batches: bounds the memory the queue holds on to

    @torch.no_grad()
    def record(self, index: torch.Tensor, logits: torch.Tensor, given: torch.Tensor, epoch: int) -> None:
        self._queue.append((index, logits.detach(), given))
        self.pending_epoch = epoch
        if len(self._queue) >= self.WRITE_EVERY:
            self._write_queue()

    @torch.no_grad()
    def _write_queue(self) -> None:
        """Write the queued batches to the epoch's rows in one scatter; of a row recorded twice, the later."""
        if not self._queue:
            return
        index, logits, given = (torch.cat(t) for t in zip(*self._queue))
        self._queue = []
        order = torch.arange(len(index), device=index.device)
        latest = torch.full((self.num_samples,), -1, dtype=order.dtype, device=index.device)
        latest.scatter_reduce_(0, index, order, reduce="amax")
        last = latest[index]  # every write of a row carries that row's last values: their order cannot matter
        self.epoch.write(index, logits=logits[last], given=given[last])

    @torch.no_grad()
    def end_epoch(self, world_size: int = 1) -> None:
        """Merge the epoch's rows across the ``world_size`` ranks and fold them in (a no-op when nothing is
        pending). Every rank must call it at the same point: it is a collective under DDP."""
        if self.pending_epoch is None:
            return
        self._write_queue()
        epoch, self.pending_epoch = self.pending_epoch, None
        i = self.epoch.merge(world_size)
        logits, given = self.epoch.logits[i], self.epoch.given[i]
        loss = F.cross_entropy(logits, given, reduction="none")
        margin, correct, prob = margins(logits, given), logits.argmax(1) == given, logits.softmax(1)
        first = self.presentations[i] == 0
        self.first_margin[i] = torch.where(first, margin, self.first_margin[i])
        self.forgetting[i] += (~first & self.last_correct[i] & ~correct).int()
        self.first_learned[i] = torch.where((self.first_learned[i] < 0) & correct,
                                            torch.full_like(self.first_learned[i], epoch), self.first_learned[i])
        self.last_correct[i] = correct
        self.presentations[i] += 1
        self.loss_sum[i] += loss.double()
        self.margin_sum[i] += margin.double()
        self.prob_sum[i] += prob
        if self.keep_trajectories:
            for name, value in (("loss", loss), ("margin", margin), ("correct", correct)):
                row = torch.full((self.num_samples,), float("nan"))
                row[i.cpu()] = value.float().cpu()
                self.trajectories[name].append(row.numpy())
            self.trajectories["epoch"].append(int(epoch))

    AGGREGATES = ("presentations", "loss_sum", "margin_sum", "first_margin", "forgetting", "prob_sum",
                  "last_correct", "first_learned")

    @torch.no_grad()
    def observe_validation(self, accuracy: float, epoch: int) -> None:
        """The noisy validation split's accuracy after ``epoch``: at a new maximum the aggregates are copied.
        That peak marks the onset of memorization without clean labels: accuracy on noisy held-out labels
        rises while the network learns the clean pattern and falls once it fits the wrong training labels
        (Arpit et al. 2017; Pleiss et al. 2020 average margins only before memorization)."""
        if accuracy > self.peak_accuracy:
            self.peak = {n: getattr(self, n).clone() for n in self.AGGREGATES}
            self.peak_epoch, self.peak_accuracy = int(epoch), float(accuracy)

    def scores(self) -> Dict[str, np.ndarray]:
        """The free scores, each oriented higher = more likely mislabelled; NaN for never-trained rows; and
        each again as ``early_<score>`` over the epochs up to the validation peak (all epochs without one)."""
        out = self._scores(self.presentations, self.loss_sum, self.margin_sum, self.first_margin, self.forgetting,
                           self.first_learned)
        a = self.peak or {n: getattr(self, n) for n in self.AGGREGATES}
        early = self._scores(a["presentations"], a["loss_sum"], a["margin_sum"], a["first_margin"], a["forgetting"],
                             a["first_learned"])
        return {**out, **{f"early_{k}": v for k, v in early.items()}}

    @staticmethod
    def _scores(presentations, loss_sum, margin_sum, first_margin, forgetting, first_learned) -> Dict[str, np.ndarray]:
        unseen = presentations == 0
        out = {"loss": loss_sum / presentations.double(),
               "aum": -area_under_margin(margin_sum, first_margin, presentations),
               "forgetting": forgetting_events(forgetting, first_learned, presentations).double(),
               "first_learned": first_learned_epoch(first_learned, presentations).double()}
        return {k: v.masked_fill(unseen, float("nan")).cpu().numpy() for k, v in out.items()}

    def mean_probabilities(self, *, early: bool = False) -> np.ndarray:
        """Mean softmax over the presentations (rows of never-trained samples are NaN); ``early``: over the
        epochs up to the validation peak, before the wrong labels are fitted."""
        a = (self.peak or {"prob_sum": self.prob_sum, "presentations": self.presentations}) if early else \
            {"prob_sum": self.prob_sum, "presentations": self.presentations}
        return (a["prob_sum"] / a["presentations"].double()[:, None]).cpu().numpy()

    # -- checkpoints: the aggregates, any epoch not folded yet, and the trajectories --------------------
    def state(self) -> dict:
        names = self.AGGREGATES
        self._write_queue()
        pending = {n: getattr(self.epoch, n).cpu() for n in (*self.epoch.names, "seen")}
        trajectories = {k: torch.as_tensor(np.stack(v)) if k != "epoch" and v else list(v)
                        for k, v in self.trajectories.items()}  # tensors: checkpoints load with weights_only
        return {"aggregates": {n: getattr(self, n).cpu() for n in names}, "pending": pending,
                "pending_epoch": self.pending_epoch, "trajectories": trajectories,
                "peak": None if self.peak is None else {n: v.cpu() for n, v in self.peak.items()},
                "peak_epoch": self.peak_epoch, "peak_accuracy": self.peak_accuracy}

    def load_state(self, state: dict) -> None:
        for name, value in state["aggregates"].items():
            getattr(self, name).copy_(value)
        for name, value in state["pending"].items():
            getattr(self.epoch, name).copy_(value)
        self.pending_epoch, self._queue = state["pending_epoch"], []
        device = self.presentations.device
        self.peak = None if state.get("peak") is None else {n: v.to(device) for n, v in state["peak"].items()}
        self.peak_epoch, self.peak_accuracy = state.get("peak_epoch", -1), state.get("peak_accuracy", float("-inf"))
        self.trajectories = {k: [r.numpy() for r in v] if torch.is_tensor(v) else list(v)
                             for k, v in state["trajectories"].items()}
