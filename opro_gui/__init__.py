"""OPRO Studio: Optimization by PROmpting, as a desktop app and a CLI."""

__version__ = "0.1.0"
