"""Readers of the real on-disk formats, the in-memory image set, and the datamodule."""
from noisyrobust.data.datamodule import NoisyDataModule
from noisyrobust.data.imageset import ImageSet

__all__ = ["NoisyDataModule", "ImageSet"]
