"""``python -m sim``: the command line."""

import sys

from sim.experiments.cli import main

sys.exit(main())
