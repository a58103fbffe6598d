"""Where a candidate came from: the stored entries its meta-prompt contained, its closest
ancestor among them (word-level similarity) with a word-level diff, and the step at which each
of its sentences first appeared in the run."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from opro_gui.core.rows import candidate_json
from opro_gui.storage import ProjectError

from .base import SessionBase

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def words(text: str) -> list[str]:
    """Words and punctuation marks: the unit of similarity and of the diff."""
    return _TOKEN.findall(text)


def similarity(a: str, b: str) -> float:
    """Word-level similarity in 0..1 (difflib's ratio over word sequences)."""
    return difflib.SequenceMatcher(None, words(a), words(b), autojunk=False).ratio()


def word_diff(old: str, new: str) -> list[dict[str, str]]:
    """``old`` → ``new`` as runs of equal, deleted, inserted and replaced words."""
    a, b = words(old), words(new)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        out.append({"op": op, "old": " ".join(a[i1:i2]), "new": " ".join(b[j1:j2])})
    return out


def diff_text(diff: list[dict[str, str]]) -> str:
    """A diff in one line: [-removed-] {+added+}, equal words as they are."""
    parts = []
    for d in diff:
        if d["op"] == "equal":
            parts.append(d["old"])
        if d["op"] in ("delete", "replace"):
            parts.append(f"[-{d['old']}-]")
        if d["op"] in ("insert", "replace"):
            parts.append(f"{{+{d['new']}+}}")
    return " ".join(parts)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]


def _norm(sentence: str) -> str:
    return " ".join(words(sentence.lower()))


class ProvenanceMixin(SessionBase):
    def provenance(self, run_id: int, step: int, index: int) -> dict[str, Any]:
        """The ingredients of candidate ``index`` of ``step``, its closest ancestor among them
        with a word-level diff, and the first step of each of its sentences."""
        cands = [candidate_json(c) for c in self.store.candidates(run_id)]
        by_id = {c["id"]: c for c in cands}
        me = next((c for c in cands if c["step"] == step and c["index"] == index), None)
        if me is None:
            raise ProjectError(f"run {run_id} has no candidate {index} in step {step}")
        shown = self.store.ingredients(run_id, step)
        entries = [by_id[i] for i in shown["candidates"] if i in by_id]
        examples = self.store.examples() if shown["examples"] else []
        text = str(me["text"])
        ranked = sorted(
            ((similarity(str(e["text"]), text), e) for e in entries),
            key=lambda pair: (-pair[0], -pair[1]["step"]),
        )
        closest = None
        if ranked:
            score, parent = ranked[0]
            diff = word_diff(str(parent["text"]), text)
            closest = {
                "candidate_id": parent["id"],
                "step": parent["step"],
                "index": parent["index"],
                "text": parent["text"],
                "score": parent["score"],
                "similarity": round(score, 4),
                "diff": diff,
                "diff_text": diff_text(diff),
            }
        return {
            "run_id": run_id,
            "step": step,
            "index": index,
            "candidate_id": me["id"],
            "text": text,
            "score": me["score"],
            "status": me["status"],
            "ingredients": [
                {
                    "candidate_id": e["id"],
                    "step": e["step"],
                    "index": e["index"],
                    "text": e["text"],
                    "score": e["score"],
                }
                for e in entries
            ],  # fmt: skip
            "exemplars": [
                {"example_id": i, "input": examples[i]["input"], "target": examples[i]["target"]}
                for i in shown["examples"]
                if 0 <= i < len(examples)
            ],
            "closest_ancestor": closest,
            "sentences": self._first_steps(cands, text, step),
        }

    @staticmethod
    def _first_steps(cands: list[dict[str, Any]], text: str, upto: int) -> list[dict[str, Any]]:
        """For each sentence of ``text``: the earliest step at which a candidate of the run
        contained it (the candidate itself at the latest)."""
        seen: dict[str, int] = {}
        for c in cands:
            if c["step"] > upto or c["solution"] is None:
                continue
            for s in sentences(str(c["text"])):
                key = _norm(s)
                if key not in seen or c["step"] < seen[key]:
                    seen[key] = c["step"]
        return [{"sentence": s, "first_step": seen.get(_norm(s), upto)} for s in sentences(text)]

    def lineage(self, run_id: int) -> list[dict[str, Any]]:
        """Every scored candidate with its closest ancestor among its meta-prompt's entries:
        the edges of a lineage graph over steps."""
        cands = [candidate_json(c) for c in self.store.candidates(run_id)]
        by_id = {c["id"]: c for c in cands}
        shown_by_step: dict[int, list[dict[str, Any]]] = {}
        out = []
        for c in cands:
            if c["status"] != "scored":
                continue
            if c["step"] not in shown_by_step:
                ids = self.store.ingredients(run_id, c["step"])["candidates"]
                shown_by_step[c["step"]] = [by_id[i] for i in ids if i in by_id]
            best = max(
                shown_by_step[c["step"]],
                key=lambda e: (similarity(str(e["text"]), str(c["text"])), e["step"]),
                default=None,
            )
            out.append(
                {"candidate_id": c["id"], "step": c["step"], "index": c["index"],
                 "score": c["score"], "text": c["text"],
                 "parent_id": None if best is None else best["id"]}
            )  # fmt: skip
        return out


def lineage_of(project: str | Path, run_id: int) -> list[dict[str, Any]]:
    """``lineage`` on a read-only session of its own (for a worker thread)."""
    from . import ProjectSession  # the composed session class lives in the package

    with ProjectSession.open(project, readonly=True) as session:
        return session.lineage(run_id)


def provenance_of(project: str | Path, run_id: int, step: int, index: int) -> dict[str, Any]:
    """``provenance`` on a read-only session of its own (for a worker thread)."""
    from . import ProjectSession

    with ProjectSession.open(project, readonly=True) as session:
        return session.provenance(run_id, step, index)
