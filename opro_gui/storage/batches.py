"""Batch API jobs of a project: their state saved at every step, so a killed process resumes."""

from __future__ import annotations

import time
from typing import Any

from .base import StoreBase

_FIELDS = ("base_url", "model", "requests", "input_file_id", "batch_id", "status", "output")
CONSUMED = "consumed"


class BatchesMixin(StoreBase):
    def batch_row(self, fingerprint: str) -> dict[str, Any] | None:
        """The latest batch for these requests whose answers were not yet used, if any."""
        row = self.conn.execute(
            f"SELECT id, {', '.join(_FIELDS)} FROM llm_batch WHERE fingerprint = ?"
            " AND status != ? ORDER BY id DESC LIMIT 1",
            (fingerprint, CONSUMED),
        ).fetchone()
        return None if row is None else dict(zip(("id", *_FIELDS), row, strict=True))

    def save_batch(self, fingerprint: str, **fields: Any) -> None:
        """Update the open batch for ``fingerprint`` (or start one), in its own transaction."""
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise ValueError(f"unknown batch field(s): {', '.join(sorted(unknown))}")
        current = self.batch_row(fingerprint)
        now = time.time()
        with self._tx():
            if current is None:
                cols = ["fingerprint", *fields, "created_at", "updated_at"]
                self.conn.execute(
                    f"INSERT INTO llm_batch ({', '.join(cols)}) VALUES"
                    f" ({', '.join('?' * len(cols))})",
                    (fingerprint, *fields.values(), now, now),
                )
            else:
                sets = ", ".join(f"{k} = ?" for k in fields)
                self.conn.execute(
                    f"UPDATE llm_batch SET {sets}, updated_at = ? WHERE id = ?",
                    (*fields.values(), now, current["id"]),
                )

    def consume_batches(self, fingerprints: list[str]) -> None:
        """Mark finished batches as used: a later evaluation sends new ones."""
        with self._tx():
            self.conn.executemany(
                "UPDATE llm_batch SET status = ? WHERE fingerprint = ? AND status = 'done'",
                [(CONSUMED, fp) for fp in fingerprints],
            )

    def batches(self) -> list[dict[str, Any]]:
        return [
            dict(zip(("id", "fingerprint", *_FIELDS), r, strict=True))
            for r in self.conn.execute(
                f"SELECT id, fingerprint, {', '.join(_FIELDS)} FROM llm_batch ORDER BY id"
            )
        ]
