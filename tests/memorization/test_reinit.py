"""Re-initialization callbacks: shrink & perturb and layer-wise, on their formulas and through the CLI."""
import pytest
import torch
from torch import nn

from conftest import run_cli
from noisyrobust.memorization.reinit import fresh_copy, layers_with_weights, layerwise_reinit, shrink_perturb


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))


def test_shrink_perturb_mixes_the_weights_with_a_fresh_initialization():
    a = net()
    before = [p.clone() for p in a.parameters()]
    fresh = fresh_copy(a, seed=5)
    assert all(not torch.equal(p, q) for p, q in zip(a.parameters(), fresh.parameters()))
    shrink_perturb(a, fresh, shrink=0.4, perturb=0.1)
    for p, b, q in zip(a.parameters(), before, fresh.parameters()):
        assert torch.allclose(p, 0.4 * b + 0.1 * q)
    # a fresh copy is the same for the same seed: runs and resumes re-initialize alike
    assert all(torch.equal(p, q) for p, q in zip(fresh_copy(a, 5).parameters(), fresh_copy(a, 5).parameters()))


def test_layerwise_keeps_lower_layers_at_their_init_norms_and_reinitializes_the_rest():
    a = net()
    init_norms = [[p.norm() for p in m.parameters(False)] for m in layers_with_weights(a)]
    with torch.no_grad():
        for p in a.parameters():
            p.mul_(3.0).add_(0.1)  # "training" moved every layer
    kept_before = [p.clone() for p in layers_with_weights(a)[0].parameters(False)]
    fresh = fresh_copy(a, seed=1)
    layerwise_reinit(a, fresh, kept=1, init_norms=init_norms)
    layers, fresh_layers = layers_with_weights(a), layers_with_weights(fresh)
    for p, b, n in zip(layers[0].parameters(False), kept_before, init_norms[0]):
        assert torch.allclose(p.norm(), n) and torch.allclose(p / p.norm(), b / b.norm())  # same direction
    for m, f in zip(layers[1:], fresh_layers[1:]):
        assert all(torch.equal(p, q) for p, q in zip(m.parameters(False), f.parameters(False)))


def test_reinit_runs_and_a_generation_as_long_as_the_run_is_refused(tmp_path):
    ok = run_cli(tmp_path / "ok", "callbacks=[none,reinit]", "callbacks.reinit.generation=1",
                 "callbacks.reinit.method=layerwise", "diagnostics=none")
    assert ok.returncode == 0, ok.stderr[-2000:]
    bad = run_cli(tmp_path / "bad", "callbacks=[none,reinit]", "callbacks.reinit.generation=2", "diagnostics=none")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "callbacks.reinit.generation=2 epochs is not shorter than the run" in bad.stderr.strip().splitlines()[-1]
