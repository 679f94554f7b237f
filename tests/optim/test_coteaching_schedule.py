"""CoteachingSchedule (Han et al. 2018 / Wei et al. 2020, stepped per epoch): during epoch e the lr is
base for e < decay_start and base * (max_epochs - e) / (max_epochs - decay_start) from decay_start on;
Adam's beta1 switches 0.9 -> 0.1 at decay_start."""
import pytest
import torch

from noisyrobust.errors import UserError
from noisyrobust.optim import CoteachingSchedule

BASE = 1e-3
# lr in force after e scheduler steps (= during epoch e), e = 0..10, max_epochs 10, decay_start 4
EXPECTED_LR = [1e-3, 1e-3, 1e-3, 1e-3,
               1e-3 * 6 / 6, 1e-3 * 5 / 6, 1e-3 * 4 / 6, 1e-3 * 3 / 6, 1e-3 * 2 / 6, 1e-3 * 1 / 6,
               0.0]
EXPECTED_BETA1 = [0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]


def adam_and_schedule(**kwargs):
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.Adam([w], lr=BASE)
    return w, opt, CoteachingSchedule(opt, max_epochs=10, decay_start=4, **kwargs)


def train_epoch(w, opt):
    opt.zero_grad()
    (w ** 2).sum().backward()
    opt.step()


def test_lr_is_constant_then_decays_linearly_per_epoch():
    w, opt, sched = adam_and_schedule()
    lrs, beta1s = [], []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        beta1s.append(opt.param_groups[0]["betas"][0])
        train_epoch(w, opt)
        sched.step()
    lrs.append(opt.param_groups[0]["lr"])
    beta1s.append(opt.param_groups[0]["betas"][0])
    assert lrs == pytest.approx(EXPECTED_LR, rel=1e-12, abs=1e-15)
    assert beta1s == pytest.approx(EXPECTED_BETA1)


def test_beta2_is_left_alone():
    w, opt, sched = adam_and_schedule()
    for _ in range(6):
        train_epoch(w, opt)
        sched.step()
    assert opt.param_groups[0]["betas"][1] == 0.999


def test_beta1_after_is_configurable():
    w, opt, sched = adam_and_schedule(beta1_after=0.5)
    for _ in range(4):
        train_epoch(w, opt)
        sched.step()
    assert opt.param_groups[0]["betas"][0] == 0.5


def test_state_dict_round_trip_restores_lr_and_continues_the_schedule():
    w, opt, sched = adam_and_schedule()
    for _ in range(6):
        train_epoch(w, opt)
        sched.step()
    opt_state, sched_state = opt.state_dict(), sched.state_dict()

    w2, opt2, sched2 = adam_and_schedule()  # fresh: lr 1e-3, beta1 0.9
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    assert opt2.param_groups[0]["lr"] == pytest.approx(1e-3 * 4 / 6, rel=1e-12)
    assert opt2.param_groups[0]["betas"][0] == 0.1
    train_epoch(w2, opt2)
    sched2.step()
    assert opt2.param_groups[0]["lr"] == pytest.approx(1e-3 * 3 / 6, rel=1e-12)
    assert opt2.param_groups[0]["betas"][0] == 0.1


def test_works_with_an_optimizer_without_betas():
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([w], lr=0.1)
    sched = CoteachingSchedule(opt, max_epochs=4, decay_start=2)
    lrs = []
    for _ in range(4):
        lrs.append(opt.param_groups[0]["lr"])
        train_epoch(w, opt)
        sched.step()
    assert lrs == pytest.approx([0.1, 0.1, 0.1 * 2 / 2, 0.1 * 1 / 2])
    assert "betas" not in opt.param_groups[0]


def test_negative_decay_start_raises_user_error():
    opt = torch.optim.Adam([torch.nn.Parameter(torch.ones(1))], lr=BASE)
    with pytest.raises(UserError, match="decay_start=-1"):
        CoteachingSchedule(opt, max_epochs=10, decay_start=-1)


@pytest.mark.parametrize("decay_start", [10, 80])
def test_decay_start_past_the_last_epoch_keeps_lr_and_beta1(decay_start):
    """A 200-epoch protocol shortened to 10 epochs: no decay, beta1 stays 0.9 in every epoch."""
    opt = torch.optim.Adam([torch.nn.Parameter(torch.ones(1))], lr=BASE)
    sched = CoteachingSchedule(opt, max_epochs=10, decay_start=decay_start)
    for _ in range(10):
        assert opt.param_groups[0]["lr"] == BASE and opt.param_groups[0]["betas"][0] == 0.9
        opt.step()
        sched.step()
