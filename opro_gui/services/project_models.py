"""The models a project uses: its stored optimizer and scorer endpoints (no keys), where they
came from, and the one line that names them ("optimizer X at Y · scorer Z")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from opro_gui.core.text import one_line
from opro_gui.llm import EndpointConfig
from opro_gui.problems import ProblemKind
from opro_gui.storage import ProjectError

from .base import SessionBase, _reads_file

#: Where a project's endpoints were read from.
FROM_PROJECT, FROM_LATEST_RUN = "project", "latest run"


@dataclass(frozen=True)
class ProjectModels:
    """The project's endpoints; ``source`` is "" when it has none yet (a new project)."""

    optimizer: EndpointConfig | None
    scorer: EndpointConfig | None
    source: str = ""


def _config(data: dict[str, Any] | None) -> EndpointConfig | None:
    if not data:
        return None
    try:
        return EndpointConfig.from_dict(data)
    except (TypeError, ValueError):  # edited by hand: as if none were stored
        return None


def host_of(url: str) -> str:
    """``api.openai.com`` for ``https://api.openai.com/v1``; the URL itself if it has no host."""
    return urlsplit(url).netloc or url


def model_line(
    kind: ProblemKind | None, optimizer: EndpointConfig | None, scorer: EndpointConfig | None
) -> str:
    """``optimizer gpt-4o-mini at api.openai.com · scorer qwen at 127.0.0.1:11434``; kinds
    without a scorer model name none. The scorer's host is named when it differs."""
    if optimizer is None:
        return "no model chosen"
    line = f"optimizer {optimizer.model} at {host_of(optimizer.base_url)}"
    if kind is not None and kind.needs_scorer:
        sc = scorer or optimizer
        where = host_of(sc.base_url)
        line += f" · scorer {sc.model}" + (
            f" at {where}" if where != host_of(optimizer.base_url) else ""
        )
    return one_line(line)  # names from a shared file may hold newlines or direction marks


def project_models_of(session: SessionBase) -> ProjectModels:
    """See ``ProjectModelsMixin.project_models`` (also read by the project's summary)."""
    stored = session.store.project_models()
    opt = _config(stored.get("optimizer"))
    if opt is not None:
        return ProjectModels(opt, _config(stored.get("scorer")), FROM_PROJECT)
    latest = session.latest_run_id()
    if latest is not None:
        run = session.store.run(latest)
        opt = _config(run.optimizer)
        if opt is not None:
            return ProjectModels(opt, _config(run.scorer), FROM_LATEST_RUN)
    return ProjectModels(None, None)


def models_json_of(session: SessionBase) -> dict[str, Any]:
    """``models_json`` of the session's project; a stored value that cannot be read is said
    under ``error`` (the rest of a summary still shows)."""
    try:
        return models_json(project_models_of(session))
    except ProjectError as exc:
        return {**models_json(ProjectModels(None, None)), "error": str(exc)}


def models_json(models: ProjectModels) -> dict[str, Any]:
    """The project's models for `opro show --json`: public settings only (no key exists in
    them), ``source`` "project", "latest run" or "" (none yet)."""
    return {
        "optimizer": models.optimizer.to_public_dict() if models.optimizer else None,
        "scorer": models.scorer.to_public_dict() if models.scorer else None,
        "source": models.source,
    }


class ProjectModelsMixin(SessionBase):
    @_reads_file
    def project_models(self) -> ProjectModels:
        """The endpoints stored with the project; a project written before they were stored
        (schema < 6) has its latest run's."""
        return project_models_of(self)

    def set_project_models(
        self, optimizer: EndpointConfig | None, scorer: EndpointConfig | None = None
    ) -> None:
        """Store the endpoints the project runs with (public settings only: never a key)."""
        self.store.set_project_models(
            {
                "optimizer": optimizer.to_public_dict() if optimizer else None,
                "scorer": scorer.to_public_dict() if scorer else None,
            }
        )
