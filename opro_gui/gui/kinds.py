"""The GUI's kind registry: kind -> (editor panel, domain view, plot hints). The only place in
gui/ that names a problem kind; everything else asks the kind's descriptor or this table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from PySide6.QtWidgets import QWidget

from opro_gui.core.ports import Problem
from opro_gui.problems import ProblemKind, get_kind

from .themes import PlotColors
from .widgets.panel_undo import UndoBinder


class DomainView(Protocol):
    """The problem's own picture beside the score plot (a tour, a fit, an instruction)."""

    tab_title: str

    def reset(self) -> None: ...

    def set_problem(self, problem: Problem, facts: dict[str, Any]) -> None: ...

    def show_best(
        self, solutions: Sequence[Any], scores: Sequence[float], fmt: Callable[[float | None], str]
    ) -> None: ...

    def apply_colors(self, colors: PlotColors) -> None: ...


Baselines = Callable[[dict[str, Any]], list[tuple[str, float]]]


def _no_baselines(facts: dict[str, Any]) -> list[tuple[str, float]]:
    return []


@dataclass(frozen=True)
class GuiKind:
    """What the window shows for one kind. A kind without an entry still opens, runs, plots
    and lists its history (no editor panel, no domain view)."""

    label: str = ""  # the "New project" and kind selector wording ("" = display name)
    editor: Callable[[UndoBinder], QWidget] | None = None  # the task panel
    view: Callable[[], QWidget] | None = None  # a DomainView
    log_scale: bool = False  # scores spanning orders of magnitude (losses)
    baselines: Baselines = field(default=_no_baselines)  # lines on the score plot
    placeholders: str = ""  # the template editor's placeholder hint
    default_spec: Callable[[], dict[str, Any]] | None = None  # File ▸ New (else the kind's)
    #: A line at step 0's best score, drawn from the first step (the prompt's starting point).
    start_label: str = ""


_GUI_KINDS: dict[str, GuiKind] = {}


def register_gui_kind(name: str, entry: GuiKind) -> None:
    _GUI_KINDS[name] = entry


def unregister_gui_kind(name: str) -> None:
    _GUI_KINDS.pop(name, None)


def gui_kind(name: str) -> GuiKind:
    _load()
    return _GUI_KINDS.get(name, GuiKind())


def descriptor(name: str) -> ProblemKind | None:
    """The problem layer's descriptor, or None for an empty or unknown name."""
    try:
        return get_kind(name) if name else None
    except ValueError:
        return None


def kind_label(name: str) -> str:
    entry, desc = gui_kind(name), descriptor(name)
    return entry.label or (desc.display_name if desc else name)


def value_scale(name: str) -> float:
    """Scores in percent (accuracies) are plotted 0-100."""
    desc = descriptor(name)
    return 100.0 if desc is not None and desc.score_unit == "%" else 1.0


def score_axis_label(name: str) -> str:
    desc = descriptor(name)
    if desc is None:
        return "score"
    unit = f" ({desc.score_unit})" if desc.score_unit else ""
    direction = "" if desc.higher_is_better else " (lower is better)"
    return f"{desc.score_label}{unit}{direction}"


# -- the kinds that ship ---------------------------------------------------------------------


def _tsp_baselines(facts: dict[str, Any]) -> list[tuple[str, float]]:
    lines: list[tuple[str, float]] = []
    for name, key in (
        ("nearest neighbour", "nearest_neighbour"),
        ("farthest insertion", "farthest_insertion"),
    ):
        if facts.get(key) is not None:
            lines.append((name, float(facts[key])))
    opt = facts.get("optimal_length") or facts.get("best_known_length")
    if opt is not None:
        label = "optimum" if facts.get("optimal_is_exact", True) else "best known"
        lines.append((label, float(opt)))
    return lines


def _lr_baselines(facts: dict[str, Any]) -> list[tuple[str, float]]:
    loss = facts.get("optimum_loss")
    return [] if loss is None else [("integer optimum", float(loss))]


def _tsp_panel(binder: UndoBinder) -> QWidget:
    from .widgets.panel_tsp import TSPPanel

    return TSPPanel(binder)


def _lr_panel(binder: UndoBinder) -> QWidget:
    from .widgets.panel_linreg import LinRegPanel

    return LinRegPanel(binder)


def _prompt_panel(binder: UndoBinder) -> QWidget:
    from .widgets.panel_prompt import PromptPanel

    return PromptPanel(binder)


def _prompt_default_spec() -> dict[str, Any]:
    from .widgets.shell_projects import prompt_spec

    return prompt_spec()


def _tsp_view() -> QWidget:
    from .widgets.tsp_view import TSPView

    return TSPView()


def _lr_view() -> QWidget:
    from .widgets.lr_view import LRView

    return LRView()


def _instruction_view() -> QWidget:
    from .widgets.instruction_view import InstructionView

    return InstructionView()


_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    builtin = {
        "tsp": GuiKind(
            "Travelling salesman (TSP)",
            _tsp_panel,
            _tsp_view,
            baselines=_tsp_baselines,
            placeholders="{points}, {history}",
        ),
        "linreg": GuiKind(
            "Linear regression",
            _lr_panel,
            _lr_view,
            log_scale=True,
            baselines=_lr_baselines,
            placeholders="{history}",
        ),
        "prompt": GuiKind(
            "Prompt optimization",
            _prompt_panel,
            _instruction_view,
            placeholders="entries: {instruction} {score}; exemplars: {question} {answer}; "
            "<TEXT> style: {task_phrase} {position_phrase}",
            default_spec=_prompt_default_spec,
            start_label="initial instruction",
        ),
    }
    for name, entry in builtin.items():
        _GUI_KINDS.setdefault(name, entry)


def view_kinds() -> list[str]:
    """Kinds with a domain view, in registration order."""
    _load()
    return [name for name, entry in _GUI_KINDS.items() if entry.view is not None]


def new_project_kinds() -> dict[str, str]:
    """label -> kind for File ▸ New: every registered kind."""
    from opro_gui.problems import kind_names

    return {kind_label(name): name for name in kind_names()}


def editor_kinds() -> list[str]:
    """Kinds the task editor can edit (those with a panel), in registration order."""
    _load()
    return [name for name, entry in _GUI_KINDS.items() if entry.editor is not None]
