"""Evaluators and chat settings of the prompt kind: parsing, local verdicts, system messages."""

from __future__ import annotations

import pytest
from scripted_models import ArithmeticWorld

from opro_gui.core.models import Verdict
from opro_gui.llm import EndpointConfig, make_client
from opro_gui.problems import evaluators as ev
from opro_gui.problems.prompt_opt import PromptProblem


def spec(**extra):
    return {"examples": ArithmeticWorld.examples(8), "train_ids": [0, 1, 2, 3], **extra}


def one(kind: str, **opts) -> ev.Evaluator:
    return ev.parse_evaluators([{"type": kind, **opts}])[0]


def test_the_default_spec_is_unchanged_and_has_no_new_keys() -> None:
    s = PromptProblem(spec()).to_spec()
    assert "evaluators" not in s and "chat" not in s
    assert ev.is_default(PromptProblem(spec()).evaluators)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([{"type": "nope"}], "type must be one of"),
        ([{"type": "judge"}], "needs a 'rubric'"),
        ([{"type": "json_schema", "schema": {"type": 3}}], "the schema is not valid"),
        ([{"type": "length"}], "needs 'min' or 'max'"),
        ([{"type": "paper"}, {"type": "paper"}], "used twice"),
        ([{"type": "paper", "weight": 0}], "add up to 0"),
    ],
)
def test_bad_evaluators_get_one_clear_message(raw, message) -> None:
    with pytest.raises(ValueError, match=message):
        PromptProblem(spec(evaluators=raw))


def test_local_verdicts() -> None:
    paper = (True, "x")
    vs, score = ev.grade(
        [one("json"), one("contains", text=["Paris"]), one("not_contains", text="sorry"),
         one("length", max=3, unit="words")],
        'Sure: ```json\n{"city": "Paris"}\n```', paper, {}, has_reference=False,
    )  # fmt: skip
    assert [(v.name, v.score) for v in vs] == [
        ("json", 1.0),
        ("contains", 1.0),
        ("not_contains", 1.0),
        ("length", 0.0),
    ]
    assert vs[3].reason == "5 words, more than 3"
    assert score == 0.75


def test_judge_replies_are_read_and_agreement_is_against_the_gold_grading() -> None:
    j = one("judge", rubric="r", scale="pass_fail")
    prompt = ev.judge_prompt(j, "Q?", "A", "gold")
    assert "Reference answer:\ngold" in prompt
    vs, score = ev.grade([j], "A", (False, "A"), {"judge": (prompt, "VERDICT: PASS\nREASON: ok",
                         "")}, has_reference=True)  # fmt: skip
    assert vs == (Verdict("judge", "judge", 1.0, 1.0, "ok", prompt, agrees=False),)
    assert score == 1.0
    assert ev.read_judge(one("judge", rubric="r"), "SCORE: 7") == (1.0, "SCORE: 7")
    assert ev.read_judge(one("judge", rubric="r"), "hmm")[0] == 0.0


def test_unknown_placeholder_and_initial_instruction_without_input_are_refused() -> None:
    with pytest.raises(ValueError, match=r"placeholder \{city\} is not a column"):
        PromptProblem(spec(chat={"placement": "system_before", "user_template": "{city}"}))
    with pytest.raises(ValueError, match=r"initial instruction 1 drops the placeholder \{input\}"):
        PromptProblem(spec(chat={"placement": "template"}, initial_instructions=["Solve."]))


@pytest.mark.parametrize(
    ("placement", "roles"),
    [("system_before", ["system", "user"]), ("system_after", ["user", "system"])],
)
def test_the_instruction_goes_as_a_system_message(fake_server, placement, roles) -> None:
    p = PromptProblem(
        spec(chat={"placement": placement, "user_template": "Q: {input}\nA:",
                   "banned_phrases": ["cheat"]})
    )  # fmt: skip
    assert p.filter_reason("Do not CHEAT.") == "contains the banned phrase 'cheat'"
    with fake_server(lambda prompt, body: "12", record_bodies=True) as srv:
        cfg = EndpointConfig(base_url=srv.base_url, model="fake-scorer", max_retries=0)
        with make_client(cfg) as client:
            (res,) = p.score(["Add the numbers."], client)
        bodies = list(srv.stats.bodies)
    assert [[m["role"] for m in b["messages"]] for b in bodies] == [roles] * 4
    turns = [{m["role"]: m["content"] for m in b["messages"]} for b in bodies]
    assert {t["system"] for t in turns} == {"Add the numbers."}
    questions = [p.examples[i]["input"] for i in p.train_ids]
    assert sorted(t["user"] for t in turns) == sorted(f"Q: {q}\nA:" for q in questions)
    assert res.records[0].prompt.startswith(f"[{roles[0]}]\n")


def test_the_paper_alone_scores_exactly_as_before(fake_server) -> None:
    default = PromptProblem(spec())
    explicit = PromptProblem(spec(evaluators=[{"type": "paper", "weight": 3}]))
    assert explicit.to_spec() == default.to_spec()  # the paper alone is not written down
    world = ArithmeticWorld()
    with fake_server(world) as srv:
        cfg = EndpointConfig(base_url=srv.base_url, model="fake-scorer", max_retries=0)
        with make_client(cfg) as client:
            a = default.score(["Solve it.", "Go step by step."], client)
            b = explicit.score(["Solve it.", "Go step by step."], client)
    assert a == b
    assert all(r.verdicts == () and r.score is None for res in a for r in res.records)
    given = [world.given[("Solve it.", default.examples[i]["input"])] for i in default.train_ids]
    assert a[0].score == sum(given) / len(given)


def test_a_version_4_file_gains_the_new_tables_and_a_read_only_open_writes_nothing(
    tmp_path,
) -> None:
    import hashlib
    import sqlite3

    from opro_gui.storage import ProjectStore
    from opro_gui.storage.schema import SCHEMA_VERSION

    path = tmp_path / "old.opro"
    ProjectStore.create(path, "prompt", spec()).close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE example_verdict; DROP TABLE human_action; DROP TABLE llm_batch;"
        " PRAGMA user_version = 4; VACUUM;"
    )
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with ProjectStore.open(path, readonly=True) as store:  # a private upgraded copy
        assert store.human_actions() == [] and store.batches() == []
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    with ProjectStore.open(path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.judge_agreement(1) == (0, 0) and store.human_actions() == []
