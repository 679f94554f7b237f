"""LightningModules: networks + a per-sample loss + a selection rule, over shared plumbing."""
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.methods.standard import Standard

__all__ = ["NoisyLabelModule", "Standard"]
