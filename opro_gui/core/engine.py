"""The OPRO loop, once for every problem kind: meta-prompt → sample → parse/dedupe/filter →
score → record → event. Synchronous; iterate ``Engine.events()`` (the GUI does so in a worker)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from .cancel import Cancelled, CancelToken
from .events import Event, RunFinished, RunStarted, StepCompleted, StepStarted
from .ingredients import with_ingredients
from .models import (
    HUMAN_ORIGIN,
    REPAIRED_PREFIX,
    CallRecord,
    Candidate,
    CandidateStatus,
    Intervention,
    ParsedCandidate,
    RunSettings,
    RunStatus,
    Scored,
    Solution,
    StepRecord,
    StopCause,
)
from .ports import LLMClient, LLMRequest, Problem, RunSink, RunState
from .recording import SENT, Recorder, all_incomplete, incomplete_reason
from .stall import StallWatch

#: With a quota, how many optimizer requests one step may make to reach it.
QUOTA_ROUNDS = 4


class StepPaused(Exception):
    """A step could not be completed for a reason that resuming may fix (endpoint down...)."""

    def __init__(self, message: str, cause: StopCause) -> None:
        super().__init__(message)
        self.cause = cause


class Engine:
    def __init__(
        self,
        problem: Problem,
        optimizer: LLMClient,
        scorer: LLMClient | None,
        settings: RunSettings,
        sink: RunSink,
        state: RunState | None = None,
        cancel: CancelToken | None = None,
        clock: Callable[[], float] = time.time,
        quota: Callable[[int], int] | None = None,
        inbox: Callable[[int], Intervention] | None = None,
    ) -> None:
        """``quota``: if given, step s sends exactly ``quota(s)`` candidates to the scorer when
        the optimizer proposes enough new valid ones within ``QUOTA_ROUNDS`` requests (an
        equal-budget comparison run); otherwise at most ``samples_per_step``."""
        self.quota = quota
        self.problem = problem
        self.optimizer = optimizer
        self.scorer = scorer
        self.settings = settings
        self.sink = sink
        self.state = state or RunState()
        self.cancel = cancel or CancelToken()
        self._clock = clock
        # Asked before each optimization step for what people added or excluded (any kind).
        self.inbox = inbox

    # -- public ----------------------------------------------------------------------------
    def run(self, on_event: Callable[[Event], None] | None = None) -> RunFinished:
        """Drive the loop to its end; returns the final event."""
        last: Event | None = None
        for event in self.events():
            last = event
            if on_event:
                on_event(event)
        assert isinstance(last, RunFinished)
        return last

    def events(self) -> Iterator[Event]:
        st = self.state
        yield RunStarted(first_step=st.last_step + 1, max_steps=self.settings.max_steps)
        status, reason, cause = RunStatus.FAILED, "", StopCause.ERROR
        watch = StallWatch(self.settings, getattr(self.problem, "worst_score", None))
        try:
            try:
                self.sink.status_changed(RunStatus.RUNNING)
            except Exception as exc:
                raise StepPaused(f"cannot write to the project: {exc}", StopCause.DISK) from exc
            while True:
                stop = self._stop_reason()
                if stop:
                    status, cause, reason = stop
                    break
                step = st.last_step + 1
                if step == 0:
                    record = self._initial_step()
                else:
                    started = self._clock()
                    calls: list[CallRecord] = []
                    iv = self.inbox(step) if self.inbox is not None else Intervention()
                    human = self._human_candidates(step, iv, calls)
                    shown = self._trajectory(
                        [*st.history, *self._as_history(human)], iv.excluded_keys
                    )
                    meta_prompt = self.problem.render_meta_prompt(shown, step, self._history_size())
                    yield StepStarted(step=step, meta_prompt=meta_prompt)
                    record = self._optimization_step(step, meta_prompt, human, calls, started)
                    record = with_ingredients(self.problem, shown, self._history_size(), record)
                try:
                    self.sink.step_completed(record)
                except Exception as exc:  # disk full, read-only, file gone: keep state as on disk
                    raise StepPaused(
                        f"could not save step {record.step}: {exc}", StopCause.DISK
                    ) from exc
                improved = self._apply(record)
                yield StepCompleted(record=record, totals=st.totals.to_dict(), improved=improved)
                if record.step > 0 and all_incomplete(record):
                    status, reason = RunStatus.PAUSED, incomplete_reason(record)
                    cause = StopCause.SCORER_FAILED
                    break
                stalled = watch.observe(record)
                if stalled and record.step < self.settings.max_steps:  # else: nothing to save
                    status, (cause, reason) = RunStatus.PAUSED, stalled
                    break
        except Cancelled:
            status, cause, reason = (
                RunStatus.CANCELLED,
                StopCause.USER_CANCEL,
                "cancelled by the user",
            )
        except StepPaused as exc:
            status, cause, reason = RunStatus.PAUSED, exc.cause, str(exc)
        except Exception as exc:  # a bug or an unexpected failure: keep what is done
            status, cause, reason = (
                RunStatus.FAILED,
                StopCause.ERROR,
                f"{type(exc).__name__}: {exc}",
            )
        try:
            self.sink.status_changed(status, reason, cause)
        except Exception as exc:  # the file is unwritable; the reason still reaches the caller
            reason = f"{reason} (and the run status could not be saved: {exc})"
        yield RunFinished(
            status=status,
            reason=reason,
            last_step=st.last_step,
            totals=st.totals.to_dict(),
            cause=cause,
        )

    # -- stop rules ------------------------------------------------------------------------
    def _stop_reason(self) -> tuple[RunStatus, StopCause, str] | None:
        s, st = self.settings, self.state
        self.cancel.raise_if_cancelled()
        if st.last_step >= 0:
            if st.found_optimum and s.stop_at_optimum:
                return RunStatus.TARGET_REACHED, StopCause.OPTIMUM, "the optimum was found"
            best = self.best()
            if s.target_score is not None and best is not None and self._reached(best.score):
                return (
                    RunStatus.TARGET_REACHED,
                    StopCause.TARGET,
                    f"target score {s.target_score:g} reached",
                )
            if st.last_step >= s.max_steps:
                return (
                    RunStatus.COMPLETED,
                    StopCause.STEP_BUDGET,
                    f"step budget of {s.max_steps} used",
                )
            if s.patience is not None and st.steps_without_improvement >= s.patience:
                return (
                    RunStatus.NO_IMPROVEMENT,
                    StopCause.PATIENCE,
                    f"no improvement for {s.patience} steps",
                )
            if s.budget_tokens is not None and st.totals.tokens >= s.budget_tokens:
                return (
                    RunStatus.PAUSED,
                    StopCause.BUDGET_TOKENS,
                    f"token budget reached: {st.totals.tokens} of {s.budget_tokens} tokens used",
                )
            if s.budget_usd is not None and st.totals.cost_usd >= s.budget_usd:
                return (
                    RunStatus.PAUSED,
                    StopCause.BUDGET_USD,
                    f"cost budget reached: ${st.totals.cost_usd:.4f} of ${s.budget_usd:.4f}",
                )
            if self.cancel.pause_requested:
                return RunStatus.PAUSED, StopCause.USER_PAUSE, "paused by the user"
        return None

    def _reached(self, score: float) -> bool:
        target = self.settings.target_score
        assert target is not None
        return score >= target if self.problem.higher_is_better else score <= target

    # -- steps -----------------------------------------------------------------------------
    def _history_size(self) -> int:
        return self.settings.history_size or self.problem.default_history_size

    def _initial_step(self) -> StepRecord:
        started = self._clock()
        calls: list[CallRecord] = []
        parsed = [
            ParsedCandidate(solution=s, text=self.problem.format_solution(s))
            for s in self.problem.initial_solutions()
        ]
        candidates = self._judge(0, parsed, [-1] * len(parsed), calls, cap=None)
        return self._record(0, "", (), candidates, calls, started)

    def _human_candidates(
        self, step: int, iv: Intervention, calls: list[CallRecord]
    ) -> list[Candidate]:
        """Solutions people added, judged like proposals (deduped, filtered, scored)."""
        if not iv.added:
            return []
        parsed = [ParsedCandidate(s, text=self.problem.format_solution(s)) for s in iv.added]
        return self._judge(step, parsed, [HUMAN_ORIGIN] * len(parsed), calls, cap=None)

    def _trajectory(self, history: list[Scored], excluded: frozenset[str]) -> list[Scored]:
        if not excluded:
            return history
        return [h for h in history if self.problem.dedup_key(h.solution) not in excluded]

    def _optimization_step(
        self,
        step: int,
        meta_prompt: str,
        human: list[Candidate],
        calls: list[CallRecord],
        started: float,
    ) -> StepRecord:
        optimizer = Recorder(self.optimizer, calls)
        request = LLMRequest(
            prompt=meta_prompt,
            n=self.settings.samples_per_step,
            temperature=self.settings.temperature,
            max_tokens=self.settings.max_tokens,
            role="optimizer",
        )
        want = self.quota(step) if self.quota is not None else None
        completions: list[str] = []
        candidates: list[Candidate] = []
        step_keys: set[str] = {c.key for c in human if c.key}
        for round_ in range(QUOTA_ROUNDS if want is not None else 1):
            sent = sum(c.status in SENT for c in candidates)
            if want is not None and sent >= want:
                break
            (result,) = optimizer.complete([request], self.cancel)
            if not result.texts:
                if round_ == 0:
                    raise StepPaused(
                        f"optimizer request failed: {result.error or 'no completion'}",
                        StopCause.OPTIMIZER_FAILED,
                    )
                break
            parsed: list[ParsedCandidate] = []
            origin: list[int] = []
            for i, text in enumerate(result.texts, start=len(completions)):
                for p in self.problem.parse(text):
                    parsed.append(p)
                    origin.append(i)
            completions.extend(result.texts)
            cap = self.settings.samples_per_step if want is None else want - sent
            candidates += self._judge(
                step,
                parsed,
                origin,
                calls,
                cap=cap,
                step_keys=step_keys,
                first=len(human) + len(candidates),
            )
        return self._record(
            step, meta_prompt, tuple(completions), [*human, *candidates], calls, started
        )

    def _judge(
        self,
        step: int,
        parsed: Sequence[ParsedCandidate],
        origin: Sequence[int],
        calls: list[CallRecord],
        cap: int | None,
        step_keys: set[str] | None = None,
        first: int = 0,
    ) -> list[Candidate]:
        """Dedupe, filter and score parsed candidates; returns them in proposal order.
        ``step_keys``: keys seen earlier in this step; ``first``: index of the first one."""
        seen = self.state.seen_keys
        step_keys = set() if step_keys is None else step_keys
        verdicts: list[Candidate | None] = []
        to_score: list[tuple[int, Solution, str, str]] = []
        repairs: dict[int, str] = {}
        for i, p in enumerate(parsed):

            def reject(status: CandidateStatus, reason: str, text: str, key: str = "") -> None:
                verdicts.append(
                    Candidate(
                        step=step,
                        index=first + i,  # noqa: B023 - called at once, inside this iteration
                        completion_index=origin[i],  # noqa: B023
                        solution=p.solution,  # noqa: B023
                        text=text,
                        status=status,
                        reason=reason,
                        key=key,
                    )
                )

            if p.solution is None:
                reject(CandidateStatus.INVALID, p.reason or "could not parse", p.text)
                continue
            text = p.text or self.problem.format_solution(p.solution)
            key = self.problem.dedup_key(p.solution)
            if key in seen or key in step_keys:
                where = "earlier in this step" if key in step_keys else "in an earlier step"
                reject(CandidateStatus.DUPLICATE, f"already proposed {where}", text, key)
                continue
            # Like the reference, a key is remembered before filtering, so a filtered text
            # also blocks identical later proposals.
            step_keys.add(key)
            why = self.problem.filter_reason(p.solution)
            if why:
                reject(CandidateStatus.FILTERED, why, text, key)
                continue
            if cap is not None and len(to_score) >= cap:
                why = (
                    f"more than {cap} candidates in one step"
                    if self.quota is None
                    else "this step's budget is used (as many as the compared run scored)"
                )
                reject(CandidateStatus.FILTERED, why, text, key)
                continue
            verdicts.append(None)
            to_score.append((i, p.solution, text, key))
            if p.repair:
                repairs[i] = f"{REPAIRED_PREFIX}{p.repair}"
        results = []
        if to_score:
            scorer = Recorder(self.scorer, calls) if self.scorer is not None else None
            results = self.problem.score([s for _, s, _, _ in to_score], scorer, self.cancel)
        for (i, solution, text, key), res in zip(to_score, results, strict=True):
            complete = res.complete and res.score is not None
            verdicts[i] = Candidate(
                step=step,
                index=first + i,
                completion_index=origin[i],
                solution=solution,
                text=text,
                status=CandidateStatus.SCORED if complete else CandidateStatus.INCOMPLETE,
                # A scored candidate's reason says what robust parsing repaired, if anything.
                reason=repairs.get(i, "")
                if complete
                else (res.error or "some scorer requests failed"),
                score=res.score,
                key=key,
                records=res.records,
            )
        return [v for v in verdicts if v is not None]

    def _record(
        self,
        step: int,
        meta_prompt: str,
        completions: tuple[str, ...],
        candidates: list[Candidate],
        calls: list[CallRecord],
        started: float,
    ) -> StepRecord:
        scored = [c for c in candidates if c.status is CandidateStatus.SCORED]
        optimal = any(
            c.score is not None and self.problem.is_optimal(c.solution, c.score) for c in scored
        )
        best = self._best_of([*self.state.history, *self._as_history(scored)])
        return StepRecord(
            step=step,
            meta_prompt=meta_prompt,
            completions=completions,
            candidates=tuple(candidates),
            calls=tuple(calls),
            best_score=best.score if best else None,
            best_solution=best.solution if best else None,
            started_at=started,
            finished_at=self._clock(),
            optimal=optimal,
        )

    # -- state -----------------------------------------------------------------------------
    @staticmethod
    def _as_history(candidates: Sequence[Candidate]) -> list[Scored]:
        return [
            Scored(c.solution, float(c.score), c.step, records=c.records, index=c.index)
            for c in candidates
            if c.score is not None
        ]

    def _best_of(self, history: Sequence[Scored]) -> Scored | None:
        if not history:
            return None
        if self.problem.higher_is_better:
            return max(history, key=lambda h: h.score)
        return min(history, key=lambda h: h.score)

    def best(self) -> Scored | None:
        return self._best_of(self.state.history)

    def _apply(self, record: StepRecord) -> bool:
        """Fold a completed step into the state; True if the best score improved."""
        st = self.state
        before = self.best()
        for c in record.candidates:
            if c.status in (CandidateStatus.SCORED, CandidateStatus.FILTERED) and c.key:
                st.seen_keys.add(c.key)
        st.history.extend(
            self._as_history([c for c in record.candidates if c.status is CandidateStatus.SCORED])
        )
        for call in record.calls:
            st.totals.add(call)
        st.last_step = record.step
        st.found_optimum = st.found_optimum or record.optimal
        after = self.best()
        improved = after is not None and (
            before is None
            or (
                after.score > before.score
                if self.problem.higher_is_better
                else after.score < before.score
            )
        )
        if record.step > 0:
            st.steps_without_improvement = 0 if improved else st.steps_without_improvement + 1
        return improved
