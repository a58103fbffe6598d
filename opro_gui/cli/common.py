"""What the `opro` subcommands share: exit codes, endpoint and settings options, formatting."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from opro_gui.core.models import RunSettings, RunStatus
from opro_gui.core.text import without_url_credentials
from opro_gui.llm import EndpointConfig
from opro_gui.llm.config import url_problem

if TYPE_CHECKING:
    from opro_gui.services import ProjectSession

EXIT_OK, EXIT_RUN_STOPPED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
NORMAL_END = {RunStatus.COMPLETED, RunStatus.TARGET_REACHED, RunStatus.NO_IMPROVEMENT}
DEFAULT_MODEL = "gpt-4o-mini"


#: The base URL of an offline estimate without one: nothing is sent; models priced by name.
NO_SERVER = "https://no-server.invalid/v1"


class CliError(Exception):
    """A one-line reason printed as ``opro: error: ...`` with exit code 2."""


def endpoint_from_args(
    args: argparse.Namespace, role: str, previous: EndpointConfig | None, offline: bool = False
) -> EndpointConfig:
    """Role-specific options win over the shared ones, which win over the stored config.
    ``offline`` (estimates): no base URL is needed; the model is priced by name."""

    def pick(name: str) -> Any:
        specific = getattr(args, f"{role}_{name}", None)
        return specific if specific is not None else getattr(args, name, None)

    base: dict[str, Any] = previous.to_public_dict() if previous else {}
    base_url = pick("base_url") or base.get("base_url") or os.environ.get("OPENAI_BASE_URL")
    if not base_url and offline:
        base_url = NO_SERVER
    elif not base_url:
        raise CliError(
            "no endpoint: pass --base-url URL or set OPENAI_BASE_URL "
            "(e.g. http://127.0.0.1:11434/v1 for Ollama)"
        )
    problem = url_problem(base_url)
    if problem:
        raise CliError(f"{role} endpoint: {problem}")
    base["base_url"] = base_url
    base["model"] = (
        pick("model") or base.get("model") or os.environ.get("OPRO_MODEL", DEFAULT_MODEL)
    )
    for opt, field in (
        ("api_key_env", "api_key_env"),
        ("mode", "mode"),
        ("concurrency", "concurrency"),
        ("max_retries", "max_retries"),
        ("timeout", "timeout"),
        ("rpm", "rpm"),
        ("tpm", "tpm"),
    ):
        value = pick(opt)
        if value is not None:
            base[field] = value
    try:
        return EndpointConfig.from_dict(base)
    except (TypeError, ValueError) as exc:
        raise CliError(f"bad {role} settings: {exc}") from None


ON_COMMAND_LINE, STORED, FROM_ENV = (
    "given on the command line",
    "stored in the project",
    "from $OPENAI_BASE_URL",
)


def endpoint_source(args: argparse.Namespace, role: str, previous: EndpointConfig | None) -> str:
    """Why ``endpoint_from_args`` chose the base URL it did (the same order of precedence)."""
    if getattr(args, f"{role}_base_url", None) or getattr(args, "base_url", None):
        return ON_COMMAND_LINE
    if previous is not None and previous.base_url:
        return STORED
    return FROM_ENV if os.environ.get("OPENAI_BASE_URL") else ""


def endpoint_lines(
    args: argparse.Namespace,
    roles: dict[str, tuple[EndpointConfig, EndpointConfig | None]],
    describe: str,
) -> list[str]:
    """The line that says which endpoint a run uses and why (``describe``: the models, from
    ``services.project_models.model_line``), and a note when ``$OPENAI_BASE_URL`` is set but
    the stored endpoint wins over it."""
    reasons = {role: endpoint_source(args, role, prev) for role, (_, prev) in roles.items()}
    distinct = list(dict.fromkeys(reasons.values()))
    why = distinct[0] if len(distinct) == 1 else "; ".join(f"{r} {w}" for r, w in reasons.items())
    named = any(getattr(args, n, None) for n in ("model", *(f"{r}_model" for r in roles)))
    if named and ON_COMMAND_LINE not in distinct:
        why += "; model given on the command line"
    lines = [f"models: {describe} ({why})"]
    env = without_url_credentials(os.environ.get("OPENAI_BASE_URL", "").strip())
    stored = {cfg.base_url for role, (cfg, _) in roles.items() if reasons[role] == STORED}
    for url in sorted(stored):
        if env and env.rstrip("/") != url.rstrip("/"):
            lines.append(
                f"using the project's stored endpoint {url}; $OPENAI_BASE_URL ({env}) is "
                "ignored — pass --base-url to use it"
            )
    return lines


def settings_from_args(args: argparse.Namespace, previous: RunSettings | None) -> RunSettings:
    s = previous or RunSettings()
    changes: dict[str, Any] = {"max_steps": args.steps}
    for opt, field in (
        ("temperature", "temperature"),
        ("samples", "samples_per_step"),
        ("max_tokens", "max_tokens"),
        ("seed", "seed"),
        ("history_size", "history_size"),
        ("target_score", "target_score"),
        ("patience", "patience"),
        ("budget_tokens", "budget_tokens"),
        ("budget_usd", "budget_usd"),
        ("pause_after_unparseable", "pause_after_unparseable"),
        ("pause_after_zero_score", "pause_after_zero_score"),
        ("baseline", "baseline"),
    ):
        value = getattr(args, opt, None)
        if value is not None:
            changes[field] = value
    for name in ("pause_after_unparseable", "pause_after_zero_score"):
        if changes.get(name, 0) < 0:
            raise CliError(f"--{name.replace('_', '-')} must be 0 (off) or more steps")
    return replace(s, **changes)


def short(value: Any, width: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def pick_run_id(session: ProjectSession, wanted: int | None) -> int:
    if wanted is not None:
        if wanted not in session.store.run_ids():  # a baseline run may be inspected too
            raise CliError(f"run {wanted} does not exist (runs: {session.run_ids() or 'none'})")
        return wanted
    last = session.latest_run_id()
    if last is None:
        raise CliError("the project has no runs yet")
    return last


def check_model_names(args: argparse.Namespace, endpoints: dict[str, EndpointConfig]) -> list[str]:
    """Read each server's /models once (unless --no-model-check): a model name given on the
    command line that the server does not serve is an error listing the models it does.
    Returns warnings about default or stored names, to print once the command has done its
    writing (so an error about the file stays the only line)."""
    if getattr(args, "no_model_check", False):
        return []
    pairs = [
        (cfg, bool(getattr(args, f"{role}_model", None) or getattr(args, "model", None)))
        for role, cfg in endpoints.items()
    ]
    from opro_gui.services.servers import check_endpoints

    errors, warnings = check_endpoints(pairs)
    if errors:
        raise CliError("; ".join(errors))
    return warnings


def print_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"opro: warning: {warning}", file=sys.stderr)
