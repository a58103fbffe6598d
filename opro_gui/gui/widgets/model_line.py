"""The models of the open project in one line ("optimizer X at Y · scorer Z"), and the question
asked when the model check before a run finds that a model does not answer in the format."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from opro_gui.llm import EndpointConfig
from opro_gui.problems import ProblemKind
from opro_gui.services.model_probe import ModelCheck
from opro_gui.services.project_models import model_line

__all__ = ["ModelCheck", "ModelLine", "ask_run_anyway", "model_line"]

RUN_ANYWAY = "Run anyway"


class ModelLine(QLabel):
    """Always names the models the open project runs with, and where they come from."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("model_line")
        self.show_models(None, None, None)

    def show_models(
        self,
        kind: ProblemKind | None,
        optimizer: EndpointConfig | None,
        scorer: EndpointConfig | None,
        note: str = "",
    ) -> None:
        if kind is None:
            self.setText("")
            self.setToolTip("")
            return
        line = model_line(kind, optimizer, scorer)
        self.setText(line + (f" ({note})" if note else ""))
        urls = [f"optimizer: {optimizer.base_url}"] if optimizer else []
        if kind.needs_scorer and (scorer or optimizer):
            urls.append(f"scorer: {(scorer or optimizer).base_url}")  # type: ignore[union-attr]
        self.setToolTip("\n".join(urls) + "\nChange them in Model settings.")


def ask_run_anyway(parent: QWidget, check: ModelCheck) -> bool:
    """The check failed: show why and what came back; True when the user runs anyway."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("The model check failed")
    box.setText(
        f"The {check.role} {check.reason}.\n\nA run would likely spend its budget on answers "
        "nothing can be read from. Check the model in Model settings, or run anyway."
    )
    box.setDetailedText(f"Its answer began:\n{check.raw or '(empty)'}\n\n({check.spent()})")
    run = box.addButton(RUN_ANYWAY, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is run
