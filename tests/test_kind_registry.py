"""Problem kinds: the registry, the descriptors' answers, and no branch on a kind elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from opro_gui.problems import get_kind, kind_names, kinds, make_problem
from opro_gui.problems.kinds import ProblemKind, format_number, register_kind, unregister_kind

PACKAGE = Path(__file__).resolve().parents[1] / "opro_gui"
#: Where knowledge of a kind may live: the kinds themselves and the two registries.
ALLOWED = ("problems/", "gui/kinds.py")
BRANCH = re.compile(
    r"""kind\s*(==|!=)\s*['"]|['"]\s*(==|!=)\s*\S*kind\b|kind\s+(not\s+)?in\s*[\(\[\{]\s*['"]"""
    r"""|['"](tsp|linreg|prompt)['"]\s+(not\s+)?in\s+\S*kind"""
)


def branches(layer: str) -> list[str]:
    offenders = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(ALLOWED[0]) or rel == ALLOWED[1]:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if BRANCH.search(line):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    return offenders


@pytest.mark.parametrize("layer", ["core", "llm", "storage", "services", "cli", "."])
def test_no_branch_on_the_problem_kind_outside_problems_and_the_registries(layer: str) -> None:
    found = branches(layer)
    assert not found, "branch on the kind; ask its descriptor instead:\n" + "\n".join(found)


def test_no_branch_on_the_problem_kind_in_the_gui() -> None:
    assert branches("gui") == []


@pytest.mark.parametrize(
    "line",
    [
        'if self.kind == "prompt":',
        "x = 1 if kind != 'tsp' else 2",
        'if self.kind in ("tsp", "linreg"):',
        'if "prompt" == session.kind:',
    ],
)
def test_the_scan_recognises_a_branch(line: str) -> None:
    assert BRANCH.search(line)


def test_builtin_kinds_answer_for_themselves() -> None:
    assert kind_names()[:3] == ["tsp", "linreg", "prompt"]
    tsp, lr, pr = (get_kind(n) for n in ("tsp", "linreg", "prompt"))
    assert (tsp.needs_scorer, lr.needs_scorer, pr.needs_scorer) == (False, False, True)
    assert tsp.better(600, 610) and not tsp.better(610, 600) and not tsp.better(610, 610)
    assert pr.better(0.8, 0.7) and not pr.better(0.7, 0.8)
    assert (tsp.best_score([3.0, 1.0, 2.0]), pr.best_score([0.1, 0.9])) == (1.0, 0.9)
    assert tsp.format_score(12345.0) == "12,345" and tsp.format_score(None) == "-"
    assert lr.format_score(8373.56) == "8,374" and lr.format_score(12.3456) == "12.35"
    assert pr.format_score(0.5) == "50.0%"
    assert (tsp.has_random_search, lr.has_random_search, pr.has_random_search) == (
        True,
        True,
        False,
    )
    assert (pr.needs_records_on_resume, pr.supports_evaluation) == (True, True)
    assert not (tsp.needs_records_on_resume or lr.supports_evaluation)


def test_tsp_summary_facts_and_gap() -> None:
    tsp = get_kind("tsp")
    problem = make_problem("tsp", tsp.default_spec())
    facts = problem.summary()
    assert tsp.reference_score(problem) == facts["optimal_length"] == 610
    assert tsp.summary_facts(problem, 671, 4) == {
        "optimal_length": 610,
        "optimal_is_exact": True,
        "gap_percent": 10.0,
        "found_at_step": 4,
        "nearest_neighbour_length": facts["nearest_neighbour"],
        "farthest_insertion_length": facts["farthest_insertion"],
    }
    assert tsp.facts_line(facts).startswith("n=10, nearest_neighbour=614, ")


def test_linreg_and_prompt_facts() -> None:
    lr = get_kind("linreg")
    problem = make_problem("linreg", lr.default_spec())
    facts = lr.summary_facts(problem, 100.0, None)
    assert (facts["w_true"], facts["b_true"], facts["found_at_step"]) == (15, 14, None)
    assert lr.reference_score(problem) is None
    pr = get_kind("prompt")
    prompt = make_problem("prompt", pr.default_spec())
    assert pr.summary_facts(prompt, 0.5, None) == {}
    load = pr.scorer_load(prompt, 8)
    n_train = prompt.summary()["n_train"]
    assert (load.requests_per_step, load.initial_requests) == (8 * n_train, n_train)


def test_unknown_kind_is_one_clear_error() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown problem kind 'sudoku'; expected one of tsp.*\(a plugin may provide it: \$OPRO_KIND_PLUGINS\)",
    ):
        get_kind("sudoku")


def test_register_from_outside_and_unregister() -> None:
    class Doubled(ProblemKind):
        name = "doubled_tsp"
        display_name = "TSP again"

        def problem_from_spec(self, spec: dict) -> object:  # type: ignore[override]
            return get_kind("tsp").problem_from_spec(spec)

    register_kind(Doubled())
    try:
        assert "doubled_tsp" in kind_names() and kinds()[-1].display_name == "TSP again"
        assert make_problem("doubled_tsp", get_kind("tsp").default_spec()).n == 10  # type: ignore[attr-defined]
    finally:
        unregister_kind("doubled_tsp")
    assert "doubled_tsp" not in kind_names()
    with pytest.raises(ValueError, match="identifier-like"):
        register_kind(type("Bad", (ProblemKind,), {"name": "no spaces"})())


def test_format_number() -> None:
    assert [format_number(x) for x in (0.0, 614.0, 1e6, 0.1234567, float("inf"))] == [
        "0",
        "614",
        "1,000,000",
        "0.1235",
        "inf",
    ]


@pytest.mark.parametrize("kind", ["tsp", "prompt"])
def test_estimate_takes_the_scorer_load_from_the_kind(kind: str, tmp_path: Path, capsys) -> None:
    import json

    from opro_gui.cli import main
    from opro_gui.services import ProjectSession

    path = tmp_path / "p.opro"
    with ProjectSession.create(path, kind, get_kind(kind).default_spec()) as session:
        problem = session.problem()
        n_train = problem.summary().get("n_train", 0)
        n_initial = len(problem.initial_solutions())
    capsys.readouterr()
    args = ["estimate", str(path), "--steps", "3", "--json", "--base-url", "http://127.0.0.1:9/v1"]
    assert main(args) == 0
    est = json.loads(capsys.readouterr().out)
    assert est["optimizer_calls"] == 3  # one request with n samples per step (issue 13.6)
    assert est["scorer_calls"] == (3 * 8 + n_initial) * n_train  # 0 for TSP: scored locally
    assert (kind == "prompt") == (n_train > 0)
