"""Training diagnostics when some clean labels are unknown (-1): those samples count in no share."""
import torch

from noisyrobust.diagnostics import MemorizationRates, SelectionQuality


def test_memorization_counts_only_samples_with_a_known_clean_label():
    m = MemorizationRates()
    given, clean = torch.tensor([0, 1, 2, 3]), torch.tensor([0, 2, -1, -1])
    m.update(torch.tensor([0, 1, 2, 0]), given, clean)
    got = {k: float(v) for k, v in m.compute().items()}
    assert got == {"mem/noisy_fit": 1.0, "mem/noisy_true": 0.0, "mem/clean_fit": 1.0}  # 1 noisy, 1 clean known


def test_selection_precision_and_recall_over_known_samples_ratio_over_all():
    s = SelectionQuality()
    kept = torch.tensor([True, True, True, False, False])
    is_clean = torch.tensor([True, False, False, True, False])
    known = torch.tensor([True, True, False, True, False])
    s.update(kept, is_clean, known)
    got = {k: round(float(v), 6) for k, v in s.compute().items()}
    assert got == {"select/ratio": 0.6, "select/precision": 0.5, "select/recall": 0.5}  # 3/5, 1/2, 1/2
