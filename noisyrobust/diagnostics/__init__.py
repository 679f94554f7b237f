"""Measurements that read labels and predictions but never change training. The label-issue finder
(``label_issues.LabelIssues``) stands on the methods and is imported from its module."""
from noisyrobust.diagnostics.metrics import MemorizationRates, SelectionQuality, TrainingOutcomes
from noisyrobust.diagnostics.summary import summarize_history

__all__ = ["MemorizationRates", "SelectionQuality", "TrainingOutcomes", "summarize_history"]
