"""The per-sample layer, below the methods: state with one row per training sample (by global dataset
index) identical on every DDP rank, passes of the current networks over the training set, and the
one-device trainer that stages and refits train their own networks with."""
from noisyrobust.per_sample.passes import evaluation_mode, training_set_pass
from noisyrobust.per_sample.state import PerSampleState, gather_rows
from noisyrobust.per_sample.trainer import one_device_trainer

__all__ = ["PerSampleState", "evaluation_mode", "gather_rows", "one_device_trainer", "training_set_pass"]
