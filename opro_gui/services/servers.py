"""Model servers as the CLI and the GUI see them: model-name checks and local-server detection."""

from __future__ import annotations

from collections.abc import Iterable

from opro_gui.llm import EndpointConfig
from opro_gui.llm.detect import DetectedServer, candidate_ports, detect_servers
from opro_gui.llm.model_check import ModelCheck, check_model

__all__ = ["DetectedServer", "ModelCheck", "check_endpoints", "find_local_servers"]


def find_local_servers(
    ports: Iterable[int] | None = None, extra_ports: Iterable[int] = (), timeout: float = 0.3
) -> list[DetectedServer]:
    """Model servers on this machine, each named by its answers (`opro models`, the GUI's
    first-run dialog). ``ports`` replaces the usual ones; ``extra_ports`` adds to them."""
    chosen = list(ports) if ports is not None else candidate_ports(extra_ports)
    return detect_servers(chosen, timeout=timeout)


def check_endpoints(
    endpoints: list[tuple[EndpointConfig, bool]],
) -> tuple[list[str], list[str]]:
    """(errors, warnings) for ``(endpoint, name given by the user)`` pairs, each distinct
    server and model checked once. A name the user gave that the server does not serve is an
    error; a default or stored name only warns (and sends nothing but GET /models)."""
    errors: list[str] = []
    warnings: list[str] = []
    seen: set[tuple[str, str]] = set()
    listed: dict[tuple[str, str, str], tuple[str, ...]] = {}  # one /models read per server
    for config, given in endpoints:
        if (config.base_url, config.model) in seen:
            continue
        seen.add((config.base_url, config.model))
        result = check_model(config, probe=given, listed=listed)
        if result.ok:
            continue
        if given and result.reachable:
            errors.append(result.message)
        elif result.reachable:  # an unreachable server: the run itself says so, once
            warnings.append(result.message)
    return errors, warnings
