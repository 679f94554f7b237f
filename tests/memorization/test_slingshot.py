"""The slingshot monitor: the cycle detector on written-out histories, and the norm logged in a real run."""
import csv

import numpy as np
import torch

from noisyrobust.memorization.slingshot import SlingshotMonitor, slingshot_events


def history(spikes, *, growth=1.6, rise=1500, n=10000, plateau=True):
    """Shaped like the real curves (Adam on 200 digits): the loss fitted (1e-8) from step 200; before each
    spike the last-layer norm grows by ``growth`` over ``rise`` steps, fast at first and slowing down (only
    ~1% over the last 100 steps), then stays flat (``plateau``) or keeps growing; at each spike the loss jumps
    to 10 and recovers over ~60 steps, crossing 1e-2 back and forth on the way down."""
    steps = np.arange(n, dtype=float)
    loss = np.where(steps < 200, 1.0, 1e-8)
    log_norm = np.zeros(n)
    for s in spikes:
        shape = 1 - (1 - np.linspace(0, 1, rise)) ** 3  # concave: the growth slows before the spike
        log_norm[s - rise:s] += np.log(growth) * shape
        log_norm[s:] += np.log(growth) if plateau else np.log(growth) * (1 + (steps[s:] - s) / rise)
        recovery = 10.0 * 0.7 ** np.arange(60)
        recovery[20:30] = [2e-2, 5e-3] * 5  # oscillating around fitted_loss while recovering
        loss[s:s + 60] = np.maximum(recovery, 1e-8)[:n - s]
    return steps, np.exp(log_norm), loss


def test_detector_counts_growth_spike_plateau_cycles():
    steps, norms, loss = history([3000, 6000, 9000])
    assert norms[2999] / norms[2899] < 1.02  # the growth has nearly stopped in the 100 steps before the spike
    events = slingshot_events(steps, norms, loss)
    assert [e["step"] for e in events] == [3000, 6000, 9000]  # one event per spike, its recovery included
    # the norm 1,000 steps before -> at the spike: the share of log(1.6) grown over the last 1000 of 1500 steps
    share = 1 - (1 - 500 / 1499) ** 3
    assert all(abs(e["norm"] / e["norm_before"] - 1.6 ** (1 - share)) < 1e-3 for e in events)
    assert all(e["loss"] == 10.0 and e["loss_base"] == 1e-8 for e in events)


def test_spikes_without_growth_or_plateau_before_the_fit_or_at_the_end_are_not_slingshots():
    assert slingshot_events(*history([3000, 6000], growth=1.005)) == []  # 0.5% growth: no runaway norm
    assert slingshot_events(*history([3000], plateau=False)) == []  # the norm keeps growing as fast after
    steps, norms, loss = history([3000])
    loss[:3100] = 1.0  # not yet fitted before the spike: it is part of fitting, not a slingshot
    assert slingshot_events(steps, norms, loss) == []
    steps, norms, loss = history([9950])  # fewer than `window` steps after the spike: not judged yet
    assert slingshot_events(steps, norms, loss) == []
    assert [e["step"] for e in slingshot_events(*history([9800]))] == [9800]


def test_monitor_logs_the_last_layer_norm_of_the_run(fit):
    summary, out = fit("callbacks=[default,slingshot]", "diagnostics=none")
    rows = [r for r in csv.DictReader((out / "metrics.csv").open()) if r.get("train/last_layer_norm")]
    assert len(rows) == 20  # 2 epochs x 10 steps: every step
    weights = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    expected = weights["nets.0.net.3.weight"].norm().item()  # MLP 64-256-10: the last Linear
    assert abs(float(rows[-1]["train/last_layer_norm"]) - expected) < 1e-5
    assert summary["slingshot"] == {"events": 0, "event_steps": []}


def test_the_monitor_reruns_the_detector_every_detect_every_steps_and_at_the_end():
    steps, norms, loss = history([3000, 6000], n=9500)
    monitor, logged = SlingshotMonitor(detect_every=5000), []

    class Module:
        def log(self, key, value, **kwargs):
            logged.append(value)

    class Trainer:
        is_global_zero, loggers = False, []

    for start in range(0, 9500, 1000):  # epochs of 1,000 steps (the last one 500)
        part = slice(start, start + 1000)
        monitor.steps = steps[part].tolist()
        monitor.norms = [torch.tensor(v) for v in norms[part]]
        monitor.losses = [torch.tensor(v) for v in loss[part]]
        monitor.on_train_epoch_end(Trainer(), Module())
    # detected at 5,000 steps (the spike at 3,000 judged) and not again before 10,000: the count lags
    assert logged == [0.0] * 4 + [1.0] * 6
    monitor.on_train_end(Trainer(), Module())  # the end reads every step
    assert [e["step"] for e in monitor.events] == [3000, 6000]


def test_detect_every_below_one_step_is_refused():
    import pytest
    from noisyrobust.errors import UserError
    with pytest.raises(UserError, match="callbacks.slingshot.detect_every=0 must be a number of steps >= 1"):
        SlingshotMonitor(detect_every=0)
