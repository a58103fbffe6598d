"""Wording of a candidate's provenance for `opro history --candidate I`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .common import short


def print_provenance(p: dict[str, Any], fmt: Callable[[float | None], str] = str) -> None:
    print(
        f"=== run {p['run_id']}, step {p['step']}, candidate {p['index']} (id {p['candidate_id']})"
    )
    print(f"{p['status']}  score {fmt(p['score'])}: {short(p['text'], 300)}")
    print(f"--- its meta-prompt contained {len(p['ingredients'])} entries:")
    for e in p["ingredients"]:
        print(
            f"  [id {e['candidate_id']}, step {e['step']}] score {fmt(e['score'])}: {short(e['text'], 120)}"
        )
    if p["exemplars"]:
        print(
            f"--- and {len(p['exemplars'])} exemplars: examples {[e['example_id'] for e in p['exemplars']]}"
        )
    a = p["closest_ancestor"]
    if a is None:
        print("--- no ancestor: the meta-prompt showed no earlier entry")
    else:
        print(
            f"--- closest ancestor: id {a['candidate_id']} (step {a['step']}), word similarity "
            f"{a['similarity']:.2f}; word diff ([-removed-] {{+added+}}):"
        )
        print("  " + a["diff_text"])
    print("--- first step of each sentence:")
    for s in p["sentences"]:
        print(f"  step {s['first_step']}: {short(s['sentence'], 160)}")
