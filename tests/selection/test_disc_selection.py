"""DISC's per-sample sets and thresholds against the definitions written out row by row."""
import torch

from noisyrobust.selection.disc import disc_sets, threshold_update


def test_disc_sets_follow_the_written_rules_row_by_row():
    g = torch.Generator().manual_seed(1)
    n, c, sigma, cap = 200, 4, 0.3, 0.99
    logits = torch.randn(n, c, generator=g) * 3
    pw, ps = logits.softmax(1), (logits + torch.randn(n, c, generator=g)).softmax(1)  # peaked, views alike
    y, old = torch.randint(0, c, (n,), generator=g), torch.randint(0, c, (n,), generator=g)
    tw, ts = torch.rand(n, generator=g) * 0.5, torch.rand(n, generator=g) * 0.5
    sets = disc_sets(pw, ps, y, old, tw, ts, sigma=sigma, cap=cap)
    for i in range(n):
        w, s = pw[i, y[i]] > tw[i], ps[i, y[i]] > ts[i]
        mean = (pw[i] + ps[i]) / 2
        correct = bool(mean.max() > min((tw[i] + ts[i]) / 2 + sigma, cap)) and not (w or s)
        assert sets.clean[i] == (w and s) and sets.hard[i] == ((w or s) and not (w and s))
        assert sets.correction[i] == correct and sets.weak[i] == (correct or w or s)
        want = y[i] if (w or s) else (mean.argmax() if correct else old[i])
        assert sets.labels[i] == want
    assert sets.correction.any() and sets.hard.any() and sets.clean.any()


def test_thresholds_move_towards_each_samples_confidence():
    p = torch.tensor([[0.9, 0.1], [0.3, 0.7]])
    out = threshold_update(torch.tensor([0.5, 0.0]), p, momentum=0.99)
    assert torch.allclose(out, torch.tensor([0.99 * 0.5 + 0.01 * 0.9, 0.01 * 0.7]))
