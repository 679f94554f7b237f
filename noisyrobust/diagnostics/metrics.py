"""Training-time diagnostics as torchmetrics: sum states, so they are exact under DDP.

Each is read off the predictions the method already made for its update step, so measuring costs no
second pass over the data.
"""
from typing import Optional

import torch
from torchmetrics import Metric


def _share(part: torch.Tensor, whole: torch.Tensor) -> torch.Tensor:
    return part.float() / whole.float() if whole > 0 else torch.tensor(float("nan"), device=part.device)


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
        return {"mem/noisy_fit": _share(self.noisy_fit, self.noisy),
                "mem/noisy_true": _share(self.noisy_true, self.noisy),
                "mem/clean_fit": _share(self.clean_fit, self.clean)}


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
        return {"select/ratio": _share(self.kept, self.seen),
                "select/precision": _share(self.kept_clean, self.kept_known),
                "select/recall": _share(self.kept_clean, self.clean)}
