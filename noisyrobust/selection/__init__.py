"""Selection rules (pure tensor functions on the device) and their schedules."""
from noisyrobust.selection.reducible import (SELECTION_RULES, high_loss_mask, keep_count, kept_positions,
                                             low_irreducible_mask, reducible_loss_mask, select_mask, top_k_mask,
                                             uniform_mask)
from noisyrobust.selection.schedule import ForgetRateSchedule
from noisyrobust.selection.small_loss import disagreement_mask, masked_mean, num_to_keep, small_loss_mask

__all__ = ["ForgetRateSchedule", "disagreement_mask", "masked_mean", "num_to_keep", "small_loss_mask",
           "SELECTION_RULES", "high_loss_mask", "keep_count", "kept_positions", "low_irreducible_mask",
           "reducible_loss_mask", "select_mask", "top_k_mask", "uniform_mask"]
