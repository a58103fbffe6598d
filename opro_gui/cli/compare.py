"""`opro compare` (runs of one task side by side, as a table or JSON with the curves) and
`opro report` (the same and more as one HTML file)."""

from __future__ import annotations

import argparse
import json

from opro_gui.services.compare import HEADERS, compare_paths, score_text, table_rows

from .common import EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    data = compare_paths(args.runs)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return EXIT_OK
    print(text_table(HEADERS, table_rows(data)))
    for group in data["seed_groups"]:
        best = group["best_score"] or {}
        sd = "" if best.get("sd") is None else f" ± {score_text(data['kind'], best['sd'])}"
        print(
            f"seeds of {group['optimizer_model']}: {', '.join(group['refs'])}: best "
            f"{score_text(data['kind'], best.get('mean'))}{sd} (mean ± sd, n={best.get('n')})"
        )
    for warning in data["warnings"]:
        print(f"warning: {warning}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from opro_gui.services import ProjectSession
    from opro_gui.services.report_html import write_report

    with ProjectSession.open(args.project, readonly=True) as session:
        out = write_report(session, args.output)
    print(f"wrote {out}")
    return EXIT_OK


def text_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
