import sys

from noisyrobust.review import main

sys.exit(main())
