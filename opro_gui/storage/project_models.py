"""The project's own optimizer and scorer endpoints (schema 6): public settings, never a key."""

from __future__ import annotations

import time
from typing import Any

from opro_gui.core.text import scrub_urls

from .base import StoreBase
from .rows import json_object, to_json

ROLES = ("optimizer", "scorer")


class ProjectModelsMixin(StoreBase):
    def project_models(self) -> dict[str, dict[str, Any]]:
        """``{"optimizer": {...}, "scorer": {...}}`` as stored (either may be missing); a
        value of another shape, or a URL with a password written by hand, is dropped."""
        row = self.conn.execute("SELECT models FROM project WHERE id = 1").fetchone()
        stored = json_object(row[0], "project models") if row and row[0] else None
        out: dict[str, dict[str, Any]] = {}
        for role in ROLES:
            value = (stored or {}).get(role)
            if isinstance(value, dict):
                out[role] = scrub_urls({k: v for k, v in value.items() if k != "api_key"})
        return out

    def set_project_models(self, models: dict[str, dict[str, Any] | None]) -> None:
        """Replace the stored endpoints of the roles given (None removes one)."""
        current = self.project_models()
        for role, value in models.items():
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}")
            if value is None:
                current.pop(role, None)
            else:
                current[role] = {k: v for k, v in value.items() if k != "api_key"}
        with self._tx():
            self.conn.execute(
                "UPDATE project SET models = ?, updated_at = ? WHERE id = 1",
                (to_json(current), time.time()),
            )
