"""lr_factors reads any per-epoch scheduler's multipliers of the base learning rate (what CAL divides by 1 + alpha)."""
from functools import partial

import pytest
import torch

from noisyrobust.optim.schedules import CoteachingSchedule, lr_factors


def test_multistep_cosine_and_none():
    step = partial(torch.optim.lr_scheduler.MultiStepLR, milestones=[2, 4], gamma=0.1)
    assert lr_factors(step, 6) == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    cosine = partial(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=4)
    assert lr_factors(cosine, 5) == pytest.approx([(1 + torch.cos(torch.tensor(e * torch.pi / 4)).item()) / 2
                                                  for e in range(5)], abs=1e-7)
    assert lr_factors(None, 3) == [1.0, 1.0, 1.0]


def test_the_coteaching_schedule_decays_linearly_after_its_start():
    schedule = partial(CoteachingSchedule, max_epochs=4, decay_start=2)
    assert lr_factors(schedule, 4) == pytest.approx([1, 1, 1, 0.5])
