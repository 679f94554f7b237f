"""TrainingOutcomes: train/acc, mem/* and select/* from one on-device histogram, equal to the counts written
out by hand, and to MemorizationRates + SelectionQuality fed the same batches."""
import math

import pytest
import torch

from noisyrobust.diagnostics import MemorizationRates, SelectionQuality, TrainingOutcomes


def t(*values):
    return torch.tensor(values)


def test_shares_equal_the_counts_written_out():
    # sample:     0  1  2  3  4   5
    clean = t(0, 1, 2, 3, 4, -1)      # sample 5: clean label unknown
    given = t(0, 1, 5, 6, 4, 7)       # 2 and 3 noisy
    preds = t(0, 2, 5, 3, 4, 7)       # 0, 4 fit clean; 2 fits its wrong label; 3 predicts its true label
    kept = t(1, 1, 0, 1, 1, 1).bool()
    m = TrainingOutcomes()
    m.update(preds, given, clean, kept)
    out = m.compute()
    assert out["train/acc"].item() == pytest.approx(4 / 6)  # 0, 2, 4, 5 predicted as given
    assert out["mem/noisy_fit"].item() == pytest.approx(1 / 2)
    assert out["mem/noisy_true"].item() == pytest.approx(1 / 2)
    assert out["mem/clean_fit"].item() == pytest.approx(2 / 3)  # clean: 0, 1, 4
    assert out["select/ratio"].item() == pytest.approx(5 / 6)
    assert out["select/precision"].item() == pytest.approx(3 / 4)  # kept known: 0, 1, 3, 4; clean: 0, 1, 4
    assert out["select/recall"].item() == pytest.approx(3 / 3)


def test_a_further_selection_pass_counts_in_select_only():
    clean, given = t(0, 1, 2, 3), t(0, 1, 9, 3)
    m = TrainingOutcomes()
    m.update(t(0, 1, 2, 3), given, clean, t(1, 1, 0, 0).bool())
    m.update(None, given, clean, t(0, 0, 1, 1).bool(), selection_only=True)
    out, counts = m.compute(), m.counts()
    assert counts["samples"] == 4 and counts["seen"] == 8 and counts["kept"] == 4
    assert out["train/acc"].item() == pytest.approx(3 / 4)
    assert out["select/precision"].item() == pytest.approx(3 / 4)  # kept 0, 1 | 2 (noisy), 3
    assert out["select/recall"].item() == pytest.approx(3 / 6)  # clean seen: 3 per pass


def test_equals_the_separate_metrics_on_random_batches():
    g = torch.Generator().manual_seed(0)
    m, mem, sel = TrainingOutcomes(), MemorizationRates(), SelectionQuality()
    correct = total = 0
    for _ in range(5):
        clean = torch.randint(-1, 4, (64,), generator=g)
        given = torch.where(torch.rand(64, generator=g) < 0.4, torch.randint(0, 4, (64,), generator=g), clean.clamp(min=0))
        preds = torch.randint(0, 4, (64,), generator=g)
        kept = torch.rand(64, generator=g) < 0.6
        m.update(preds, given, clean, kept)
        mem.update(preds, given, clean)
        sel.update(kept, given == clean, clean >= 0)
        correct, total = correct + int((preds == given).sum()), total + 64
    out = m.compute()
    for key, value in {**mem.compute(), **sel.compute()}.items():
        assert out[key].item() == pytest.approx(value.item()), key
    assert out["train/acc"].item() == pytest.approx(correct / total)


def test_no_samples_gives_nan_and_reset_clears():
    m = TrainingOutcomes()
    assert math.isnan(m.compute()["train/acc"].item())
    m.update(t(1), t(1), t(1))
    m.reset()
    assert int(m.counts()["seen"]) == 0


def test_queued_batches_fold_to_the_counts_of_batch_by_batch_binning(monkeypatch):
    """Batches are queued and binned together (every FOLD_EVERY batches and before any read): the counts
    equal those of binning each batch as it comes, over mixed kinds of batches and across a fold."""
    monkeypatch.setattr(TrainingOutcomes, "FOLD_EVERY", 3)
    g = torch.Generator().manual_seed(1)
    queued, direct = TrainingOutcomes(), TrainingOutcomes()
    for step in range(8):
        clean = torch.randint(-1, 4, (16,), generator=g)
        given, preds = torch.randint(0, 4, (16,), generator=g), torch.randint(0, 4, (16,), generator=g)
        kept = torch.rand(16, generator=g) < 0.5
        args = [(preds, given, clean, None if step % 3 == 0 else kept, False), (None, given, clean, ~kept, True)]
        for p, gv, c, k, only in args[:1 + step % 2]:
            queued.update(p, gv, c, k, selection_only=only)
            direct._bin(p, gv, c, k, only)  # the histogram of this one batch, now
    assert sum(map(len, queued._queue.values())) < 3  # folded along the way, the rest still queued
    assert torch.equal(queued.counts()["seen"], direct.counts()["seen"])
    assert torch.equal(queued.hist, direct.hist) and not queued._queue
