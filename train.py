"""Train a classifier under noisy labels: `python train.py method=jocor noise=sym0.4` (--help for more).
Installed, the same is `noisyrobust train method=jocor noise=sym0.4`."""
import sys

from noisyrobust.commands.train import command

if __name__ == "__main__":
    command(sys.argv[1:])
