"""CORES², peer loss, f-divergence and GLS through the pipeline on the digits: the sieve drops mostly wrong
labels and exposes its statistic in the label-issue table; the peer labels are redrawn every step and
identical for a seed; the schedules' learning-rate factor; bad settings refused before anything is written.
(Resume, DDP, SAM, fused steps and host sync: the every-method batteries.)"""
import csv

import pytest
import torch

from noisyrobust.errors import find_user_error
from noisyrobust.losses.peer import peer_alpha
from noisyrobust.methods import PeerLoss

COMMON = ["noise=sym0.4", "logger=csv"]


def test_the_sieve_drops_mostly_wrong_labels_and_its_statistic_ranks_them(fit):
    # 4 epochs stretch the authors' 100: the sieve is on from epoch 2 (paper epoch 50)
    summary, out = fit("method=cores", *COMMON, "trainer.max_epochs=4")
    detection = summary["label_issues"]["detection"]["cores_sieve"]
    assert detection["auroc"] > 0.9, detection
    rows = [r for r in csv.DictReader((out / "metrics.csv").open()) if r.get("select/precision")]
    ratio = {int(r["epoch"]): float(r["select/ratio"]) for r in rows}
    precision = {int(r["epoch"]): float(r["select/precision"]) for r in rows}
    assert ratio[0] == ratio[1] == 1.0 and ratio[3] < 0.9  # all kept before the sieve, then not
    assert precision[3] > 0.7  # cleaner than the batch's 60% clean labels (an epoch of ~1,000: sd ~0.015)


class _Trainer:
    def __init__(self, max_epochs, world_size=1, global_rank=0):
        self.max_epochs, self.world_size, self.global_rank = max_epochs, world_size, global_rank


def peer_module(monkeypatch, *, epoch, max_epochs=50, world_size=1, rank=0, **kwargs):
    module = PeerLoss(net=torch.nn.Linear(2, 3), num_classes=3, optimizer=None, seed=5, **kwargs)
    module.register_buffer("peer_pool", torch.arange(3).repeat(40), persistent=False)
    monkeypatch.setattr(PeerLoss, "trainer", _Trainer(max_epochs, world_size, rank), raising=False)
    monkeypatch.setattr(PeerLoss, "current_epoch", epoch, raising=False)
    return module


def test_peer_labels_are_redrawn_every_step_and_two_ranks_hold_one_processs_draw(monkeypatch):
    batch = (torch.zeros(8, 2), torch.zeros(8, dtype=torch.long), torch.arange(8))
    one = peer_module(monkeypatch, epoch=3)
    first, again = one.select(batch), one.select(batch)
    assert torch.equal(first, again)  # same seed, same step
    one.batch_in_epoch = 1
    assert not torch.equal(one.select(batch), first)  # the next step draws afresh
    one.batch_in_epoch = 0
    half = (batch[0][:4], batch[1][:4], batch[2][:4])
    ranks = [peer_module(monkeypatch, epoch=3, world_size=2, rank=r) for r in range(2)]
    shares = []
    for r, module in enumerate(ranks):
        monkeypatch.setattr(PeerLoss, "trainer", _Trainer(50, 2, r), raising=False)
        shares.append(module.select(half))
    assert torch.equal(torch.cat(shares), first)


def test_the_alpha_plan_stretches_over_the_run_after_the_warm_up_and_divides_the_lr(monkeypatch):
    # 10 warm-up epochs, 50 after: epoch 20 is the authors' epoch (20 - 10) * 300 / 50 = 60
    module = peer_module(monkeypatch, epoch=20, max_epochs=60, warmup_epochs=10, alpha=None)
    assert module.alpha() == pytest.approx(peer_alpha(60, schedule="dense"))
    assert module.lr_factor() == pytest.approx(1 / (1 + peer_alpha(60, schedule="dense")))
    assert peer_module(monkeypatch, epoch=5, warmup_epochs=10).select(
        (torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), torch.arange(4))) is None  # CE in the warm-up
    assert peer_module(monkeypatch, epoch=20, alpha=None, schedule_epochs=300).alpha() == peer_alpha(20)
    assert peer_module(monkeypatch, epoch=20, alpha=0.8).lr_factor() == pytest.approx(1 / 1.8)


@pytest.mark.parametrize("args, message", [
    (["method=peer", "method.alpha_schedule=steep"], "method.alpha_schedule='steep' is not one of sparse, dense"),
    (["method=peer", "method.alpha=-1"], "method.alpha=-1 must be >= 0"),
    (["method=fdiv", "method.divergence=hellinger"], "method.divergence='hellinger' is not one of total_variation"),
    (["method=gls", "method.smooth_rate=1.0"], "method.smooth_rate=1.0 must be < 1"),
    (["method=cores", "method.beta=-0.5"], "method.beta=-0.5 must be >= 0"),
    (["method=cores", "method.schedule_epochs=0"], "method.schedule_epochs=0 must be >= 1"),
])
def test_bad_settings_are_refused_before_anything_is_written(fit, tmp_path, args, message):
    with pytest.raises(Exception) as e:  # Hydra wraps the constructor's error; the CLI prints its one line
        fit(*args, *COMMON, "trainer.max_epochs=12")
    assert message in str(find_user_error(e.value))
    assert not (tmp_path / "run" / "noisy_labels.npz").exists()
