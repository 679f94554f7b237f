"""Stages that train a network of their own beside the run's: before the fit (RHO-LOSS's irreducible-loss
model) or after it (the out-of-sample and turn-over-dropout refits of the label-issue scores)."""
from noisyrobust.stages.fitting import one_device_trainer
from noisyrobust.stages.irreducible_loss import IrreducibleLossStage, StageResult
from noisyrobust.stages.transition import TransitionStage
from noisyrobust.stages.views import TrainingViews

__all__ = ["IrreducibleLossStage", "StageResult", "TrainingViews", "TransitionStage", "one_device_trainer"]
