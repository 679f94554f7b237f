"""Training-time diagnostics as torchmetrics: sum states, so they are exact under DDP.

Each is read off the predictions the method already made for its update step, so measuring costs no
second pass over the data.
"""
from typing import Optional

import torch
from torchmetrics import Metric


def _share(part: torch.Tensor, whole: torch.Tensor) -> torch.Tensor:
    return part.float() / whole.float() if whole > 0 else torch.tensor(float("nan"), device=part.device)


def memorization_shares(noisy, noisy_fit, noisy_true, clean, clean_fit) -> dict:
    """``mem/noisy_fit`` = noisy_fit / noisy, ``mem/noisy_true`` = noisy_true / noisy, ``mem/clean_fit`` =
    clean_fit / clean (counts of samples; NaN where the denominator is 0)."""
    return {"mem/noisy_fit": _share(noisy_fit, noisy), "mem/noisy_true": _share(noisy_true, noisy),
            "mem/clean_fit": _share(clean_fit, clean)}


def selection_shares(seen, kept, kept_known, kept_clean, clean) -> dict:
    """``select/ratio`` = kept / seen, ``select/precision`` = kept_clean / kept_known, ``select/recall`` =
    kept_clean / clean (counts of samples; NaN where the denominator is 0)."""
    return {"select/ratio": _share(kept, seen), "select/precision": _share(kept_clean, kept_known),
            "select/recall": _share(kept_clean, clean)}


class MemorizationRates(Metric):
    """Of noisy-labelled samples (given != clean): share predicted as the given wrong label
    (``mem/noisy_fit``) and as the true label (``mem/noisy_true``); of clean-labelled samples, share
    predicted correctly (``mem/clean_fit``). Arpit et al. 2017 / Liu et al. 2020 ("early learning").
    Samples whose clean label is unknown (-1, most of Clothing1M) count in none of them."""

    full_state_update = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for name in ("noisy", "noisy_fit", "noisy_true", "clean", "clean_fit"):
            self.add_state(name, default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, given: torch.Tensor, clean: torch.Tensor) -> None:
        known = clean >= 0
        is_noisy, is_clean = known & (given != clean), given == clean
        self.noisy += is_noisy.sum()
        self.noisy_fit += (is_noisy & (preds == given)).sum()
        self.noisy_true += (is_noisy & (preds == clean)).sum()
        self.clean += is_clean.sum()
        self.clean_fit += (is_clean & (preds == given)).sum()

    def compute(self) -> dict:
        return memorization_shares(self.noisy, self.noisy_fit, self.noisy_true, self.clean, self.clean_fit)


class SelectionQuality(Metric):
    """``select/ratio`` = kept / seen; ``select/precision`` (label precision, Han et al. 2018) = clean
    among kept / kept; ``select/recall`` = clean kept / clean seen. Precision and recall count only the
    samples whose clean label is known (all, unless ``known`` says otherwise: most of Clothing1M's are not)."""

    full_state_update = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for name in ("seen", "kept", "kept_known", "kept_clean", "clean"):
            self.add_state(name, default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, kept: torch.Tensor, is_clean: torch.Tensor, known: Optional[torch.Tensor] = None) -> None:
        """``kept``, ``is_clean`` and ``known`` (default: all True) are boolean masks over the batch."""
        if known is None:
            known = torch.ones_like(kept)
        is_clean = is_clean & known
        self.seen += kept.numel()
        self.kept += kept.sum()
        self.kept_known += (kept & known).sum()
        self.kept_clean += (kept & is_clean).sum()
        self.clean += is_clean.sum()

    def compute(self) -> dict:
        return selection_shares(self.seen, self.kept, self.kept_known, self.kept_clean, self.clean)


