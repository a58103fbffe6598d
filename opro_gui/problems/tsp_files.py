"""Reading TSP points from CSV text and TSPLIB text (pure: the caller reads the file)."""

from __future__ import annotations

import math
import re

Point = tuple[float, float]

_SPLIT_RE = re.compile(r"\s*[,;\t]\s*|\s+")
_SECTION_END = {"EOF", "DISPLAY_DATA_SECTION", "TOUR_SECTION", "EDGE_WEIGHT_SECTION"}


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: {text!r} is not a finite number")
    return int(value) if value.is_integer() else value


def _node_id(text: str, where: str) -> int:
    value = _number(text, where)
    if not float(value).is_integer():
        raise ValueError(f"{where}: node id {text!r} is not an integer")
    return int(value)


def _check_ids(ids: list[tuple[int, int]]) -> None:
    first_line: dict[int, int] = {}
    for node, line in ids:
        if node in first_line:
            raise ValueError(f"duplicate node id {node} (lines {first_line[node]} and {line})")
        first_line[node] = line


def _check_count(points: list[Point]) -> list[Point]:
    if not points:
        raise ValueError("no points found")
    if len(points) < 3:
        raise ValueError(f"a TSP instance needs at least 3 points, found {len(points)}")
    return points


def parse_csv_points(text: str) -> list[Point]:
    """Rows ``x,y`` or ``id,x,y`` (comma, semicolon, tab or spaces), optional header row,
    ``#`` comments. A header naming ``x`` and ``y`` (and ``id``) selects those columns.
    Nodes are numbered 0..n-1 in row order; ids only have to be distinct."""
    rows: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            rows.append((number, [c.strip().strip('"') for c in _SPLIT_RE.split(line)]))
    if not rows:
        raise ValueError("no points found: the file is empty")
    columns: tuple[int | None, int, int] | None = None
    first = rows[0][1]
    if not all(_is_number(c) for c in first):
        names = [c.lower() for c in first]
        if "x" in names and "y" in names:
            id_col = names.index("id") if "id" in names else None
            columns = (id_col, names.index("x"), names.index("y"))
        rows = rows[1:]
        if not rows:
            raise ValueError("no points found: only a header row")
    positional = columns is None
    if columns is None:
        width = len(rows[0][1])
        if width not in (2, 3):
            raise ValueError(
                f"line {rows[0][0]}: expected 2 columns (x, y) or 3 (id, x, y), got {width}"
            )
        columns = (None, 0, 1) if width == 2 else (0, 1, 2)
    id_col, x_col, y_col = columns
    needed = max(c for c in columns if c is not None) + 1
    points: list[Point] = []
    ids: list[tuple[int, int]] = []
    for lineno, cells in rows:
        where = f"line {lineno}"
        if len(cells) < needed or (positional and len(cells) != needed):
            raise ValueError(f"{where}: expected {needed} columns, got {len(cells)}")
        points.append((_number(cells[x_col], where), _number(cells[y_col], where)))
        if id_col is not None:
            ids.append((_node_id(cells[id_col], where), lineno))
    _check_ids(ids)
    return _check_count(points)


def parse_tsplib(text: str) -> tuple[str, list[Point]]:
    """(NAME, points) from a TSPLIB file with a ``NODE_COORD_SECTION`` (EUC_2D only). Nodes
    are numbered 0..n-1 in file order. Note TSPLIB's own EUC_2D rounds every edge to the
    nearest integer; we sum exact distances, so our lengths differ from published optima."""
    name = ""
    header: dict[str, str] = {}
    points: list[Point] = []
    ids: list[tuple[int, int]] = []
    in_coords = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        where = f"line {number}"
        if in_coords:
            if line.upper() in _SECTION_END or line.upper().endswith("_SECTION"):
                break
            cells = line.split()
            if len(cells) != 3:
                raise ValueError(f"{where}: expected 'id x y', got {line!r}")
            ids.append((_node_id(cells[0], where), number))
            points.append((_number(cells[1], where), _number(cells[2], where)))
        elif line.upper().startswith("NODE_COORD_SECTION"):
            in_coords = True
        elif ":" in line:
            key, _, value = line.partition(":")
            header[key.strip().upper()] = value.strip()
    if not in_coords:
        raise ValueError("not a TSPLIB file with coordinates: no NODE_COORD_SECTION")
    name = header.get("NAME", "")
    kind = header.get("TYPE", "TSP").upper()
    if kind != "TSP":
        raise ValueError(f"unsupported TSPLIB TYPE {kind} (only symmetric TSP)")
    weight = header.get("EDGE_WEIGHT_TYPE", "EUC_2D").upper()
    if weight != "EUC_2D":
        raise ValueError(f"unsupported EDGE_WEIGHT_TYPE {weight} (only EUC_2D)")
    _check_ids(ids)
    _check_count(points)
    if "DIMENSION" in header:
        try:
            dimension = int(header["DIMENSION"])
        except ValueError:
            raise ValueError(f"DIMENSION {header['DIMENSION']!r} is not an integer") from None
        if dimension != len(points):
            raise ValueError(f"DIMENSION says {dimension} nodes but {len(points)} are listed")
    return name, points


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
