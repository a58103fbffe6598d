"""Widgets of the desktop app: plots, problem views, model settings, editors, history."""