class TrainingOutcomes(Metric):
    """``train/acc``, the ``mem/*`` rates and the ``select/*`` quality of MemorizationRates and
    SelectionQuality, from one histogram: each sample of a batch falls in one of 64 bins by six facts
    (clean label known, given label clean, prediction = given, prediction = clean, kept, a further
    selection pass), and the shares are read off the counts once per epoch. A training step only queues
    its tensors (no tensor op, no host sync); the queued batches are binned together, a dozen tensor ops
    for up to ``FOLD_EVERY`` batches, before anything reads the counts (``compute``, ``counts``, a DDP sync).

    ``update(preds, given, clean, kept)`` records a batch: accuracy against the given labels and
    memorization from ``preds``, selection quality of ``kept`` (all kept if None). Two-network methods
    score each further network's selection over the same batch with ``update(None, given, clean, kept2,
    selection_only=True)``: it counts in ``select/*`` only (pooled over the passes).
    """

    full_state_update = False
    FACTS = ("known", "label_clean", "fit", "true", "kept", "selection_only")
    FOLD_EVERY = 256  # queued batches: bounds the memory the queue holds on to

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.add_state("hist", default=torch.zeros(2 ** len(self.FACTS), dtype=torch.long), dist_reduce_fx="sum")
        self.register_buffer("bins", torch.arange(2 ** len(self.FACTS)), persistent=False)
        self.register_buffer("weights", 2 ** torch.arange(len(self.FACTS)), persistent=False)
        self._queue: dict = {}  # (has preds, has kept, selection_only) -> queued batches' tensors

    def update(self, preds: Optional[torch.Tensor], given: torch.Tensor, clean: torch.Tensor,
               kept: Optional[torch.Tensor] = None, *, selection_only: bool = False) -> None:
        kind = (preds is not None, kept is not None, selection_only)
        self._queue.setdefault(kind, []).append((preds, given, clean, kept))
        if sum(map(len, self._queue.values())) >= self.FOLD_EVERY:
            self.fold()

    def fold(self) -> None:
        """Bin the queued batches into ``hist`` (batches of one kind concatenated: one pass per kind)."""
        queue, self._queue = self._queue, {}
        for (has_preds, has_kept, selection_only), batches in queue.items():
            preds, given, clean, kept = (torch.cat(t) if t[0] is not None else None for t in zip(*batches))
            self._bin(preds, given, clean, kept, selection_only)

    def _bin(self, preds, given, clean, kept, selection_only: bool) -> None:
        no = torch.zeros_like(given, dtype=torch.bool)
        facts = torch.stack([clean >= 0, given == clean, no if preds is None else preds == given,
                             no if preds is None else preds == clean, ~no if kept is None else kept,
                             ~no if selection_only else no], 1)
        code = (facts.long() * self.weights).sum(1)
        if code.is_cuda:  # index_add_ has no deterministic CUDA kernel; this one needs no host sync either
            self.hist.add_((code[:, None] == self.bins).sum(0))
        else:
            self.hist.index_add_(0, code, torch.ones_like(code))

    def sync(self, *args, **kwargs) -> None:  # compute() syncs first: the queue joins the counts before
        self.fold()
        super().sync(*args, **kwargs)

    def reset(self) -> None:
        self._queue = {}
        super().reset()

    def counts(self) -> dict:
        """Named counts of samples (first passes only, except the selection counts, which pool every pass)."""
        self.fold()
        h, bins = self.hist, self.bins
        known, label_clean, fit, true, kept, extra = ((bins >> i) & 1 == 1 for i in range(len(self.FACTS)))
        first = ~extra

        def n(mask):
            return (h * mask).sum()

        noisy, clean = first & known & ~label_clean, first & label_clean
        return {"samples": n(first), "fit": n(first & fit), "noisy": n(noisy), "noisy_fit": n(noisy & fit),
                "noisy_true": n(noisy & true), "clean": n(clean), "clean_fit": n(clean & fit),
                "seen": n(bins >= 0), "kept": n(kept), "kept_known": n(kept & known),
                "kept_clean": n(kept & label_clean & known), "clean_seen": n(label_clean & known)}

    def compute(self) -> dict:
        c = self.counts()
        return {"train/acc": _share(c["fit"], c["samples"]),
                **memorization_shares(c["noisy"], c["noisy_fit"], c["noisy_true"], c["clean"], c["clean_fit"]),
                **selection_shares(c["seen"], c["kept"], c["kept_known"], c["kept_clean"], c["clean_seen"])}
