"""Re-using a run: replay a step, fork a run from a step, evaluate on held-out data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

from opro_gui.core.cancel import CancelToken
from opro_gui.core.models import CallRecord, CandidateStatus, RunSettings
from opro_gui.core.ports import LLMClient, LLMRequest
from opro_gui.core.rows import ReplayCandidate
from opro_gui.llm import EndpointConfig
from opro_gui.problems import make_problem
from opro_gui.problems.prompt_opt import PromptProblem
from opro_gui.storage import ProjectError

from . import stats
from .base import SessionBase
from .inspection import ProgressClient, slice_size
from .judging import with_judge
from .reports import BASELINE_LABEL


@dataclass(frozen=True)
class ReplayResult:
    """A step's meta-prompt sent again: the new answers beside the original ones."""

    id: int
    run_id: int
    step: int
    model: str
    meta_prompt: str
    completions: tuple[str, ...]
    error: str
    candidates: tuple[ReplayCandidate, ...]
    original_completions: tuple[str, ...]


@dataclass(frozen=True)
class EvaluationResult:
    """One instruction scored on a split by `evaluate`."""

    label: str
    instruction: str
    train_accuracy: float | None
    accuracy: float | None
    split: str
    n_examples: int
    complete: bool
    accuracy_ci: list[float] | None = None  # 95 % bootstrap interval [low, high]


class ActionsMixin(SessionBase):
    def replay(
        self,
        run_id: int,
        step: int,
        endpoint: EndpointConfig | None = None,
        samples: int | None = None,
        meta_prompt: str | None = None,
        temperature: float | None = None,
        score: bool = True,
        cancel: CancelToken | None = None,
        client: LLMClient | None = None,
    ) -> ReplayResult:
        """Re-send a step's meta-prompt (or an edited copy) and store the answers as a replay.
        The run itself is unchanged."""
        detail = self.store.step_detail(run_id, step)
        if detail is None or step == 0:
            raise ProjectError(f"run {run_id} has no optimization step {step} to replay")
        settings = self.run_settings(run_id)
        opt_cfg, sc_cfg = self.endpoints(run_id)
        endpoint = endpoint or opt_cfg
        prompt = detail.meta_prompt if meta_prompt is None else meta_prompt
        client = client or self.client(endpoint, "replay")
        request = LLMRequest(
            prompt=prompt,
            n=samples or settings.samples_per_step,
            temperature=settings.temperature if temperature is None else temperature,
            max_tokens=settings.max_tokens,
            role="replay",
        )
        (result,) = client.complete([request], cancel)
        calls: list[CallRecord] = list(result.calls or (result.call,))
        problem = self.problem(run_id)
        parsed: list[ReplayCandidate] = []
        to_score: list[int] = []
        for i, text in enumerate(result.texts):
            for p in problem.parse(text):
                entry = ReplayCandidate(i, p.text, p.solution, "invalid", p.reason)
                if p.solution is not None:
                    why = problem.filter_reason(p.solution)
                    status, reason = ("filtered", why) if why else ("parsed", "")
                    text_ = p.text or problem.format_solution(p.solution)
                    entry = replace(entry, text=text_, status=status, reason=reason)
                    if not why:
                        to_score.append(len(parsed))
                parsed.append(entry)
        if score and to_score:
            scorer = None
            if self.problem_kind.needs_scorer:
                scorer = self.client(sc_cfg or opt_cfg, "scorer")
            results = problem.score(
                [parsed[k].solution for k in to_score],
                _Collect(scorer, calls) if scorer else None,
                cancel,
            )
            for k, r in zip(to_score, results, strict=True):
                done = r.complete and r.score is not None
                parsed[k] = replace(
                    parsed[k], score=r.score, status="scored" if done else "incomplete"
                )
        replay_id = self.store.add_replay(
            run_id, step, endpoint.to_public_dict(), prompt, result.texts, parsed, calls
        )
        return ReplayResult(
            id=replay_id,
            run_id=run_id,
            step=step,
            model=endpoint.model,
            meta_prompt=prompt,
            completions=tuple(result.texts),
            error=result.error,
            candidates=tuple(parsed),
            original_completions=detail.completions,
        )

    def fork(
        self,
        run_id: int,
        step: int,
        settings: RunSettings | None = None,
        spec_override: dict[str, Any] | None = None,
    ) -> int:
        """A new run that starts from ``run_id``'s state after ``step``, with edited settings or
        template; the original run is untouched."""
        if step > self.store.last_step(run_id):
            raise ProjectError(f"run {run_id} has not completed step {step}")
        run = self.store.run(run_id)
        new_settings = (settings or run.settings).to_dict()
        override = {**(run.spec_override or {}), **(spec_override or {})} or None
        if override:
            make_problem(self.kind, {**self.store.spec(), **override})  # validate first
        new_id = self.store.create_run(
            new_settings,
            run.optimizer,
            run.scorer,
            parent_run_id=run_id,
            fork_step=step,
            spec_override=override,
        )
        self.store.copy_steps(run_id, new_id, step)
        return new_id

    def _baseline_best(self, run_id: int) -> tuple[str, float] | None:
        """The best instruction of the run's equal-budget baseline and its training score."""
        base = self.baseline_run_id(run_id)
        steps = self.store.steps(base) if base is not None else []
        last = steps[-1] if steps else None
        if last is not None and last.best_solution is not None and last.best_score is not None:
            return str(last.best_solution), float(last.best_score)
        return None

    def evaluate(
        self,
        run_id: int,
        split: str = "test",
        top: int = 1,
        scorer_endpoint: EndpointConfig | None = None,
        cancel: CancelToken | None = None,
        client: LLMClient | None = None,
        dataset: str | None = None,
        dataset_format: str | None = None,
        input_col: str | None = None,
        target_col: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        train_baselines: bool = False,
    ) -> list[EvaluationResult]:
        """Score the top-K instructions by TRAINING accuracy and the baselines on ``split``.

        ``dataset``: another dataset file (transfer, paper §5.2.3: GSM8K instructions on
        MultiArith and AQuA): every example of it is scored with the run's scorer settings, and
        the evaluation is stored under the split ``transfer:<dataset name>``.

        ``train_baselines``: also score the baselines (instructions the run never scored) on
        the training split, so that each row has a training accuracy (costs that many requests).
        ``progress(done, total)``: called (in this thread) as the scorer's answers come in.
        Nothing is stored unless every instruction was scored: a cancelled evaluation leaves
        nothing behind (the answers it paid for are cached only with the calls that bought them)."""
        if not self.problem_kind.supports_evaluation:
            raise ProjectError(
                f"evaluate needs held-out data; {self.problem_kind.display_name} projects have none"
            )
        problem = self.problem(run_id)
        if dataset is not None:
            problem, split = transfer_problem(
                cast(PromptProblem, problem), dataset, dataset_format, input_col, target_col
            )
        # Only instructions (text) with a score can be ranked; other stored values are skipped.
        cands = [
            (c.score, c.step, c.index, c.solution)
            for c in self.store.candidates(run_id)
            if c.status == CandidateStatus.SCORED
            and c.score is not None
            and isinstance(c.solution, str)
        ]
        cands.sort(key=lambda c: (-c[0], c[1], c[2]))
        chosen: list[tuple[str, str, float | None]] = []
        seen: set[str] = set()
        for score, _, _, solution in cands:
            if solution not in seen and len(chosen) < top:
                seen.add(solution)
                chosen.append((f"top-{len(chosen) + 1}", solution, score))
        train_of = {solution: score for score, _, _, solution in cands}
        prompt_problem = cast(PromptProblem, problem)
        base = self._baseline_best(run_id)
        if base is not None:
            chosen.append((BASELINE_LABEL, base[0], base[1]))
        for b in prompt_problem.baselines():
            chosen.append((f"baseline: {b!r}" if b else "baseline: empty", b, train_of.get(b)))
        # Instructions the run never scored (the baselines, usually) on its training split too.
        untrained = [k for k, c in enumerate(chosen) if c[2] is None] if train_baselines else []
        untrained = untrained if dataset is None and split != "train" else []
        opt_cfg, sc_cfg = self.endpoints(run_id)
        calls: list[CallRecord] = []
        endpoint = scorer_endpoint or sc_cfg or opt_cfg
        inner = client or self.client(endpoint, "scorer")
        if progress is not None:
            n_split = len(prompt_problem.split_ids("all" if dataset is not None else split))
            expected = len(chosen) * n_split + len(untrained) * len(prompt_problem.train_ids)
            inner = ProgressClient(inner, progress, slice_size(endpoint.concurrency), expected)
        scorer = with_judge(problem, inner, endpoint, self.client)
        assert scorer is not None
        if untrained:
            on_train = prompt_problem.evaluate(
                [chosen[k][1] for k in untrained], _Collect(scorer, calls), "train", cancel
            )
            for k, res in zip(untrained, on_train, strict=True):
                chosen[k] = (chosen[k][0], chosen[k][1], res.score)
        results = prompt_problem.evaluate(
            [c[1] for c in chosen],
            _Collect(scorer, calls),
            split="all" if dataset is not None else split,
            cancel=cancel,
        )
        out = []
        for (label, instr, train), res in zip(chosen, results, strict=True):
            self.store.add_evaluation(run_id, split, label, instr, instr, res, train, calls)
            calls = []
            ci = stats.bootstrap_interval([r.correct for r in res.records if r.correct is not None])
            out.append(
                EvaluationResult(
                    label=label,
                    instruction=instr,
                    train_accuracy=train,
                    accuracy=res.score,
                    split=split,
                    n_examples=len(res.records),
                    complete=res.complete,
                    accuracy_ci=ci.to_list() if ci else None,
                )
            )
        return out


