"""The slingshot monitor: the cycle detector on written-out histories, and the norm logged in a real run."""
import csv

import numpy as np
import torch

from noisyrobust.memorization.slingshot import slingshot_events


def history(spikes, *, growth=True, n=3000):
    """Loss 1e-4 after step 100 with spikes to 1.0 at ``spikes``; the norm grows 30% in the 100 steps before
    each spike (when ``growth``) and stays flat otherwise."""
    steps = np.arange(n, dtype=float)
    loss = np.where(steps < 100, 1.0, 1e-4)
    log_norm = np.zeros(n)
    for s in spikes:
        loss[s] = 1.0
        if growth:
            log_norm[s - 100:s] += np.linspace(0, np.log(1.3), 100)
            log_norm[s:] += np.log(1.3)
    return steps, np.exp(log_norm), loss


def test_detector_counts_growth_spike_plateau_cycles():
    events = slingshot_events(*history([800, 1600, 2400]))
    assert [e["step"] for e in events] == [800, 1600, 2400]
    assert all(abs(e["norm_after"] / e["norm_before"] - 1.3) < 0.02 for e in events)


def test_spikes_without_norm_growth_and_before_the_fit_are_not_slingshots():
    assert slingshot_events(*history([800, 1600], growth=False)) == []
    steps, norms, loss = history([800])
    loss[:1000] = 1.0  # never below fitted_loss before step 1000: the spike at 800 is still fitting
    assert slingshot_events(steps, norms, loss) == []


def test_monitor_logs_the_last_layer_norm_of_the_run(fit):
    summary, out = fit("callbacks=[default,slingshot]", "diagnostics=none")
    rows = [r for r in csv.DictReader((out / "metrics.csv").open()) if r.get("train/last_layer_norm")]
    assert len(rows) == 20  # 2 epochs x 10 steps: every step
    weights = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    expected = weights["nets.0.net.3.weight"].norm().item()  # MLP 64-256-10: the last Linear
    assert abs(float(rows[-1]["train/last_layer_norm"]) - expected) < 1e-5
    assert summary["slingshot"] == {"events": 0, "event_steps": []}
