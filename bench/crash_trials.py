"""SIGKILL `opro run` at random moments, then check the file and resume: no loss, gap or repeat.

Usage: ``python bench/crash_trials.py --trials 20 [--seed 0] [--kinds tsp,prompt] [--keep DIR]``.
Exit code 0 when every trial passed. Each trial:

1. creates a TSP or a prompt-optimization project (the kinds alternate) and starts ``opro run``
   (a subprocess) against the suite's OpenAI-compatible server on 127.0.0.1, whose optimizer
   proposes random tours or new instructions (so the run never ends early at an optimum);
2. kills it with SIGKILL at a random moment: during start-up, or 0-60 ms after a random step's
   line appeared (a request in flight, parsing, a commit); the server's latency varies too;
3. opens the project: ``PRAGMA integrity_check`` is ``ok``; steps are 0..last with no gap; every
   step the process announced on stdout (printed only after its commit) is on disk; each stored
   step is whole (its completions, candidates and call records agree; every scored instruction
   has its per-example answers);
4. runs ``opro run`` again to the end: it says "continuing after step <last>", the rows of the
   steps that were on disk are byte-for-byte unchanged, and the finished run has steps 0..N
   exactly once each.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from openai_server import FakeOpenAIServer  # noqa: E402

from opro_gui.storage import ProjectStore  # noqa: E402

_POINT = re.compile(r"\((\d+)\): \(")
STEPS = 60
SAMPLES = 4


def random_tour_optimizer(prompt: str, body: dict[str, Any]) -> str:
    """A valid random tour of the instance in the prompt (seeded by a counter: repeatable)."""
    n = len(_POINT.findall(prompt))
    rng = random.Random(random_tour_optimizer.counter)  # type: ignore[attr-defined]
    random_tour_optimizer.counter += 1  # type: ignore[attr-defined]
    rest = list(range(1, n))
    rng.shuffle(rest)
    return f"<trace>{','.join(map(str, [0, *rest]))}</trace>"


random_tour_optimizer.counter = 0  # type: ignore[attr-defined]

_QUESTION = re.compile(r"Compute (\d+) \+ (\d+)\.")
N_EXAMPLES, N_TRAIN = 20, 10


def prompt_world(prompt: str, body: dict[str, Any]) -> str:
    """Both roles of a prompt run that never reaches 100 %: the optimizer proposes a new
    instruction each time; the scorer is right 1 time in 3 (a hash of the prompt)."""
    if "optimizer" in str(body.get("model", "")):
        k = prompt_world.counter  # type: ignore[attr-defined]
        prompt_world.counter += 1  # type: ignore[attr-defined]
        word = "".join(chr(97 + int(d)) for d in str(k))  # letters: digits may be filtered
        return f"<INS>Think it through, {word}.</INS>"
    m = _QUESTION.search(prompt)
    total = int(m.group(1)) + int(m.group(2)) if m else 0
    wrong = int(hashlib.md5(prompt.encode()).hexdigest(), 16) % 3  # right 1 time in 3
    return f"The answer is {total + wrong}."


prompt_world.counter = 0  # type: ignore[attr-defined]


@dataclass
class Trial:
    index: int
    after_step: int  # kill after this step's line appeared (-1: during start-up)
    delay_s: float  # ... plus this many seconds
    latency_s: float
    kind: str = "tsp"
    killed: bool = False  # False: the run ended before the kill
    announced: int = -1  # the last "step k/N" line the process printed before it died
    on_disk: int = -1  # the last step found in the file after the kill
    final_step: int = -1
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        state = "killed" if self.killed else "ended before the kill"
        verdict = "ok" if self.ok else "FAIL: " + "; ".join(self.problems)
        when = f"step {self.after_step} + " if self.after_step >= 0 else "start + "
        return (
            f"trial {self.index:2d} ({self.kind}): kill at {when}{self.delay_s:.3f}s (latency {self.latency_s:.3f}s)"
            f" {state}; announced step {self.announced}, on disk {self.on_disk}, "
            f"after resume {self.final_step}: {verdict}"
        )


def _opro(*args: str) -> list[str]:
    return [sys.executable, "-m", "opro_gui", *args]


def _snapshot(store: ProjectStore, upto: int) -> dict[str, Any]:
    """Every stored row of steps 0..upto of run 1 (ids and all), for an exact comparison."""
    conn = store.conn
    return {
        "steps": conn.execute(
            "SELECT * FROM step WHERE run_id = 1 AND step <= ? ORDER BY step", (upto,)
        ).fetchall(),
        "candidates": conn.execute(
            "SELECT * FROM candidate WHERE run_id = 1 AND step <= ? ORDER BY id", (upto,)
        ).fetchall(),
        "calls": conn.execute(
            "SELECT * FROM llm_call WHERE run_id = 1 AND step <= ? ORDER BY id", (upto,)
        ).fetchall(),
    }


def check_file(project: Path, problems: list[str], kind: str = "tsp") -> int:
    """Integrity, contiguity and wholeness of every stored step; returns the last step."""
    with ProjectStore.open(project) as store:
        if not store.integrity_ok():
            problems.append("integrity_check failed")
        steps = [s.step for s in store.steps(1)] if 1 in store.run_ids() else []
        if steps != list(range(len(steps))):
            problems.append(f"steps not contiguous from 0: {steps}")
        for s in steps:
            detail = store.step_detail(1, s)
            assert detail is not None
            comps, cands = detail.completions, detail.candidates
            if s == 0:
                if not cands or comps:
                    problems.append("step 0 is not whole")
                continue
            if len(comps) != SAMPLES:
                problems.append(f"step {s}: {len(comps)} completions stored, {SAMPLES} expected")
            if sorted(c.index for c in cands) != list(range(len(cands))) or not cands:
                problems.append(f"step {s}: candidate indexes broken")
            if any(not 0 <= c.completion_index < len(comps) for c in cands):
                problems.append(f"step {s}: candidate from a completion not stored")
            ok_calls = [
                c.record
                for c in detail.calls
                if not c.record.error and c.record.role == "optimizer"
            ]
            if sum(c.n for c in ok_calls) != len(comps):
                problems.append(f"step {s}: call records do not match the completions")
            if kind == "prompt" and any(
                len(c.records) != N_TRAIN for c in cands if c.status == "scored"
            ):
                problems.append(f"step {s}: a scored instruction lacks per-example answers")
        return steps[-1] if steps else -1


def _new_project(kind: str, project: Path, index: int, env: dict[str, str]) -> list[str]:
    """Create the trial's project; returns the endpoint options its runs need."""
    if kind == "tsp":
        args = ["new", "tsp", str(project), "--points", "14", "--seed", str(index)]
        roles: list[str] = []
    else:
        data = project.with_suffix(".jsonl")
        rows = [
            {"input": f"Compute {a} + {b}.", "target": str(a + b)}
            for a, b in ((i * 37 % 90 + 3, i * 53 % 70 + 5) for i in range(N_EXAMPLES))
        ]
        data.write_text("".join(json.dumps(r) + "\n" for r in rows))
        args = ["new", "prompt", str(project), "--dataset", str(data), "--train-ratio",
                str(N_TRAIN / N_EXAMPLES), "--initial", "Solve it.", "--seed", str(index)]  # fmt: skip
        roles = ["--optimizer-model", "fake-optimizer", "--scorer-model", "fake-scorer"]
    subprocess.run(_opro(*args), check=True, env=env, capture_output=True)
    return roles


