"""History's people-in-the-loop buttons: add your own candidate, star or exclude the selected one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QPushButton, QWidget

from opro_gui.services import ProjectError, ProjectSession


class PeopleBar(QWidget):
    """Each action is stored in the project with the step it applies to (services.people)."""

    action_done = Signal(str)  # a one-line message for the status line
    action_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._path: Path | None = None
        self._run_id: int | None = None
        self._selected: tuple[int, int] | None = None
        self.add_button = QPushButton("Add candidate…")
        self.add_button.setToolTip(
            "Your own candidate: scored at the run's next step, marked human"
        )
        self.star_button = QPushButton("Star")
        self.exclude_button = QPushButton("Exclude")
        self.exclude_button.setToolTip("Leave it out of the trajectory from the next step on")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for b in (self.add_button, self.star_button, self.exclude_button):
            lay.addWidget(b)
        self.add_button.clicked.connect(self._on_add_clicked)
        self.star_button.clicked.connect(lambda: self.mark("star"))
        self.exclude_button.clicked.connect(lambda: self.mark("exclude"))
        self.set_target(None, None, None)

    def set_target(
        self, path: Path | None, run_id: int | None, selected: tuple[int, int] | None
    ) -> None:
        self._path, self._run_id, self._selected = path, run_id, selected
        self.add_button.setEnabled(path is not None and run_id is not None)
        self.star_button.setEnabled(selected is not None)
        self.exclude_button.setEnabled(selected is not None)

    def add(self, text: str) -> dict[str, Any] | None:
        if self._path is None or self._run_id is None or not text.strip():
            return None
        return self._do(lambda s: s.add_candidate(text, run_id=self._run_id))

    def mark(self, action: str) -> dict[str, Any] | None:
        if self._path is None or self._run_id is None or self._selected is None:
            return None
        step, index = self._selected

        def act(session: ProjectSession) -> dict[str, Any]:
            cands = session.store.candidates(self._run_id or 0, step)
            cand = next((c for c in cands if c.index == index), None)
            if cand is None:
                raise ProjectError(f"step {step} has no candidate {index}")
            return session.star(cand.id) if action == "star" else session.exclude(cand.id)

        return self._do(act)

    def _do(self, fn: Any) -> dict[str, Any] | None:
        assert self._path is not None
        try:
            # The window's document checked every page when it opened the project.
            with ProjectSession.open(self._path, check_pages=False) as session:
                done: dict[str, Any] = fn(session)
        except (ProjectError, ValueError) as exc:
            self.action_failed.emit(str(exc))
            return None
        self.action_done.emit(f"{done['action']} stored for step {done['step']}")
        return done

    def _on_add_clicked(self) -> None:
        text, ok = QInputDialog.getMultiLineText(self, "Add a candidate", "Your candidate:")
        if ok:
            self.add(text)
