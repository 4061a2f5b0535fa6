"""Typed topology errors that point at a file, line and column.

A :class:`Diagnostic` is one problem (file, line, column, field path, message, what is
allowed, a did-you-mean). Loading collects every diagnostic it can and raises one
:class:`TopologyError` carrying them all, sorted by position; the exception's own
``file``/``line``/``column``/``path``/``message`` describe the first one.

Whatever the input, a diagnostic formats to at most :data:`MAX_LINE` characters (issue 11):
values echoed from the file are cut to a short prefix, long lists of allowed values are
summarized, and a file with more than :data:`~topology.limits.MAX_DIAGNOSTICS` problems
reports the first ones and how many more there are.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from topology.limits import MAX_DIAGNOSTICS
from topology.yamlmarks import Pos

MAX_LINE = 1024  # characters of one formatted diagnostic
_CAPS = {"file": 200, "path": 160, "message": 480, "suggestion": 60}
_ALLOWED_CHARS = 400


def short(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _allowed(values: tuple[str, ...]) -> tuple[str, ...]:
    kept: list[str] = []
    used = 0
    for value in values:
        value = short(value, 40)
        if used + len(value) + 2 > _ALLOWED_CHARS:
            return (*kept, f"… ({len(values) - len(kept)} more)")
        kept.append(value)
        used += len(value) + 2
    return tuple(kept)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str
    line: int  # 1-based; 0 when the problem has no position (e.g. an empty file)
    column: int  # 1-based
    path: str  # field path such as ``nodes.r1.kind`` or ``links[0].endpoints[1]``
    message: str
    allowed: tuple[str, ...] = ()
    suggestion: str | None = None

    def __post_init__(self) -> None:
        for name, limit in _CAPS.items():
            value = getattr(self, name)
            if value is not None and len(value) > limit:
                object.__setattr__(self, name, short(value, limit))
        object.__setattr__(self, "allowed", _allowed(tuple(self.allowed)))

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if self.allowed:
            text += f"; allowed: {', '.join(self.allowed)}"
        if self.suggestion is not None:
            text += f" (did you mean {self.suggestion!r}?)"
        return short(text, MAX_LINE)

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "allowed": list(self.allowed),
            "suggestion": self.suggestion,
        }


class TopologyError(Exception):
    """A topology that cannot be used: every problem found, sorted by position."""

    def __init__(self, diagnostics: Iterable[Diagnostic], *, omitted: int = 0) -> None:
        """``omitted``: problems found but not made into diagnostics (they count in the
        "... and N more" line)."""
        ordered = sorted(diagnostics, key=lambda d: (d.file, d.line, d.column, d.path))
        if not ordered:
            raise ValueError("TopologyError needs at least one diagnostic")
        if len(ordered) > MAX_DIAGNOSTICS or omitted:
            more = len(ordered) - MAX_DIAGNOSTICS + omitted
            ordered = [
                *ordered[:MAX_DIAGNOSTICS],
                Diagnostic(ordered[0].file, 0, 0, "", f"… and {more} more problems not shown"),
            ]
        self.diagnostics = tuple(ordered)
        first = ordered[0]
        self.file = first.file
        self.line = first.line
        self.column = first.column
        self.path = first.path
        self.message = first.message
        self.allowed = first.allowed
        self.suggestion = first.suggestion
        super().__init__("\n".join(d.format() for d in ordered))


def did_you_mean(word: str, candidates: Sequence[str]) -> str | None:
    """The closest candidate to ``word`` (difflib ratio >= 0.6), or None."""
    if len(word) > 64:
        return None
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


# -- positions -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Where:
    """Where a value sits: its field path and position (and the position of its key)."""

    path: str
    pos: Pos
    key_pos: Pos | None = None


NOWHERE = Where("", Pos(1, 1))


def child_path(parent: str, key: object) -> str:
    """``nodes`` + ``r1`` -> ``nodes.r1``; ``links`` + 0 -> ``links[0]``."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{parent}[{key}]"
    text = short(str(key), 64)
    return f"{parent}.{text}" if parent else text


class Report:
    """Collects the diagnostics of one file while the checks run."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self.omitted = 0  # problems counted, not described (a file with very many)

    def error(
        self,
        where: Where,
        message: str,
        *,
        allowed: Sequence[str] = (),
        suggestion: str | None = None,
        at_key: bool = False,
    ) -> None:
        pos = where.key_pos if at_key and where.key_pos is not None else where.pos
        self.diagnostics.append(
            Diagnostic(
                self.file, pos.line, pos.column, where.path, message, tuple(allowed), suggestion
            )
        )

    def add(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    def raise_if_any(self) -> None:
        if self.diagnostics:
            raise TopologyError(self.diagnostics, omitted=self.omitted)
