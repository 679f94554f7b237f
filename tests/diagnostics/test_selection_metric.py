"""SelectionQuality: select/ratio = kept / seen, select/precision = clean kept / kept ("label precision",
Han et al. 2018), select/recall = clean kept / clean seen."""
import math

import torch

from noisyrobust.diagnostics import SelectionQuality

#        0     1      2      3     4      5      6     7
KEPT = [True, True, False, True, False, False, True, False]
CLEAN = [True, False, True, True, False, True, True, False]
# seen 8, kept 4 (0, 1, 3, 6), clean kept 3 (0, 3, 6), clean 5 (0, 2, 3, 5, 6)


def b(xs):
    return torch.tensor(xs, dtype=torch.bool)


def values(metric):
    return {k: float(v) for k, v in metric.compute().items()}


def test_ratio_precision_recall_counted_by_hand():
    m = SelectionQuality()
    m.update(b(KEPT), b(CLEAN))
    got = values(m)
    assert set(got) == {"select/ratio", "select/precision", "select/recall"}
    assert math.isclose(got["select/ratio"], 4 / 8, rel_tol=1e-6)
    assert math.isclose(got["select/precision"], 3 / 4, rel_tol=1e-6)
    assert math.isclose(got["select/recall"], 3 / 5, rel_tol=1e-6)


def test_accumulates_counts_over_two_updates():
    m = SelectionQuality()
    m.update(b(KEPT), b(CLEAN))
    m.update(b([True, True]), b([False, False]))  # 2 seen, 2 kept, both noisy
    got = values(m)
    assert math.isclose(got["select/ratio"], 6 / 10, rel_tol=1e-6)
    assert math.isclose(got["select/precision"], 3 / 6, rel_tol=1e-6)
    assert math.isclose(got["select/recall"], 3 / 5, rel_tol=1e-6)


def test_reset_forgets_earlier_updates():
    m = SelectionQuality()
    m.update(b(KEPT), b(CLEAN))
    m.reset()
    m.update(b([True, False, False]), b([True, True, False]))
    got = values(m)
    assert math.isclose(got["select/ratio"], 1 / 3, rel_tol=1e-6)
    assert math.isclose(got["select/precision"], 1.0, rel_tol=1e-6)
    assert math.isclose(got["select/recall"], 1 / 2, rel_tol=1e-6)


def test_precision_is_nan_when_nothing_is_kept_and_recall_nan_without_clean_samples():
    m = SelectionQuality()
    m.update(b([False, False, False]), b([True, False, True]))
    got = values(m)
    assert got["select/ratio"] == 0.0
    assert math.isnan(got["select/precision"])
    assert got["select/recall"] == 0.0

    m = SelectionQuality()
    m.update(b([True, False]), b([False, False]))
    got = values(m)
    assert math.isclose(got["select/ratio"], 1 / 2, rel_tol=1e-6)
    assert got["select/precision"] == 0.0
    assert math.isnan(got["select/recall"])
