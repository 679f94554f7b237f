"""Measurements that read labels and predictions but never change training."""
from noisyrobust.diagnostics.label_issues import LabelIssues
from noisyrobust.diagnostics.metrics import MemorizationRates, SelectionQuality
from noisyrobust.diagnostics.summary import summarize_history

__all__ = ["LabelIssues", "MemorizationRates", "SelectionQuality", "summarize_history"]
