"""The dataset preview's table: the opening and ending every row shares are shown as "…", so
the cells show what tells rows apart; each cell's tooltip has its whole text."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt

from .dict_table import Column, DictTableModel, Index

MIN_SHARED = 12  # shorter shared ends are left in place: cutting them saves too little
ELLIPSIS = "…"


def shared_ends(texts: Sequence[str]) -> tuple[str, str]:
    """The opening and the ending all ``texts`` share (whole words, at least MIN_SHARED
    characters each, else ""); never for fewer than two texts."""
    if len(texts) < 2:
        return "", ""
    prefix = os.path.commonprefix(list(texts))
    if prefix not in texts:  # a text that is all opening keeps its opening
        cut = max(prefix.rfind(" "), prefix.rfind("\n"))
        prefix = prefix[: cut + 1] if cut >= 0 else ""
    else:
        prefix = ""
    if len(prefix) < MIN_SHARED:
        prefix = ""
    rests = [t[len(prefix) :] for t in texts]
    suffix = os.path.commonprefix([r[::-1] for r in rests])[::-1]
    if suffix in rests:
        suffix = ""
    cut = min((i for i in (suffix.find(" "), suffix.find("\n")) if i >= 0), default=-1)
    suffix = suffix[cut:] if cut >= 0 else ""
    if len(suffix) < MIN_SHARED:
        suffix = ""
    return prefix, suffix


class PreviewModel(DictTableModel):
    """Rows are examples; ``shared`` maps a column key to the (opening, ending) its cells
    share, which the cells show as "…"."""

    def __init__(self, columns: Sequence[Column], parent: Any = None) -> None:
        super().__init__(columns, parent)
        self.shared: dict[str, tuple[str, str]] = {}

    def set_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        self.shared = {
            col.key: shared_ends([col.fmt(r.get(col.key)) for r in rows]) for col in self.columns
        }
        super().set_rows(rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return super().data(index, role)
        col = self.columns[index.column()]
        text = col.fmt(self.row_data(index.row()).get(col.key))
        if role == Qt.ItemDataRole.ToolTipRole:
            return text or None
        prefix, suffix = self.shared.get(col.key, ("", ""))
        middle = text[len(prefix) : len(text) - len(suffix)]
        shown = (ELLIPSIS if prefix else "") + middle + (ELLIPSIS if suffix else "")
        return shown.replace("\n", " ⏎ ")

    def shared_note(self) -> str:
        """One sentence naming what the cells leave out ("" when nothing)."""
        parts = []
        for col in self.columns:
            prefix, suffix = self.shared.get(col.key, ("", ""))
            name = col.header.lower()
            if prefix:
                parts.append(f"every {name} starts with {_quoted(prefix)}")
            if suffix:
                parts.append(f"every {name} ends with {_quoted(suffix)}")
        return f"Shown as {ELLIPSIS}: {'; '.join(parts)}." if parts else ""


def _quoted(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1] + ELLIPSIS}”"
