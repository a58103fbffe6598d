"""Entry point of the frozen ``opro`` console executable (PyInstaller runs this file as __main__)."""

import multiprocessing
import sys

from opro_gui.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
