"""The PySide6 desktop app: main window, run controller, widgets (the only Qt code)."""
