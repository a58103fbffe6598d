"""Chat prompts: templates with {placeholders} from the dataset's columns, the instruction as a
system message, and the guard rails a candidate must pass before any scorer call."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opro_gui.core.ports import LLMRequest

#: "paper": the paper's four positions (Q_begin...); "template": the candidate IS the user turn,
#: a template with {placeholders}; "system_before"/"system_after": the candidate is the system
#: message, sent before or after the user turn made from ``user_template``.
PLACEMENTS = ("paper", "template", "system_before", "system_after")
_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def placeholders(text: str) -> list[str]:
    """The {name} slots of a template, in order of first appearance."""
    return list(dict.fromkeys(_SLOT.findall(text)))


def fill(template: str, columns: Mapping[str, str]) -> str:
    """The template with every {column} replaced; other braces (JSON examples) are kept."""
    return _SLOT.sub(lambda m: columns.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True)
class ChatSettings:
    placement: str = "paper"
    user_template: str = "{input}"
    required: tuple[str, ...] = ()
    banned: tuple[str, ...] = field(default=())

    @classmethod
    def from_spec(cls, raw: Any, columns: set[str]) -> ChatSettings:
        if raw is None:
            return cls()
        _check(isinstance(raw, dict), "chat must be an object (placement, user_template, ...)")
        placement = str(raw.get("placement", "paper"))
        _check(placement in PLACEMENTS, f"chat placement must be one of {', '.join(PLACEMENTS)}")
        user_template = raw.get("user_template", "{input}")
        _check(isinstance(user_template, str), "chat user_template must be a string")
        default_required = ["input"] if placement == "template" else []
        required = raw.get("required_placeholders", default_required)
        banned = raw.get("banned_phrases", [])
        for what, value in (("required_placeholders", required), ("banned_phrases", banned)):
            _check(
                isinstance(value, list) and all(isinstance(v, str) and v for v in value),
                f"chat {what} must be a list of non-empty strings",
            )
        unknown = [p for p in [*required, *placeholders(user_template)] if p not in columns]
        _check(
            not unknown,
            f"placeholder {{{unknown[0] if unknown else ''}}} is not a column of the dataset "
            f"(columns: {', '.join(sorted(columns))})",
        )
        return cls(placement, user_template, tuple(required), tuple(banned))

    def to_spec(self) -> dict[str, Any] | None:
        if self == ChatSettings():
            return None
        return {
            "placement": self.placement,
            "user_template": self.user_template,
            "required_placeholders": list(self.required),
            "banned_phrases": list(self.banned),
        }

    @property
    def active(self) -> bool:
        return self.placement != "paper"

    def guard(self, candidate: str) -> str | None:
        """Why a candidate may not reach the scorer, or None."""
        if self.placement == "template":
            have = set(placeholders(candidate))
            missing = [p for p in self.required if p not in have]
            if missing:
                return f"drops the placeholder {{{missing[0]}}}"
        low = candidate.lower()
        for phrase in self.banned:
            if phrase.lower() in low:
                return f"contains the banned phrase {phrase!r}"
        return None

    def request(
        self, instruction: str, columns: Mapping[str, str], max_tokens: int
    ) -> tuple[LLMRequest, str]:
        """The scorer request for one example and how it is shown (for the stored record)."""
        if self.placement == "template":
            prompt = fill(instruction, columns)
            shown = prompt
            system = ""
        else:
            prompt = fill(self.user_template, columns)
            system = instruction
            turns = [("user", prompt), ("system", system)]
            if self.placement == "system_before":
                turns.reverse()
            shown = "\n".join(f"[{role}]\n{text}" for role, text in turns)
        req = LLMRequest(
            prompt=prompt, n=1, temperature=0.0, max_tokens=max_tokens, role="scorer",
            system=system, system_after=self.placement == "system_after",
        )  # fmt: skip
        return req, shown
