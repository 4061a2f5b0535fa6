"""Typed topology errors that point at a file, line and column.

A :class:`Diagnostic` is one problem (file, line, column, field path, message, what is
allowed, a did-you-mean). Loading collects every diagnostic it can and raises one
:class:`TopologyError` carrying them all, sorted by position; the exception's own
``file``/``line``/``column``/``path``/``message`` describe the first one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str
    line: int  # 1-based; 0 when the problem has no position (e.g. an empty file)
    column: int  # 1-based
    path: str  # field path such as ``nodes.r1.kind`` or ``links[0].endpoints[1]``
    message: str
    allowed: tuple[str, ...] = ()
    suggestion: str | None = None

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if self.allowed:
            text += f"; allowed: {', '.join(self.allowed)}"
        if self.suggestion is not None:
            text += f" (did you mean {self.suggestion!r}?)"
        return text

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

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        ordered = tuple(sorted(diagnostics, key=lambda d: (d.file, d.line, d.column, d.path)))
        if not ordered:
            raise ValueError("TopologyError needs at least one diagnostic")
        self.diagnostics = ordered
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
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
