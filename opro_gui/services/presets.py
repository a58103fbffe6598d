"""New prompt projects from a dataset file and, optionally, a configuration of the paper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opro_gui.problems.datasets import DatasetError, load_dataset
from opro_gui.problems.prompt_opt import spec_from_dataset
from opro_gui.problems.prompt_presets import PRESETS, Preset, preset_options
from opro_gui.storage import ProjectError

__all__ = ["PRESETS", "Preset", "preset_options", "prompt_spec_from_file"]


def prompt_spec_from_file(
    dataset: str | Path, *, fmt: str | None = None, preset: str | None = None, **options: Any
) -> tuple[dict[str, Any], list[str]]:
    """A prompt spec from a dataset file (paper defaults for its name, then the preset's
    settings, then ``options``) and the warnings to show."""
    try:
        data = load_dataset(dataset, fmt)
    except DatasetError as exc:
        raise ProjectError(str(exc)) from None
    warnings = list(data.warnings)
    chosen: dict[str, Any] = {}
    if preset:
        chosen, warning = preset_options(preset, data.name)
        warnings += [warning] if warning else []
    return spec_from_dataset(data, **{**chosen, **options}), warnings
