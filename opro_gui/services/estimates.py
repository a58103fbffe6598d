"""`opro estimate`: calls, tokens and dollars of the next steps — offline, learning from the run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opro_gui.core.models import RunSettings, Scored
from opro_gui.core.ports import Problem
from opro_gui.core.tokens import approx_tokens
from opro_gui.llm import EndpointConfig
from opro_gui.llm.pricing import config_cost, is_priced
from opro_gui.problems import ProblemKind, ScorerLoad

_RECENT = 3  # steps a learned average is taken over (the latest ones)
# (low, high) factors around the point estimate: measured figures vary little from step to
# step; defaults are guesses (models differ 3x in how much they write).
_LEARNED = (0.85, 1.15)
_DEFAULT_PROMPT = (0.85, 1.5)  # tokenizers that cut numbers digit by digit count more
_DEFAULT_ANSWER = (0.5, 3.0)


@dataclass
class _Measured:
    """Per-step averages over the latest completed steps of a run (steps >= 1)."""

    steps: int
    opt_requests: float
    opt_prompt_per_request: float
    opt_completion_per_sample: float
    prompt_ratio: float  # measured prompt tokens / approx_tokens(meta-prompt sent)
    scorer_requests: float
    scorer_prompt_per_request: float
    scorer_completion_per_request: float
    valid_per_step: float


def estimate_steps(
    kind: ProblemKind,
    problem: Problem,
    steps: int,
    settings: RunSettings,
    optimizer: EndpointConfig,
    scorer: EndpointConfig | None,
    run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Estimate ``steps`` more steps. ``run`` (optional) holds the latest run's ``steps``,
    ``calls``, ``candidates`` and ``history`` rows: with a completed step, its own averages
    replace the kind's defaults. Sends nothing anywhere."""
    samples = settings.samples_per_step
    size = settings.history_size or problem.default_history_size
    measured = _measure(run, samples) if run else None
    history = list(run["history"]) if run and run.get("history") else []
    last_step = int(run["last_step"]) if run else -1
    if not history:
        history = [Scored(solution=s, score=0.0, step=0) for s in problem.initial_solutions()]
    first = max(1, last_step + 1)
    # Meta-prompt tokens per step: rendered from the history the next step will see, grown
    # by the candidates each step adds until the history is full.
    now = approx_tokens(problem.render_meta_prompt(history, first, size))
    empty = approx_tokens(problem.render_meta_prompt([], first, size))
    shown = min(size, len({problem.dedup_key(h.solution) for h in history}))
    per_entry = (now - empty) / shown if shown else 0.0
    growth = measured.valid_per_step if measured else float(samples)
    ratio = measured.prompt_ratio if measured else 1.0
    meta = [ratio * (empty + per_entry * min(size, shown + j * growth)) for j in range(steps)]
    if measured:
        opt_requests = measured.opt_requests
        per_sample = measured.opt_completion_per_sample
    else:
        opt_requests = float(samples if optimizer.n_mode == "parallel" else 1)
        per_sample = float(kind.optimizer_answer_tokens(problem))
    opt_prompt = sum(opt_requests * m for m in meta)
    opt_completion = steps * samples * per_sample
    load = ScorerLoad()
    if kind.needs_scorer and scorer is not None:
        load = kind.scorer_load(problem, samples)
    if measured and measured.scorer_requests:
        sc_requests = steps * measured.scorer_requests
        sc_prompt = sc_requests * measured.scorer_prompt_per_request
        sc_completion = sc_requests * measured.scorer_completion_per_request
    else:
        sc_requests = steps * load.requests_per_step + (
            load.initial_requests if last_step < 0 else 0
        )
        sc_prompt = sc_requests * load.prompt_tokens
        sc_completion = sc_requests * load.answer_tokens
    prompt_f, answer_f = (_LEARNED, _LEARNED) if measured else (_DEFAULT_PROMPT, _DEFAULT_ANSWER)
    # A local server may ignore n: then every sample is its own request, prompt billed each time.
    n_unknown = not measured and optimizer.n_mode == "auto" and optimizer.is_local
    opt_prompt_high = opt_prompt * (samples if n_unknown else 1)

    def cost(
        prompt_opt: float, completion_opt: float, prompt_sc: float, completion_sc: float
    ) -> float:
        total = config_cost(optimizer, optimizer.model, round(prompt_opt), round(completion_opt))
        if scorer is not None:
            total += config_cost(scorer, scorer.model, round(prompt_sc), round(completion_sc))
        return total

    point = (opt_prompt, opt_completion, sc_prompt, sc_completion)
    low = (
        opt_prompt * prompt_f[0],
        opt_completion * answer_f[0],
        sc_prompt * prompt_f[0],
        sc_completion * answer_f[0],
    )
    high = (
        opt_prompt_high * prompt_f[1],
        opt_completion * answer_f[1],
        sc_prompt * prompt_f[1],
        sc_completion * answer_f[1],
    )
    unpriced = sorted({c.model for c in (optimizer, scorer) if c is not None and not is_priced(c)})
    opt_calls = round(steps * opt_requests)
    sc_calls = round(sc_requests)
    basis = (
        f"the run's last {measured.steps} step(s)"
        if measured
        else "defaults for this kind of problem (no step measured yet)"
    )
    est = {
        "steps": steps,
        "calls": opt_calls + sc_calls,
        "optimizer_calls": opt_calls,
        "scorer_calls": sc_calls,
        "prompt_tokens": round(opt_prompt + sc_prompt),
        "completion_tokens": round(opt_completion + sc_completion),
        "total_tokens": round(sum(point)),
        "cost_usd": round(cost(*point), 4),
        "priced": not unpriced,
        "unpriced_models": unpriced,
        "range": {
            "total_tokens": [round(sum(low)), round(sum(high))],
            "cost_usd": [round(cost(*low), 4), round(cost(*high), 4)],
        },
        "basis": basis,
        "local": all(c.is_local for c in (optimizer, scorer) if c is not None),
    }
    est["summary"] = summary_text(est)
    return est


