"""Optimizers and schedules."""
from noisyrobust.optim.schedules import CoteachingSchedule

__all__ = ["CoteachingSchedule"]
