"""Opening, creating and closing a project file; the project record and its runs."""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from opro_gui import __version__
from opro_gui.core.models import RunStatus, StopCause
from opro_gui.core.rows import ProjectRow, RunRow
from opro_gui.core.text import scrub_urls, without_url_credentials

from . import busy, leftovers, schema
from .opening import (
    check_file,
    connect_readonly,
    file_problem,
    structure_problem,
    unreadable,
    upgraded,
)
from .rows import (
    MAX_CONFIG_CHARS,
    ProjectError,
    amount,
    from_json,
    json_object,
    settings_from,
    text,
    to_json,
    whole,
)

_RUN_STATUSES = {str(s) for s in RunStatus}


def _stop_cause(value: Any) -> StopCause:
    try:
        return StopCause(value)
    except ValueError:  # a cause from a newer version, or a hand-edited file
        return StopCause.ERROR


class StoreBase:
    """One open connection to a project file. Use one store per thread."""

    app_version = __version__  # stamped into every file this version writes

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        # Response-cache entries waiting for the transaction that records their calls.
        self.pending_cache: dict[str, tuple[str, float]] = {}

    @functools.cached_property
    def db(self) -> Any:
        """sqlite-utils on this connection, imported on first use: reads never need it, so
        `opro show` starts without loading it."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    @staticmethod
    def _connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
        try:
            conn = (
                connect_readonly(path)
                if readonly
                else sqlite3.connect(str(path), timeout=busy.WAIT_S)
            )
        except sqlite3.Error as exc:
            if busy.is_busy(exc):
                raise busy.busy_error(path) from None
            raise ProjectError(f"cannot open {path}: {exc}") from None
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA trusted_schema = OFF")  # no functions with side effects in schema
        # A damaged or hostile file may hold bytes that are not UTF-8: show them, never crash.
        conn.text_factory = lambda b: b.decode("utf-8", "replace")
        return conn

    @classmethod
    def create(
        cls, path: str | Path, kind: str, spec: dict[str, Any], name: str | None = None
    ) -> Self:
        path = Path(path)
        if path.exists():
            raise ProjectError(f"{path} already exists; choose another name or delete it first")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(f"cannot create {path}: {exc.strerror}") from None
        conn = cls._connect(path)
        store = cls(path, conn)
        now = time.time()
        spec = dict(spec)
        examples = spec.pop("examples", None)
        try:
            with conn:
                schema.create(conn)
                store.db.table("project").insert(
                    {
                        "id": 1,
                        "name": name or path.stem,
                        "kind": kind,
                        "spec": to_json(spec),
                        "created_at": now,
                        "updated_at": now,
                        "app_version": cls.app_version,
                        "created_by_version": cls.app_version,
                    }
                )
                if examples is not None:
                    store._write_examples(examples)
        except BaseException as exc:  # never leave half a project (its name would be taken)
            conn.close()
            leftovers.remove(path)
            if isinstance(exc, sqlite3.Error | OSError | ValueError):  # ValueError: bad text
                raise ProjectError(f"cannot write {path}: {exc}") from None
            raise
        return store

    @classmethod
    def open(cls, path: str | Path, readonly: bool = False, check_pages: bool = True) -> Self:
        """Open and check a project file. ``check_pages=False`` skips reading every page
        (O(file size)): for a caller that runs the full check in a background thread."""
        path = Path(path)
        check_file(path)
        leftovers.sweep(path.parent)  # exports / Save As killed half-way, by a process now gone
        conn = cls._connect(path, readonly)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            page = int(conn.execute("PRAGMA page_size").fetchone()[0])
        # UnicodeDecodeError: the error message of a mangled schema may not be UTF-8 itself.
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            conn.close()
            if busy.is_busy(exc):
                raise busy.busy_error(path) from None
            raise unreadable(path, exc) from None
        refused = file_problem(path, page, app_id, tables, version)
        if refused is not None:
            conn.close()
            raise refused
        try:
            conn = upgraded(conn, version, readonly)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            conn.close()
            raise unreadable(path, exc) from None
        store = cls(path, conn)
        try:
            row = conn.execute("SELECT kind, spec FROM project WHERE id = 1").fetchone()
            problem = structure_problem(conn, check_pages, path if readonly else None)
        # UnicodeDecodeError: the error message of a mangled schema may not be UTF-8 itself.
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            conn.close()
            if busy.is_busy(exc):
                raise busy.busy_error(path) from None
            raise unreadable(path, exc) from None
        if row is None or problem:
            conn.close()
            raise ProjectError(f"{path} is damaged: {problem or 'it has no project record'}")
        try:
            store.spec()
        except ProjectError:
            conn.close()
            raise
        return store

    def close(self) -> None:
        try:
            if self.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self.conn.execute("PRAGMA journal_mode = DELETE")
        except sqlite3.Error:
            pass  # another connection still has the file open; the WAL is kept safely
        self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def enable_wal(self) -> None:
        """While a run writes steps: readers (the GUI) never block the writer.

        Changing the journal mode does not wait for other connections' locks as a write does
        (SQLite answers "locked" at once): while another connection (a sweep's other run, one
        that just closed and put the file back in rollback mode) holds one, ask again for up
        to ``busy.WAIT_S`` seconds. A file already in WAL mode needs no change."""
        deadline = time.monotonic() + busy.WAIT_S
        while True:
            try:
                if str(self.conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                    self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = NORMAL")
                return
            except sqlite3.Error as exc:
                if busy.is_busy(exc) and time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
                if busy.is_busy(exc):
                    raise busy.busy_error(self.path, self.conn) from None
                raise ProjectError(f"cannot write to {self.path}: {exc}") from None

    @contextmanager
    def _tx(self) -> Iterator[None]:
        try:
            with self.conn:
                yield
        except sqlite3.OperationalError as exc:
            if busy.is_busy(exc):
                raise busy.busy_error(self.path, self.conn) from None
            raise ProjectError(f"cannot write to {self.path}: {exc}") from None
        except sqlite3.IntegrityError as exc:  # e.g. the step we meant to add is already there
            raise busy.integrity_error(self.path, exc) from None

    def project(self) -> ProjectRow:
        row = self.conn.execute(
            "SELECT name, kind, created_at, updated_at, app_version, created_by_version "
            "FROM project WHERE id = 1"
        ).fetchone()
        return ProjectRow(
            name=text(row[0]),
            kind=text(row[1]),
            created_at=amount(row[2]),
            updated_at=amount(row[3]),
            app_version=text(row[4]),
            created_by_version=text(row[5]),
        )

    @property
    def kind(self) -> str:
        return self.project().kind

    def spec(self) -> dict[str, Any]:
        """The task definition, with the embedded dataset put back under ``examples``."""
        row = self.conn.execute("SELECT spec FROM project WHERE id = 1").fetchone()
        spec = from_json(row[0], "the task definition", MAX_CONFIG_CHARS)
        if not isinstance(spec, dict):
            raise ProjectError(
                f"corrupt project file {self.path}: the task definition is not a dict"
            )
        examples = self.examples()
        if examples:
            spec["examples"] = examples
        return spec

    def update_spec(self, spec: dict[str, Any]) -> None:
        spec = dict(spec)
        examples = spec.pop("examples", None)
        with self._tx():
            self.conn.execute(
                "UPDATE project SET spec = ?, updated_at = ?, app_version = ? WHERE id = 1",
                (to_json(spec), time.time(), self.app_version),
            )
            if examples is not None:
                self.conn.execute("DELETE FROM example")
                self._write_examples(examples)

    def examples(self) -> list[dict[str, Any]]:
        out = []
        for input_, target, extra in self.conn.execute(
            "SELECT input, target, extra FROM example ORDER BY id"
        ):
            ex: dict[str, Any] = {"input": text(input_), "target": text(target)}
            more = json_object(extra, "an example") if extra else None
            if more:
                ex.update({k: v for k, v in more.items() if k not in ex})
            out.append(ex)
        return out

    def _write_examples(self, examples: Sequence[dict[str, Any]]) -> None:
        rows = []
        for i, ex in enumerate(examples):
            extra = {k: v for k, v in ex.items() if k not in ("input", "target")}
            rows.append((i, str(ex["input"]), str(ex["target"]), to_json(extra) if extra else None))
        self.conn.executemany(
            "INSERT INTO example (id, input, target, extra) VALUES (?,?,?,?)", rows
        )

    def create_run(
        self,
        settings: dict[str, Any],
        optimizer: dict[str, Any],
        scorer: dict[str, Any] | None,
        parent_run_id: int | None = None,
        fork_step: int | None = None,
        spec_override: dict[str, Any] | None = None,
    ) -> int:
        with self._tx():
            cur = self.conn.execute(
                "INSERT INTO run (created_at, settings, optimizer, scorer, status, parent_run_id,"
                " fork_step, spec_override, app_version) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    time.time(),
                    to_json(settings),
                    to_json(optimizer),
                    to_json(scorer) if scorer is not None else None,
                    "created",
                    parent_run_id,
                    fork_step,
                    to_json(spec_override) if spec_override is not None else None,
                    self.app_version,
                ),
            )
        return int(cur.lastrowid or 0)

    def update_run_config(
        self,
        run_id: int,
        settings: dict[str, Any],
        optimizer: dict[str, Any],
        scorer: dict[str, Any] | None,
    ) -> None:
        with self._tx():
            self.conn.execute(
                "UPDATE run SET settings = ?, optimizer = ?, scorer = ? WHERE id = ?",
                (
                    to_json(settings),
                    to_json(optimizer),
                    to_json(scorer) if scorer else None,
                    run_id,
                ),
            )

    def run(self, run_id: int) -> RunRow:
        row = self.conn.execute(
            "SELECT id, created_at, settings, optimizer, scorer, status, status_reason,"
            " parent_run_id, fork_step, spec_override, app_version, stop_cause"
            " FROM run WHERE id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            raise ProjectError(f"run {run_id} does not exist in {self.path.name}")
        status, reason = text(row[5]), text(row[6])
        if status not in _RUN_STATUSES:  # hand-edited: resumable, and the user is told why
            reason = f"unknown status {status[:40]!r} in the file" + (
                f"; {reason}" if reason else ""
            )
            status = RunStatus.FAILED
        return RunRow(
            id=run_id,
            created_at=amount(row[1]),
            settings=settings_from(from_json(row[2], "run settings", MAX_CONFIG_CHARS)),
            # Files written by hand or by older versions may hold a URL with a password.
            optimizer=scrub_urls(json_object(row[3], "optimizer settings") or {}),
            scorer=scrub_urls(json_object(row[4], "scorer settings")),
            status=RunStatus(status),
            status_reason=without_url_credentials(reason),
            parent_run_id=whole(row[7]),
            fork_step=whole(row[8]),
            # An override of another shape (a list, a number) is ignored: the project's own
            # task definition applies.
            spec_override=json_object(row[9], "run template"),
            app_version=text(row[10]),
            stop_cause=_stop_cause(row[11]),
        )

    def sweep_point(self, run_id: int) -> dict[str, Any] | None:
        """The grid point a sweep stored with the run (under ``sweep`` in its settings)."""
        row = self.conn.execute("SELECT settings FROM run WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        settings = from_json(row[0], "run settings", MAX_CONFIG_CHARS)
        point = settings.get("sweep") if isinstance(settings, dict) else None
        return point if isinstance(point, dict) else None

    def run_ids(self) -> list[int]:
        ids = (whole(r[0]) for r in self.conn.execute("SELECT id FROM run ORDER BY id"))
        return [i for i in ids if i is not None]

    def set_status(self, run_id: int, status: str, reason: str = "", cause: str = "") -> None:
        with self._tx():
            self.conn.execute(
                "UPDATE run SET status = ?, status_reason = ?, stop_cause = ? WHERE id = ?",
                (str(status), reason, str(cause), run_id),
            )

    def last_step(self, run_id: int) -> int:
        row = self.conn.execute(
            "SELECT MAX(step) FROM step WHERE run_id = ? AND typeof(step) = 'integer'", (run_id,)
        ).fetchone()
        return -1 if row[0] is None else int(row[0])

    def save_as(self, target: str | Path) -> None:
        """One self-contained file (SQLite backup API): no WAL or journal beside it."""
        target = Path(target)
        leftovers.sweep(target.parent)
        tmp = leftovers.part_path(target)  # swept by a later start if this process is killed
        dest: sqlite3.Connection | None = None
        try:
            dest = sqlite3.connect(str(tmp))
            with dest:
                self.conn.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
            dest.close()
            dest = None
            tmp.replace(target)
        except (sqlite3.Error, OSError) as exc:
            raise ProjectError(f"cannot save to {target}: {exc}") from None
        finally:
            if dest is not None:
                dest.close()
            leftovers.remove(tmp)  # with its -journal (a full disk leaves one)

    def integrity_ok(self) -> bool:
        return bool(self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
