"""Stages: work before the fit, each handing its result on explicitly (``protocol.StageResult``): RHO-LOSS's
irreducible losses, loss correction's transition matrix, the augmented views of DivideMix and SOP+."""
from noisyrobust.stages.irreducible_loss import IrreducibleLossStage
from noisyrobust.stages.protocol import BestOnValidation, Stage, StageResult
from noisyrobust.stages.transition import TransitionStage
from noisyrobust.stages.views import TrainingViews

__all__ = ["BestOnValidation", "IrreducibleLossStage", "Stage", "StageResult", "TrainingViews", "TransitionStage"]
