"""Readers of the real on-disk formats, the in-memory image set, and the datamodules (in memory; from files)."""
from noisyrobust.data.datamodule import NoisyDataModule
from noisyrobust.data.files_datamodule import ImageFileDataModule
from noisyrobust.data.imageset import ImageSet

__all__ = ["NoisyDataModule", "ImageFileDataModule", "ImageSet"]
