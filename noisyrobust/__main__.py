"""``python -m noisyrobust COMMAND ...``: the ``noisyrobust`` command (noisyrobust.commands)."""
import sys

from noisyrobust.commands import main

sys.exit(main())
