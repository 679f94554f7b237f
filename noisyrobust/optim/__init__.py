"""Optimizers and schedules."""
from noisyrobust.optim.batchnorm import frozen_running_stats
from noisyrobust.optim.sam import SAM
from noisyrobust.optim.schedules import CoteachingSchedule, scaled_lr

__all__ = ["SAM", "CoteachingSchedule", "frozen_running_stats", "scaled_lr"]
