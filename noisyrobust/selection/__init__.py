"""Selection rules (pure tensor functions on the device) and their schedules."""
from noisyrobust.selection.schedule import ForgetRateSchedule
from noisyrobust.selection.small_loss import disagreement_mask, masked_mean, num_to_keep, small_loss_mask

__all__ = ["ForgetRateSchedule", "disagreement_mask", "masked_mean", "num_to_keep", "small_loss_mask"]
