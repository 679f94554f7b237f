"""noisyrobust: train classifiers robustly under noisy labels."""

__version__ = "0.1.0"
