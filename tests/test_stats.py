"""How sure we are: bootstrap intervals, exact McNemar, gap warnings, spread over seeds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scripted_models import ArithmeticWorld, linreg_optimizer

from opro_gui.cli import main
from opro_gui.services import stats
from opro_gui.storage import ProjectStore


def opro(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _exact_bootstrap_quantile(hits: int, n: int, q: float) -> float:
    """The q-quantile of the bootstrap distribution of an accuracy, in closed form: the number
    correct in a resample is Binomial(n, hits/n)."""
    p, cdf = hits / n, 0.0
    for k in range(n + 1):
        cdf += math.comb(n, k) * p**k * (1 - p) ** (n - k)
        if cdf >= q - 1e-12:
            return k / n
    return 1.0


def test_bootstrap_interval_of_30_of_50_matches_independent_computations() -> None:
    correct = [True] * 30 + [False] * 20
    iv = stats.bootstrap_interval(correct)
    assert iv is not None and iv.estimate == 0.6 and iv.n == 50
    # 1. closed form of the bootstrap distribution
    assert iv.low == pytest.approx(_exact_bootstrap_quantile(30, 50, 0.025), abs=0.01)
    assert iv.high == pytest.approx(_exact_bootstrap_quantile(30, 50, 0.975), abs=0.01)
    # 2. a plain numpy bootstrap (index resampling, its own generator)
    rng = np.random.default_rng(12345)
    data = np.array(correct, dtype=float)
    means = data[rng.integers(0, 50, size=(100_000, 50))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    assert abs(iv.low - lo) <= 0.01 and abs(iv.high - hi) <= 0.01
    # 3. the normal approximation agrees to within a grid step (sanity, not the reference)
    se = math.sqrt(0.6 * 0.4 / 50)
    assert abs(iv.low - (0.6 - 1.96 * se)) < 0.02 and abs(iv.high - (0.6 + 1.96 * se)) < 0.02
    assert iv.to_list() == [0.46, 0.74]


def test_bootstrap_is_seeded_and_handles_edges() -> None:
    xs = [True, False, True, True, False, True, False, True, True, True] * 7
    assert stats.bootstrap_interval(xs) == stats.bootstrap_interval(list(xs))
    assert stats.bootstrap_interval([]) is None
    all_right = stats.bootstrap_interval([True] * 20)
    assert all_right is not None and (all_right.low, all_right.high) == (1.0, 1.0)
    other_seed = stats.bootstrap_interval(xs, seed=7)
    assert other_seed is not None and other_seed.estimate == pytest.approx(49 / 70)


def test_mcnemar_exact_matches_hand_computed_cases() -> None:
    # b=1, c=9: p = 2 * P(X <= 1), X ~ Bin(10, 1/2) = 2 * (1 + 10) / 1024 = 22/1024
    assert stats.mcnemar_exact(1, 9) == 0.021484375
    assert stats.mcnemar_exact(9, 1) == 0.021484375
    assert stats.mcnemar_exact(0, 0) == 1.0
    assert stats.mcnemar_exact(5, 5) == 1.0  # 2 * P(X <= 5) > 1 is capped
    assert stats.mcnemar_exact(0, 6) == 2 / 64
    with pytest.raises(ValueError):
        stats.mcnemar_exact(-1, 2)
    a = {1: True, 2: True, 3: False, 4: False, 5: True}
    b = {1: False, 2: True, 3: True, 4: False, 6: True}  # 5 and 6 are not shared
    t = stats.paired_test(a, b)
    assert (t.n_pairs, t.only_a, t.only_b) == (4, 1, 1) and t.p_value == 1.0


def test_gap_warning_only_when_intervals_do_not_overlap() -> None:
    def iv(k: int, n: int = 50) -> stats.Interval:
        out = stats.bootstrap_interval([True] * k + [False] * (n - k))
        assert out is not None
        return out

    warning = stats.gap_warning(iv(45), iv(20))
    assert warning is not None and "90.0%" in warning and "40.0%" in warning
    assert stats.gap_warning(iv(30), iv(28)) is None
    assert stats.gap_warning(iv(20), iv(45)) is None  # test above train is not overfitting
    assert stats.gap_warning(None, iv(20)) is None


def test_spread_and_mean_sd_curves() -> None:
    s = stats.spread([2.0, 4.0, None, 6.0])
    assert s is not None and (s.n, s.mean, s.sd) == (3, 4.0, 2.0)
    one = stats.spread([5.0])
    assert one is not None and one.sd is None
    assert stats.spread([None]) is None
    curves = stats.mean_sd_curves([[10.0, 8.0, 6.0], [12.0, 10.0]])
    assert curves[0] == {"step": 0, "mean": 11.0, "sd": pytest.approx(math.sqrt(2))}
    assert curves[2] == {"step": 2, "mean": 8.0, "sd": pytest.approx(math.sqrt(8))}


def _prompt_project(tmp_path: Path, capsys) -> Path:
    data = tmp_path / "sums.jsonl"
    data.write_text("\n".join(json.dumps(e) for e in ArithmeticWorld.examples(60)) + "\n")
    project = tmp_path / "p.opro"
    code, _, err = opro(
        capsys, "new", "prompt", str(project), "--dataset", str(data),
        "--train-ratio", "0.5", "--initial", "Solve it.", "--seed", "1",
    )  # fmt: skip
    assert code == 0, err
    return project


def test_evaluate_reports_paired_tests_and_show_has_intervals(
    tmp_path, fake_server, capsys
) -> None:
    project = _prompt_project(tmp_path, capsys)
    roles = ["--optimizer-model", "fake-optimizer", "--scorer-model", "fake-scorer"]
    with fake_server(ArithmeticWorld()) as srv:
        code, _, err = opro(
            capsys, "run", str(project), "--steps", "3", "--samples", "2",
            "--base-url", srv.base_url, *roles,
        )  # fmt: skip
        assert code == 0, err
        code, out, err = opro(capsys, "evaluate", str(project), "--split", "test")
    assert code == 0, err
    run = json.loads(opro(capsys, "show", str(project), "--json")[1])["runs"][0]
    # independent recount of the discordant pairs from the stored answers
    with ProjectStore.open(project) as store:
        evals = {e.label: e.id for e in store.evaluations(1)}
        per = {
            label: dict(
                store.conn.execute(
                    "SELECT example_id, correct FROM example_result WHERE evaluation_id = ?",
                    (eid,),
                ).fetchall()
            )
            for label, eid in evals.items()
        }
        train_rows = store.conn.execute(
            "SELECT r.correct FROM example_result r JOIN candidate c ON c.id = r.candidate_id"
            " WHERE c.run_id = 1 AND c.status = 'scored' AND c.solution = ?"
            " ORDER BY c.step, c.idx, r.id",
            (json.dumps(run["best_solution"]),),
        ).fetchall()
    baselines = [lab for lab in per if lab.startswith("baseline")]
    assert [t["b"] for t in run["paired_tests"]] == baselines
    for t in run["paired_tests"]:
        mine, theirs = per["top-1"], per[t["b"]]
        b = sum(1 for i in mine if mine[i] and not theirs[i])
        c = sum(1 for i in mine if theirs[i] and not mine[i])
        assert (t["only_a_correct"], t["only_b_correct"], t["n_pairs"]) == (b, c, len(mine))
        tail = sum(math.comb(b + c, i) for i in range(min(b, c) + 1))
        assert t["p_value"] == pytest.approx(min(1.0, 2 * tail / 2 ** (b + c)) if b + c else 1.0)
        assert f"paired test top-1 vs {t['b']}" in out
        assert f"p = {t['p_value']:.4g}" in out
    n_train = len(train_rows)  # the best instruction is scored once (duplicates are dropped)
    assert n_train == 30
    hits = sum(r[0] for r in train_rows)
    lo = _exact_bootstrap_quantile(hits, n_train, 0.025)
    assert run["best_train_accuracy_ci"][0] == pytest.approx(lo, abs=0.01)
    test_hits = sum(per["top-1"].values())
    hi = _exact_bootstrap_quantile(test_hits, len(per["top-1"]), 0.975)
    assert run["best_test_accuracy_ci"][1] == pytest.approx(hi, abs=0.01)
    ev = run["test_evaluations"][0]
    assert ev["test_accuracy_ci"] == run["best_test_accuracy_ci"]
    assert "train_test_gap_warning" in run
    text = opro(capsys, "show", str(project))[1]
    assert "train accuracy 95% CI" in text and "paired test top-1 vs baseline" in text


def test_show_reports_spread_across_seeds(tmp_path, fake_server, capsys) -> None:
    project = tmp_path / "lr.opro"
    assert opro(capsys, "new", "linreg", str(project), "--seed", "0")[0] == 0
    with fake_server(linreg_optimizer) as srv:
        for seed in ("0", "1", "2"):
            code, _, err = opro(
                capsys, "run", str(project), "--steps", "2", "--samples", "2", "--new-run",
                "--seed", seed, "--base-url", srv.base_url, "--model", "fake-optimizer",
            )  # fmt: skip
            assert code in (0, 1), err
    data = json.loads(opro(capsys, "show", str(project), "--json")[1])
    (group,) = data["seed_spread"]
    bests = [r["best_score"] for r in data["runs"]]
    assert group["runs"] == [1, 2, 3] and group["seeds"] == [0, 1, 2]
    assert group["best_score"]["mean"] == pytest.approx(sum(bests) / 3)
    mean = sum(bests) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in bests) / 2)
    assert group["best_score"]["sd"] == pytest.approx(sd, abs=1e-6)
    assert "differ only in seed" in opro(capsys, "show", str(project))[1]


def test_bootstrap_of_a_large_split_matches_the_normal_approximation() -> None:
    # GSM8K's test split has 1319 questions: exact binomial terms overflow a float there.
    iv = stats.bootstrap_interval([True] * 800 + [False] * 519)
    assert iv is not None and iv.n == 1319
    p = 800 / 1319
    se = math.sqrt(p * (1 - p) / 1319)
    assert abs(iv.low - (p - 1.96 * se)) < 0.003 and abs(iv.high - (p + 1.96 * se)) < 0.003
