"""Load a topology: YAML -> declared spec -> checks -> address plan -> routes -> :class:`Lab`.

Every stage collects diagnostics; a file with any raises one :class:`TopologyError` with all
of them, sorted by line (planning runs only once the declaration is clean).
"""

from __future__ import annotations

from pathlib import Path

from topology.errors import Diagnostic, TopologyError
from topology.model import Lab
from topology.parse import parse_lab
from topology.plan import plan
from topology.reader import Reader, Val, Where
from topology.routes import compute_routes
from topology.validate import check_declared, check_planned
from topology.yamlmarks import YamlSyntaxError, load_marked


def load_file(path: str | Path) -> Lab:
    """Load and plan a topology file. Raises OSError when it cannot be read and
    :class:`TopologyError` when it is not a valid topology."""
    path = Path(path)
    return load_text(path.read_text(encoding="utf-8"), file=str(path))


def load_text(text: str, *, file: str = "<string>") -> Lab:
    reader = Reader(file)
    try:
        data, pos, problems = load_marked(text)
    except YamlSyntaxError as exc:
        raise TopologyError(
            [Diagnostic(file, exc.pos.line, exc.pos.column, "", exc.message)]
        ) from None
    for problem in problems:
        reader.error(Where("", problem.pos), problem.message)
    if data is None:
        raise TopologyError([Diagnostic(file, 0, 0, "", "empty file: expected a lab mapping")])
    spec = parse_lab(reader, Val(data, Where("", pos)))
    if spec is not None:
        spec = check_declared(reader, spec)
    _raise_if_any(reader)
    assert spec is not None
    lab = plan(reader, spec)
    _raise_if_any(reader)
    assert lab is not None
    check_planned(reader, spec, lab)
    _raise_if_any(reader)
    return compute_routes(lab, {n.name: n.routes for n in spec.nodes})


def _raise_if_any(reader: Reader) -> None:
    if reader.diagnostics:
        raise TopologyError(reader.diagnostics)