def run_trial(index: int, rng: random.Random, workdir: Path, kind: str = "tsp") -> Trial:
    after = rng.randint(-3, STEPS - 5)  # 1 in 20: killed during start-up
    delay = rng.uniform(0.2, 1.5) if after < 0 else rng.uniform(0.0, 0.06)
    trial = Trial(index, after, delay, latency_s=rng.choice([0, 0.005, 0.02]), kind=kind)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": "sk-bench-not-a-key"}
    project = workdir / f"trial{index}-{kind}.opro"
    roles = _new_project(kind, project, index, env)
    responder = random_tour_optimizer if kind == "tsp" else prompt_world
    with FakeOpenAIServer(responder, latency=trial.latency_s) as srv:
        cmd = _opro("run", str(project), "--steps", str(STEPS), "--samples", str(SAMPLES),
                    "--base-url", srv.base_url, *roles)  # fmt: skip
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        assert proc.stdout is not None
        seen: list[str] = []
        if trial.after_step < 0:  # during start-up: imports, opening, the first request
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=trial.delay_s)
        else:  # a random moment after step k was committed: a request, parsing, a commit
            for line in proc.stdout:
                seen.append(line)
                if line.startswith(f"step {trial.after_step}/"):
                    time.sleep(trial.delay_s)
                    break
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        trial.killed = proc.returncode == -signal.SIGKILL
        out = "".join(seen) + proc.stdout.read()
        announced = [int(m) for m in re.findall(r"^step (\d+)/", out, re.M)]
        trial.announced = max(announced, default=-1)
        trial.on_disk = check_file(project, trial.problems, kind)
        if trial.on_disk < trial.announced:
            trial.problems.append(f"step {trial.announced} was announced but is not on disk")
        with ProjectStore.open(project) as store:
            before = _snapshot(store, trial.on_disk)
        again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        if again.returncode != 0:
            trial.problems.append(f"resume exited {again.returncode}: {again.stderr.strip()}")
        if (
            0 <= trial.on_disk < STEPS
            and f"continuing after step {trial.on_disk}," not in again.stdout
        ):
            trial.problems.append("resume did not continue after the last step on disk")
    trial.final_step = check_file(project, trial.problems, kind)
    if trial.final_step != STEPS:
        trial.problems.append(f"resumed run ended at step {trial.final_step}, not {STEPS}")
    with ProjectStore.open(project) as store:
        if _snapshot(store, trial.on_disk) != before:
            trial.problems.append("rows of steps stored before the kill changed on resume")
        status = store.run(1).status
        if status != "completed":
            trial.problems.append(f"final status {status}")
    return trial


