"""Typed, error-collecting access to a position-marked YAML tree.

Every accessor returns ``None`` after recording a :class:`Diagnostic` when the value has the
wrong shape, so a parser can keep going and report every problem in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from topology.errors import Diagnostic, did_you_mean
from topology.yamlmarks import MarkedMap, MarkedSeq, Pos

N = TypeVar("N", int, float)


@dataclass(frozen=True, slots=True)
class Where:
    """Where a value sits: its field path and position (and the position of its key)."""

    path: str
    pos: Pos
    key_pos: Pos | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Val:
    value: Any
    where: Where

    @property
    def path(self) -> str:
        return self.where.path


def type_name(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def child_path(parent: str, key: object) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


class Reader:
    """Collects diagnostics for one file while a parser walks its tree."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    # -- reporting ---------------------------------------------------------------------------
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

    def choice_error(self, where: Where, what: str, value: object, allowed: Sequence[str]) -> None:
        suggestion = did_you_mean(value, allowed) if isinstance(value, str) else None
        self.error(where, f"unknown {what} {value!r}", allowed=allowed, suggestion=suggestion)

    def wrong_type(self, val: Val, expected: str) -> None:
        self.error(val.where, f"expected {expected}, got {type_name(val.value)}")

    # -- containers --------------------------------------------------------------------------
    def mapping(
        self,
        val: Val,
        *,
        allowed: Sequence[str] | None = None,
        required: Sequence[str] = (),
        what: str = "key",
    ) -> dict[str, Val] | None:
        """The children of a mapping, checking unknown (with did-you-mean) and missing keys."""
        if not isinstance(val.value, MarkedMap):
            self.wrong_type(val, "a mapping")
            return None
        out: dict[str, Val] = {}
        for key, value in val.value.items():
            kpos = val.value.key_pos[key]
            where = Where(child_path(val.path, key), val.value.value_pos[key], kpos)
            if not isinstance(key, str):
                self.error(where, f"expected a string {what}, got {type_name(key)}", at_key=True)
                continue
            if allowed is not None and key not in allowed:
                self.error(
                    where,
                    f"unknown {what} {key!r}",
                    allowed=allowed,
                    suggestion=did_you_mean(key, allowed),
                    at_key=True,
                )
                continue
            out[key] = Val(value, where)
        for key in required:
            if key not in val.value:
                self.error(val.where, f"missing required key {key!r}", at_key=True)
        return out

    def sequence(self, val: Val) -> list[Val] | None:
        if not isinstance(val.value, MarkedSeq):
            self.wrong_type(val, "a list")
            return None
        return [
            Val(item, Where(child_path(val.path, i), val.value.item_pos[i]))
            for i, item in enumerate(val.value)
        ]

    # -- scalars -----------------------------------------------------------------------------
    def string(self, val: Val) -> str | None:
        if isinstance(val.value, str):
            return val.value
        self.wrong_type(val, "a string")
        return None

    def boolean(self, val: Val) -> bool | None:
        if isinstance(val.value, bool):
            return val.value
        self.wrong_type(val, "a boolean (true or false)")
        return None

    def integer(self, val: Val, lo: int, hi: int | None = None) -> int | None:
        value = val.value
        if isinstance(value, bool) or not isinstance(value, int):
            self.wrong_type(val, "an integer")
            return None
        return self._in_range(val, value, lo, hi)

    def number(self, val: Val, lo: float, hi: float | None = None) -> float | None:
        value = val.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.wrong_type(val, "a number")
            return None
        return self._in_range(val, float(value), lo, hi)

    def _in_range(self, val: Val, value: N, lo: N, hi: N | None) -> N | None:
        if value < lo or (hi is not None and value > hi):
            bounds = f"{lo}..{hi}" if hi is not None else f">= {lo}"
            self.error(val.where, f"{value} is out of range; allowed: {bounds}")
            return None
        return value

    def choice(self, val: Val, allowed: Sequence[str], what: str) -> str | None:
        text = self.string(val)
        if text is None:
            return None
        if text not in allowed:
            self.choice_error(val.where, what, text, allowed)
            return None
        return text
