"""Load a topology: text -> limits -> YAML -> declared lab (pydantic) -> checks -> address
plan -> routes -> :class:`Lab`.

Every stage collects diagnostics; a file with any raises one :class:`TopologyError` with all
of them, sorted by line: the structure's and the cross-references' together, planning only
once the declaration is clean. Whatever the text, :func:`load_text` returns a :class:`Lab`
or raises :class:`TopologyError` (the limits are in :mod:`topology.limits`).
"""

from __future__ import annotations

from pathlib import Path

from topology.diagnose import read_lab
from topology.errors import Diagnostic, Report, TopologyError, Where
from topology.limits import MAX_BYTES, check_text
from topology.model import Lab
from topology.plan import plan
from topology.routes import compute_routes
from topology.validate import check_declared, check_planned
from topology.yamlmarks import YamlSyntaxError, load_marked


def load_file(path: str | Path) -> Lab:
    """Load and plan a topology file. Raises OSError when it cannot be read,
    UnicodeDecodeError when it is not UTF-8 text and :class:`TopologyError` when it is not
    a valid topology (a file over the size limit is read no further than the limit)."""
    path = Path(path)
    with path.open("rb") as stream:
        data = stream.read(MAX_BYTES + 4)
    text = data.decode("utf-8", errors="strict") if len(data) <= MAX_BYTES else None
    if text is None:  # too large: the limit check names it (a cut character is no matter)
        text = data.decode("utf-8", errors="replace")
    return load_text(text, file=str(path))


def load_text(text: str, *, file: str = "<string>") -> Lab:
    try:
        return _load(text, file)
    except TopologyError:
        raise
    except Exception as exc:  # a bug: still an answer with a position, never a traceback
        message = f"internal error while loading ({type(exc).__name__}); please report it"
        raise TopologyError([Diagnostic(file, 1, 1, "", message)]) from exc


def _load(text: str, file: str) -> Lab:
    problem = check_text(text)
    if problem is not None:
        raise TopologyError([Diagnostic(file, problem.line, problem.column, "", problem.message)])
    try:
        data, pos, yaml_problems = load_marked(text)
    except YamlSyntaxError as exc:
        raise TopologyError(
            [Diagnostic(file, exc.pos.line, exc.pos.column, "", exc.message)]
        ) from None
    report = Report(file)
    for yaml_problem in yaml_problems:
        report.error(Where("", yaml_problem.pos), yaml_problem.message)
    if data is None:
        raise TopologyError([Diagnostic(file, 0, 0, "", "empty file: expected a lab mapping")])
    declared = read_lab(data, Where("", pos), report)
    segments = check_declared(report, declared) if declared is not None else ()
    report.raise_if_any()
    assert declared is not None
    lab = plan(report, declared, segments)
    report.raise_if_any()
    assert lab is not None
    check_planned(report, declared, lab)
    report.raise_if_any()
    return compute_routes(lab, {name: n.static_routes() for name, n in declared.nodes.items()})
