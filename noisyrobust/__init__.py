"""noisyrobust: train classifiers robustly under noisy labels."""

__version__ = "0.1.0"

from noisyrobust import config as _config  # noqa: F401,E402 - registers the config resolvers
from noisyrobust.api import Run, load_run, train  # noqa: E402 - the Python API (imports no torch until it runs)