def run_trials(
    trials: int, seed: int, workdir: Path, echo: bool = True, kinds: tuple[str, ...] = ("tsp",)
) -> list[Trial]:
    """``trials`` trials, cycling through the problem ``kinds``."""
    rng = random.Random(seed)
    results = []
    for i in range(trials):
        t = run_trial(i, rng, workdir, kinds[i % len(kinds)])
        results.append(t)
        if echo:
            print(t.line(), flush=True)
    return results


def summary(results: list[Trial]) -> dict[str, Any]:
    killed = [t for t in results if t.killed]
    return {
        "trials": len(results),
        "killed_mid_run": len(killed),
        "ended_before_kill": len(results) - len(killed),
        "killed_before_step_0_committed": sum(1 for t in killed if t.on_disk < 0),
        "passed": sum(1 for t in results if t.ok),
        "failed": sum(1 for t in results if not t.ok),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", default="tsp,prompt", help="problem kinds, comma-separated")
    parser.add_argument("--keep", help="keep the project files in this folder")
    args = parser.parse_args(argv)
    started = time.monotonic()
    kinds = tuple(args.kinds.split(","))
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
        results = run_trials(args.trials, args.seed, Path(args.keep), kinds=kinds)
    else:
        with tempfile.TemporaryDirectory(prefix="opro-crash-") as tmp:
            results = run_trials(args.trials, args.seed, Path(tmp), kinds=kinds)
    info = summary(results)
    info["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(info))
    return 0 if info["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
