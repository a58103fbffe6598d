"""`python -m opro_gui` runs the CLI."""

import sys

from opro_gui.cli import main

sys.exit(main())
