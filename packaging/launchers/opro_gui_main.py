"""Entry point of the frozen ``opro-gui`` executable (PyInstaller runs this file as __main__)."""

import multiprocessing
import sys

from opro_gui.app import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
