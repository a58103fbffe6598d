"""`opro sweep --datasets DIR`: the same grid on one prompt project per dataset, one task table."""

from __future__ import annotations

import argparse
from pathlib import Path

from opro_gui.problems.datasets import load_dataset
from opro_gui.problems.prompt_opt import PromptProblem, spec_from_dataset
from opro_gui.services import ProjectSession
from opro_gui.services.compare import compare_paths, to_csv, to_markdown
from opro_gui.services.sweep_table import task_table

from .common import EXIT_OK, CliError
from .compare import text_table
from .sweep import sweep_project, write_tables

DATASET_SUFFIXES = {".json", ".jsonl", ".csv", ".tsv"}


def sweep_datasets(args: argparse.Namespace) -> int:
    source = Path(args.datasets)
    if not source.is_dir():
        raise CliError(f"--datasets {source}: not a folder")
    files = sorted(p for p in source.iterdir() if p.suffix.lower() in DATASET_SUFFIXES)
    if not files:
        raise CliError(
            f"--datasets {source}: no dataset files ({', '.join(sorted(DATASET_SUFFIXES))})"
        )
    folder = Path(args.project)
    folder.mkdir(parents=True, exist_ok=True)
    code = EXIT_OK
    per_task = {}
    for f in files:
        project = folder / f"{f.stem}.opro"
        if not project.exists():
            spec = spec_from_dataset(load_dataset(f), seed=args.seed or 0)
            ProjectSession.create(
                project, "prompt", PromptProblem.from_spec(spec).to_spec()
            ).close()
            print(f"created {project} from {f.name}", flush=True)
        print(f"=== {f.stem} ===", flush=True)
        run_code, refs = sweep_project(project, args)
        code = max(code, run_code)
        per_task[f.stem] = compare_paths(refs) if len(refs) > 1 else _single(refs)
        write_tables(refs, None)
    headers, rows = task_table(per_task)
    print(text_table(headers, rows))
    if args.out:
        Path(f"{args.out}.md").write_text(to_markdown(headers, rows))
        Path(f"{args.out}.csv").write_text(to_csv(headers, rows))
        print(f"wrote {args.out}.md and {args.out}.csv")
    return code


def _single(refs: list[str]) -> dict[str, object]:
    """A one-run grid: the comparison shape with that one run."""
    from opro_gui.services.compare import parse_ref, run_facts

    path, run_id = parse_ref(refs[0])
    with ProjectSession.open(path, readonly=True) as session:
        assert run_id is not None
        row = run_facts(session, run_id)
    row["settings"] = {}
    return {"kind": "prompt", "runs": [row]}
