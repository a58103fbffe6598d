"""Token prices and cost estimates: per call, and for a whole run before it starts."""

from __future__ import annotations

from dataclasses import dataclass

from .config import EndpointConfig, is_local_url

#: $ per million tokens (prompt, completion) by model-name prefix; the longest prefix wins.
#: Approximate public list prices at the time of writing — NOT authoritative, and providers
#: change them: edit this table (or set price_in/out_per_mtok on an endpoint) to match your bill.
PRICE_TABLE: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-4": (30.00, 60.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "gpt-3.5-turbo-instruct": (1.50, 2.00),
    "o1": (15.00, 60.00),
    "o1-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "davinci-002": (2.00, 2.00),
    "babbage-002": (0.40, 0.40),
}


def price_for(
    model: str, base_url: str = "", table: dict[str, tuple[float, float]] | None = None
) -> tuple[float, float] | None:
    """($/Mtok in, $/Mtok out) for ``model``; (0, 0) on local endpoints; None when unknown."""
    if base_url and is_local_url(base_url):
        return (0.0, 0.0)
    table = PRICE_TABLE if table is None else table
    name = model.lower().rsplit("/", 1)[-1]  # "openai/gpt-4o" (OpenRouter) -> "gpt-4o"
    best = ""
    for prefix in table:
        if name.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return table[best] if best else None


def estimate_cost(model: str, base_url: str, prompt_tokens: int, completion_tokens: int) -> float:
    """Dollars for one call by the price table; 0.0 for local endpoints and unknown models."""
    price = price_for(model, base_url)
    if price is None:
        return 0.0
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6


def config_cost(
    config: EndpointConfig, model: str, prompt_tokens: int, completion_tokens: int
) -> float:
    """Dollars for one call on ``config``: its own prices override the table."""
    table = price_for(model or config.model, config.base_url) or (0.0, 0.0)
    p_in = table[0] if config.price_in_per_mtok is None else config.price_in_per_mtok
    p_out = table[1] if config.price_out_per_mtok is None else config.price_out_per_mtok
    return (prompt_tokens * p_in + completion_tokens * p_out) / 1e6


def is_priced(config: EndpointConfig) -> bool:
    """False when the cost of calls on ``config`` is unknown (shown as 0, but not free)."""
    if config.price_in_per_mtok is not None and config.price_out_per_mtok is not None:
        return True
    return price_for(config.model, config.base_url) is not None


def tokens_from_chars(chars: int) -> int:
    """The rough rule of thumb used everywhere before a server counts: 4 chars per token."""
    return max(1, (chars + 3) // 4)


@dataclass(frozen=True)
class RunEstimate:
    """What N steps will cost, before running them. Completion tokens are expectations."""

    steps: int
    optimizer_calls: int
    scorer_calls: int
    prompt_tokens: int
    completion_tokens: int
    optimizer_cost_usd: float
    scorer_cost_usd: float
    priced: bool  # False if some model is missing from the price table (its cost counted as 0)

    @property
    def calls(self) -> int:
        return self.optimizer_calls + self.scorer_calls

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost_usd(self) -> float:
        return self.optimizer_cost_usd + self.scorer_cost_usd

    def summary(self) -> str:
        money = f"${self.cost_usd:,.2f}" + ("" if self.priced else " (some models unpriced)")
        return (
            f"{self.steps} steps: {self.calls:,} calls ({self.optimizer_calls:,} optimizer, "
            f"{self.scorer_calls:,} scorer), ~{self.tokens:,} tokens, ~{money}"
        )


def estimate_run(
    *,
    steps: int,
    optimizer: EndpointConfig,
    meta_prompt_chars: int,
    samples_per_step: int = 8,
    optimizer_completion_tokens: int = 300,
    scorer: EndpointConfig | None = None,
    scorer_requests_per_step: int = 0,
    scorer_prompt_chars: int = 0,
    scorer_completion_tokens: int = 50,
    initial_scorer_requests: int = 0,
    native_n: bool = False,
) -> RunEstimate:
    """Estimate calls, tokens and dollars of ``steps`` steps.

    The optimizer gets ``samples_per_step`` completions of a ``meta_prompt_chars`` prompt per
    step: one call of n completions if ``native_n`` (prompt billed once), else one call each
    (the paper's way). The scorer (prompt optimization; None for TSP/LR) gets
    ``scorer_requests_per_step`` requests of ``scorer_prompt_chars`` each per step (candidates x
    examples), plus ``initial_scorer_requests`` once for the initial solutions. Completion token
    counts are expected averages (pass ``max_tokens`` for a worst case).
    """
    opt_calls_per_step = 1 if native_n else samples_per_step
    opt_calls = steps * opt_calls_per_step
    opt_in = opt_calls * tokens_from_chars(meta_prompt_chars)
    opt_out = steps * samples_per_step * optimizer_completion_tokens
    opt_cost = config_cost(optimizer, optimizer.model, opt_in, opt_out)
    priced = is_priced(optimizer)

    sc_calls = sc_in = sc_out = 0
    sc_cost = 0.0
    if scorer is not None and (scorer_requests_per_step or initial_scorer_requests):
        sc_calls = steps * scorer_requests_per_step + initial_scorer_requests
        sc_in = sc_calls * tokens_from_chars(scorer_prompt_chars)
        sc_out = sc_calls * scorer_completion_tokens
        sc_cost = config_cost(scorer, scorer.model, sc_in, sc_out)
        priced = priced and is_priced(scorer)
    return RunEstimate(
        steps=steps,
        optimizer_calls=opt_calls,
        scorer_calls=sc_calls,
        prompt_tokens=opt_in + sc_in,
        completion_tokens=opt_out + sc_out,
        optimizer_cost_usd=opt_cost,
        scorer_cost_usd=sc_cost,
        priced=priced,
    )
