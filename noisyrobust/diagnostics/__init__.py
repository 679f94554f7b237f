"""Measurements that read labels and predictions but never change training."""
from noisyrobust.diagnostics.metrics import MemorizationRates, SelectionQuality, TrainingOutcomes
from noisyrobust.diagnostics.summary import summarize_history

__all__ = ["MemorizationRates", "SelectionQuality", "TrainingOutcomes", "summarize_history"]
