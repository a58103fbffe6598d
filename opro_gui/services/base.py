"""An open project: lifecycle, runs and the engine that continues them (shared by CLI and GUI)."""

from __future__ import annotations

import functools
import json
import os
import re
import socket
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

from opro_gui.core.cancel import CancelToken
from opro_gui.core.engine import Engine
from opro_gui.core.events import Event
from opro_gui.core.models import CandidateStatus, RunSettings, RunStatus, StepRecord, StopCause
from opro_gui.core.ports import LLMClient, Problem
from opro_gui.core.rows import RunRow
from opro_gui.llm import EndpointConfig, make_client, pacing
from opro_gui.problems import ProblemKind, get_kind, make_problem
from opro_gui.storage import ProjectCache, ProjectError, ProjectStore, busy

from .judging import with_judge
from .plan import PlanAction, RunPlan, decide

_P = ParamSpec("_P")
_R = TypeVar("_R")
_S = TypeVar("_S", bound="SessionBase")
# What reading a damaged or hand-edited file can raise below us (a malformed page, a text where
# a number belongs...): turned into one ProjectError line instead of a traceback.
_DAMAGE = (sqlite3.DatabaseError, TypeError, ValueError, KeyError, IndexError, AttributeError)


def _reads_file(
    fn: Callable[Concatenate[_S, _P], _R],
) -> Callable[Concatenate[_S, _P], _R]:
    @functools.wraps(fn)
    def guarded(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return fn(self, *args, **kwargs)
        except ProjectError:
            raise
        except sqlite3.OperationalError as exc:
            if busy.is_busy(exc):  # locked by another process: busy, not damaged
                raise busy.busy_error(self.path, self.store.conn) from exc
            raise _damaged(self.path, exc) from exc
        except _DAMAGE as exc:
            raise _damaged(self.path, exc) from exc

    return guarded


def usable_solution(problem: Problem, solution: Any) -> bool:
    """Whether ``problem`` can format, compare and score a solution read from a file."""
    check = getattr(problem, "validation_error", None)
    try:
        if check is not None and check(solution) is not None:
            return False
        problem.dedup_key(solution)
        return isinstance(problem.format_solution(solution), str)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        return False


def _damaged(path: Path, exc: BaseException) -> ProjectError:
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
    return ProjectError(f"{path.name} is damaged or was edited by hand ({detail})")


class StoreSink:
    """The engine's RunSink: one transaction per completed step, with the run's aggregates
    (and, for kinds that compare with one, the equal-budget random search's next value).
    Once another live process is seen writing the same run, this sink writes nothing more
    (not even "paused"): the run is theirs."""

    def __init__(
        self,
        store: ProjectStore,
        run_id: int,
        problem: Problem | None = None,
        seed: int = 0,
        base_urls: tuple[str, ...] = (),
        on_saved: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.on_saved = on_saved  # told the step number once a step is saved
        self._resume = getattr(problem, "random_search_resume", None)
        self.seed = seed
        self.base_urls = tuple(dict.fromkeys(base_urls))
        self.foreign = ""  # who else is writing the run, once known

    def step_completed(self, record: StepRecord) -> None:
        try:
            self.store.write_step(self.run_id, record, random_search=self._random_search(record))
        except ProjectError as exc:
            if "is writing this run" in str(exc):
                self.foreign = "another process"
            raise
        notes = [n for url in self.base_urls for n in pacing.take_notes(url)]
        if notes:  # what adaptive pacing changed, kept with the run (`opro show`, the GUI)
            run = self.store.run(self.run_id)
            optimizer = dict(run.optimizer)
            optimizer["pacing_notes"] = [*optimizer.get("pacing_notes", []), *notes]
            self.store.update_run_config(self.run_id, run.settings.to_dict(), optimizer, run.scorer)
        if self.on_saved is not None:
            self.on_saved(record.step)

    def _random_search(self, record: StepRecord) -> tuple[list[float], str] | None:
        """The random search's best after ``record``'s step, given as many evaluations as
        the step scored: continued from the stored state (or rebuilt once from the stored
        per-step counts). Never stops a step from being saved."""
        if self._resume is None or record.step < 1:
            return None
        k = sum(c.status == CandidateStatus.SCORED for c in record.candidates)
        try:
            state = self.store.random_search_state(self.run_id)
            if state is not None and state.get("step") == record.step - 1:
                curve, new = self._resume(state, [k], self.seed)
            else:  # a fork, an upgraded file or a changed seed: from the start, once
                budget = self.store.scored_per_step(self.run_id)[: record.step - 1]
                budget += [0] * (record.step - 1 - len(budget))  # steps with no stats row
                curve, new = self._resume(None, [*budget, k], self.seed)
        except (ProjectError, ValueError, TypeError, KeyError, IndexError):
            return None  # read at the next summary instead
        return [float(v) for v in curve], json.dumps({**new, "step": record.step})

    def status_changed(self, status: str, reason: str = "", cause: str = "") -> None:
        if self.foreign:
            return
        if status == RunStatus.RUNNING and not reason:
            # The plan refused a run another process writes; this closes the race between
            # two processes that planned at the same moment.
            run = self.store.run(self.run_id)
            pid = writer_alive_elsewhere(run.status, run.status_reason)
            if pid is not None:
                self.foreign = f"process {pid}"
                raise ProjectError(f"run {self.run_id} is being run by process {pid}")
            reason = writer_mark()  # lets readers tell a live run from one whose process died
        self.store.set_status(self.run_id, status, reason, cause)


#: The status shown for a "running" run whose process is gone (never stored).
INTERRUPTED = "interrupted"
_WRITER = re.compile(r"written by process (\d+) on (.+)")


def writer_mark() -> str:
    return f"written by process {os.getpid()} on {socket.gethostname()}"


def live_status(
    status: str, reason: str, cause: StopCause | str = StopCause.NONE
) -> tuple[str, str, StopCause]:
    """A "running" run whose writing process on this machine is gone was interrupted (killed,
    crashed, power cut): say so instead of "running". Runs written elsewhere are left as is."""
    try:
        cause = StopCause(cause)
    except ValueError:  # written by a newer version
        cause = StopCause.ERROR
    m = _WRITER.fullmatch(reason) if status == RunStatus.RUNNING else None
    if m is None or m.group(2) != socket.gethostname():
        return status, reason, cause
    try:
        os.kill(int(m.group(1)), 0)
    except ProcessLookupError:
        return (
            INTERRUPTED,
            "the process running it stopped; `opro run` (or Run) continues it",
            StopCause.INTERRUPTED,
        )
    except (PermissionError, OverflowError, ValueError):
        pass  # alive under another user, or a mark we cannot check
    return status, "", cause  # alive here: the mark is for us, not for the user


def writer_alive_elsewhere(status: str, reason: str) -> int | None:
    """The id of another live process on this machine that is writing the run, or None."""
    m = _WRITER.fullmatch(reason) if status == RunStatus.RUNNING else None
    if m is None or m.group(2) != socket.gethostname() or int(m.group(1)) == os.getpid():
        return None
    try:
        os.kill(int(m.group(1)), 0)
    except (ProcessLookupError, OverflowError, ValueError):
        return None
    except PermissionError:
        pass
    return int(m.group(1))


def baseline_of(run: RunRow) -> int | None:
    """The run whose equal-budget baseline ``run`` holds (marked ``baseline_of``), or None."""
    override = run.spec_override or {}
    owner = override.get("baseline_of") if isinstance(override, dict) else None
    return owner if isinstance(owner, int) else None


class SessionBase:
    """An open project file. Not thread-safe: open one session per thread."""

    def __init__(self, store: ProjectStore) -> None:
        self.store = store
        self.kind = store.kind
        try:
            self.problem_kind: ProblemKind = get_kind(self.kind)  # every question about it
        except ValueError as exc:
            store.close()
            raise ProjectError(f"{store.path.name}: {exc}") from None
        self._clients: list[Any] = []  # closed with the session: their threads and connections
        self._problem: Problem | None = None

    @classmethod
    def create(
        cls, path: str | Path, kind: str, spec: dict[str, Any], name: str | None = None
    ) -> Self:
        problem = make_problem(kind, spec)  # validates the spec before anything is written
        return cls(ProjectStore.create(path, kind, problem.to_spec(), name=name))

    @classmethod
    def open(cls, path: str | Path, readonly: bool = False, check_pages: bool = True) -> Self:
        """``check_pages=False``: every check but the page scan (see ``ProjectStore.open``)."""
        session = cls(ProjectStore.open(path, readonly=readonly, check_pages=check_pages))
        try:
            session.problem()
        except ProjectError:
            session.close()
            raise
        except Exception as exc:  # a spec our problem classes reject
            session.close()
            raise ProjectError(f"{path}: the task definition is invalid ({exc})") from None
        return session

    @property
    def path(self) -> Path:
        return self.store.path

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def problem(self, run_id: int | None = None) -> Problem:
        """The project's problem; a forked run may carry its own template or settings."""
        override = self.store.run(run_id).spec_override if run_id is not None else None
        if override:
            spec = {**self.store.spec(), **override}
            return make_problem(self.kind, spec)
        if self._problem is None:
            self._problem = make_problem(self.kind, self.store.spec())
        return self._problem

    def update_spec(self, spec: dict[str, Any]) -> None:
        problem = make_problem(self.kind, spec)
        self.store.update_spec(problem.to_spec())
        self._problem = problem

    def run_ids(self) -> list[int]:
        """The project's runs, without the equal-budget baseline runs that belong to them."""
        return [r for r in self.store.run_ids() if baseline_of(self.store.run(r)) is None]

    def baseline_run_id(self, run_id: int) -> int | None:
        """The run holding ``run_id``'s equal-budget baseline, if it has one."""
        return next(
            (r for r in self.store.run_ids() if baseline_of(self.store.run(r)) == run_id), None
        )

    def latest_run_id(self) -> int | None:
        ids = self.run_ids()
        return ids[-1] if ids else None

    @_reads_file
    def plan_run(
        self, settings: RunSettings, *, new_run: bool = False, spec_changed: bool = False
    ) -> RunPlan:
        """What a run with ``settings`` will do — continue the latest run or start a new one —
        and the sentence that says so (see ``services.plan``). Writes nothing."""
        latest: dict[str, Any] | None = None
        every = self.store.run_ids()  # a new run's id counts the baseline runs too
        ids = self.run_ids()  # ...which are never the run to continue
        if ids:
            run = self.store.run(ids[-1])
            status, reason, _ = live_status(run.status, run.status_reason)
            latest = {
                "id": ids[-1],
                "status": status,
                "status_reason": reason,
                "last_step": self.store.last_step(ids[-1]),
                "settings": run.settings.to_dict(),
                "busy_pid": writer_alive_elsewhere(run.status, run.status_reason),
            }
        next_id = (every[-1] + 1) if every else 1
        return decide(latest, next_id, settings, new_run=new_run, spec_changed=spec_changed)

    def start_planned(
        self,
        plan: RunPlan,
        settings: RunSettings,
        optimizer: EndpointConfig,
        scorer: EndpointConfig | None = None,
    ) -> int:
        """Carry out ``plan``: the id of the run to drive."""
        opt, sc = optimizer.to_public_dict(), scorer.to_public_dict() if scorer else None
        # the project runs with these from now on (a kind without a scorer keeps the stored one)
        self.store.set_project_models({"optimizer": opt, **({"scorer": sc} if sc else {})})
        if plan.action is PlanAction.CONTINUE:
            # a sweep's run keeps its grid point, so the sweep still finds it afterwards
            kept = self.store.sweep_point(plan.run_id)
            point = {"sweep": kept} if kept is not None else {}
            self.store.update_run_config(plan.run_id, {**settings.to_dict(), **point}, opt, sc)
            return plan.run_id
        return self.store.create_run(settings.to_dict(), opt, sc)

    def prepare_run(
        self,
        settings: RunSettings,
        optimizer: EndpointConfig,
        scorer: EndpointConfig | None = None,
        *,
        new_run: bool = False,
        spec_changed: bool = False,
    ) -> int:
        """``plan_run`` then ``start_planned``: the id of the run to drive."""
        plan = self.plan_run(settings, new_run=new_run, spec_changed=spec_changed)
        return self.start_planned(plan, settings, optimizer, scorer)

    def default_run_settings(self) -> RunSettings | None:
        """Run settings the task asks for (a paper preset's), or None for the defaults."""
        wanted = self.store.spec().get("run_defaults")
        return RunSettings.from_dict(wanted) if isinstance(wanted, dict) and wanted else None

    @_reads_file
    def run_settings(self, run_id: int) -> RunSettings:
        return self.store.run(run_id).settings

    @_reads_file
    def endpoints(self, run_id: int) -> tuple[EndpointConfig, EndpointConfig | None]:
        run = self.store.run(run_id)
        scorer = EndpointConfig.from_dict(run.scorer) if run.scorer else None
        return EndpointConfig.from_dict(run.optimizer), scorer

    def client(self, config: EndpointConfig, role: str) -> LLMClient:
        client = make_client(config, cache=ProjectCache(self.store), role=role)
        if hasattr(client, "close"):
            self._clients.append(client)
        return client

    @_reads_file
    def engine(
        self,
        run_id: int,
        cancel: CancelToken | None = None,
        optimizer: LLMClient | None = None,
        scorer: LLMClient | None = None,
        quota: Callable[[int], int] | None = None,
    ) -> Engine:
        """An engine that continues ``run_id`` from its last completed step."""
        settings = self.run_settings(run_id)
        problem = self.problem(run_id)
        opt_cfg, sc_cfg = self.endpoints(run_id)
        if optimizer is None:
            optimizer = self.client(opt_cfg, "optimizer")
        if scorer is None and self.problem_kind.needs_scorer:
            scorer = self.client(sc_cfg or opt_cfg, "scorer")
        scorer = with_judge(problem, scorer, sc_cfg or opt_cfg, self.client)
        state = self.store.load_state(
            run_id,
            problem.higher_is_better,
            with_records=self.problem_kind.needs_records_on_resume,
        )
        # A stored solution this task cannot use (edited by hand: a list where a tour or an
        # instruction belongs) stays in the file but is not shown to the optimizer again.
        state.history = [h for h in state.history if usable_solution(problem, h.solution)]
        self.store.enable_wal()
        from .people import PeopleInbox

        inbox = PeopleInbox(self.store, run_id)
        sink = StoreSink(
            self.store,
            run_id,
            problem,
            settings.seed,
            (opt_cfg.base_url, (sc_cfg or opt_cfg).base_url),
            on_saved=inbox.step_saved,
        )
        return Engine(
            problem, optimizer, scorer, settings, sink, state, cancel, quota=quota, inbox=inbox
        )

    def run(self, run_id: int, cancel: CancelToken | None = None) -> Iterator[Event]:
        yield from self.engine(run_id, cancel).events()
