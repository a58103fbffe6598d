"""Importing TSP instances from CSV and TSPLIB files, and the errors malformed files give."""

from __future__ import annotations

from pathlib import Path

import pytest

from opro_gui.problems.tsp import TSPProblem, load_tsp_file

TSPLIB = """NAME : tiny5
COMMENT : five points
TYPE : TSP
DIMENSION : 5
EDGE_WEIGHT_TYPE : EUC_2D
NODE_COORD_SECTION
1 0 0
2 10 0
3 10.5 10
4 0 10
5 5 5.25
EOF
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_tsplib_import_keeps_float_coordinates_and_name(tmp_path: Path) -> None:
    p = load_tsp_file(write(tmp_path, "x.tsp", TSPLIB))
    assert p.name == "tiny5"
    assert p.points == [(0, 0), (10, 0), (10.5, 10), (0, 10), (5, 5.25)]
    assert "(2): (10.5, 10), (3): (0, 10), (4): (5, 5.25)." in p.render_meta_prompt([], 1, 10)
    assert TSPProblem.from_spec(p.to_spec()).points == p.points
    assert p.summary()["optimal_is_exact"] is True


@pytest.mark.parametrize(
    ("text", "points"),
    [
        ("1,2\n3,4\n5,6\n", [(1, 2), (3, 4), (5, 6)]),
        ("x,y\n1,2\n3,4\n5,6\n", [(1, 2), (3, 4), (5, 6)]),
        ("id,x,y\n7,1,2\n8,3,4\n9,5,6\n", [(1, 2), (3, 4), (5, 6)]),
        ("y;x;id\n2;1;a\n4;3;b\n6;5;c\n", None),  # non-numeric id -> error below
        ("# a comment\n1 2\n\n3\t4\n5, 6.5\n", [(1, 2), (3, 4), (5, 6.5)]),
        ("1,2,3\n2,3,4\n3,5,6\n", [(2, 3), (3, 4), (5, 6)]),  # id,x,y without header
        ('"x","y"\n"1","2"\n3,4\n5,6\n', [(1, 2), (3, 4), (5, 6)]),
    ],
)
def test_csv_import_variants(
    tmp_path: Path, text: str, points: list[tuple[float, float]] | None
) -> None:
    path = write(tmp_path, "pts.csv", text)
    if points is None:
        with pytest.raises(ValueError, match="line 2: 'a' is not a number"):
            load_tsp_file(path)
        return
    p = load_tsp_file(path)
    assert p.points == points
    assert p.name == "pts"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("empty.csv", "", "no points found: the file is empty"),
        ("blank.csv", "\n  \n# only a comment\n", "no points found: the file is empty"),
        ("header.csv", "x,y\n", "only a header row"),
        ("two.csv", "1,2\n3,4\n", "at least 3 points, found 2"),
        ("nonnum.csv", "1,2\n3,four\n5,6\n", "line 2: 'four' is not a number"),
        ("inf.csv", "1,2\n3,inf\n5,6\n", "line 2: 'inf' is not a finite number"),
        ("ragged.csv", "1,2\n3,4,5\n5,6\n", "line 2: expected 2 columns, got 3"),
        ("wide.csv", "1,2,3,4\n", "expected 2 columns \\(x, y\\) or 3 \\(id, x, y\\), got 4"),
        ("dup.csv", "id,x,y\n1,0,0\n2,1,1\n1,2,2\n", "duplicate node id 1 \\(lines 2 and 4\\)"),
        ("noxy.tsp", "NAME : a\nTYPE : TSP\n", "no NODE_COORD_SECTION"),
        ("geo.tsp", TSPLIB.replace("EUC_2D", "GEO"), "unsupported EDGE_WEIGHT_TYPE GEO"),
        ("atsp.tsp", TSPLIB.replace("TYPE : TSP", "TYPE : ATSP"), "unsupported TSPLIB TYPE ATSP"),
        ("dim.tsp", TSPLIB.replace("DIMENSION : 5", "DIMENSION : 6"), "DIMENSION says 6"),
        (
            "dupid.tsp",
            TSPLIB.replace("4 0 10", "2 0 10"),
            "duplicate node id 2 \\(lines 8 and 10\\)",
        ),
        ("bad.tsp", TSPLIB.replace("3 10.5 10", "3 ten 10"), "line 9: 'ten' is not a number"),
        ("short.tsp", TSPLIB.replace("3 10.5 10", "3 10.5"), "line 9: expected 'id x y'"),
        ("few.tsp", "NODE_COORD_SECTION\n1 0 0\n2 1 1\nEOF\n", "at least 3 points, found 2"),
    ],
)
def test_malformed_files_raise_clear_value_errors(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ValueError, match=message) as info:
        load_tsp_file(path)
    assert str(info.value).startswith(f"{name}: ")


def test_from_points_rejects_bad_points() -> None:
    with pytest.raises(ValueError, match="at least 3 points"):
        TSPProblem.from_points([(0, 0), (1, 1)])
    with pytest.raises(ValueError, match="exactly two coordinates"):
        TSPProblem.from_points([(0, 0, 0), (1, 1, 1), (2, 2, 2)])
    with pytest.raises(ValueError, match="not a finite number"):
        TSPProblem.from_points([(0, 0), (1, float("nan")), (2, 2)])


def test_shipped_samples_load_and_agree() -> None:
    tasks = Path(__file__).resolve().parents[1] / "tasks"
    tsplib = load_tsp_file(tasks / "tsp_sample_12.tsp")
    csv = load_tsp_file(tasks / "tsp_sample_12.csv")
    assert tsplib.name == "opro-sample-12"
    assert tsplib.points == csv.points == TSPProblem.generate(12, 2026).points