def transfer_problem(
    home: PromptProblem,
    path: str,
    fmt: str | None,
    input_col: str | None,
    target_col: str | None,
) -> tuple[PromptProblem, str]:
    """The run's task on another dataset: its examples, task type and answer checking; the
    run's instruction position and scorer settings. Returns it and the split name to store."""
    from opro_gui.problems.datasets import DatasetError, load_dataset, paper_defaults

    try:
        other = load_dataset(path, fmt, input_col, target_col)
    except DatasetError as exc:
        raise ProjectError(str(exc)) from None
    defaults = paper_defaults(other.name, other.fmt)
    spec = {
        **home.to_spec(),
        "examples": other.examples,
        "train_ids": list(range(len(other.examples))),
        "task_type": defaults["task_type"] or other.task_type_guess,
        "task_name": defaults["task_name"],
        "task_phrase": None,
    }
    spec.pop("test_ids", None)
    try:
        return PromptProblem.from_spec(spec), f"transfer:{other.name}"
    except ValueError as exc:
        raise ProjectError(f"{other.name}: {exc}") from None


class _Collect:
    """Keeps the CallRecords of calls made outside the engine (replays, evaluations)."""

    def __init__(self, inner: LLMClient, calls: list[CallRecord]) -> None:
        self._inner, self._calls = inner, calls

    @property
    def model(self) -> str:
        return self._inner.model

    def complete(self, requests: Any, cancel: CancelToken | None = None) -> Any:
        results = self._inner.complete(requests, cancel)
        for r in results:
            self._calls.extend(r.calls or (r.call,))
        return results