def summary_text(est: dict[str, Any]) -> str:
    """One line: calls, tokens and dollars, each with its range; unknown prices said."""
    lo, hi = est["range"]["total_tokens"]
    clo, chi = est["range"]["cost_usd"]
    text = (
        f"{est['calls']:,} calls ({est['optimizer_calls']:,} optimizer, "
        f"{est['scorer_calls']:,} scorer), ~{est['total_tokens']:,} tokens "
        f"({lo:,}–{hi:,})"
    )
    if est["unpriced_models"]:
        text += f", cost unknown: no price for {', '.join(est['unpriced_models'])}"
        if est["cost_usd"]:
            text += f" (the rest ~${est['cost_usd']:,.2f})"
    elif est.get("local"):
        text += ", $0 (local server)"
    else:
        text += f", ~${est['cost_usd']:,.2f} (${clo:,.2f}–${chi:,.2f})"
    return text


def _measure(run: dict[str, Any], samples: int) -> _Measured | None:
    done = sorted({int(s["step"]) for s in run["steps"] if int(s["step"]) >= 1})
    recent = done[-_RECENT:]
    if not recent:
        return None
    chosen = set(recent)
    calls = [c for c in run["calls"] if c["step"] in chosen and not c["cached"]]
    opt = [c for c in calls if c["role"] == "optimizer"]
    sc = [c for c in calls if c["role"] != "optimizer"]
    k = len(recent)
    opt_prompt = sum(int(c["prompt_tokens"]) for c in opt)
    last = max(recent)
    last_meta = str(run.get("meta_prompts", {}).get(last, ""))
    last_opt = [c for c in opt if c["step"] == last]
    approx_last = approx_tokens(last_meta) * max(1, len(last_opt))
    ratio = sum(int(c["prompt_tokens"]) for c in last_opt) / approx_last if approx_last else 1.0
    valid = sum(
        1
        for c in run["candidates"]
        if c["step"] in chosen and c["status"] in ("scored", "incomplete")
    )
    return _Measured(
        steps=k,
        opt_requests=len(opt) / k,
        opt_prompt_per_request=opt_prompt / max(1, len(opt)),
        opt_completion_per_sample=sum(int(c["completion_tokens"]) for c in opt) / (k * samples),
        prompt_ratio=ratio or 1.0,
        scorer_requests=len(sc) / k,
        scorer_prompt_per_request=sum(int(c["prompt_tokens"]) for c in sc) / max(1, len(sc)),
        scorer_completion_per_request=sum(int(c["completion_tokens"]) for c in sc)
        / max(1, len(sc)),
        valid_per_step=valid / k,
    )
