"""Loose values from people (``"20ms"``, ``"5%"``, ``"10mbit"``, ``"10MB"``, numbers,
``timedelta``) to the lab's units, with errors that name the request field.

The notations are :mod:`topology.units`' (the same as in topology files: one parser); this
module adds the field's name and allowed range, and raises :class:`InvalidArgument`.
"""

from __future__ import annotations

from datetime import timedelta

from orchestrator.domain.errors import InvalidArgument, echo
from topology.units import (
    UnitError,
    format_duration,
    format_probability,
    format_rate,
    format_size,
    parse_duration,
    parse_probability,
    parse_rate,
    parse_size,
)

__all__ = [
    "Duration",
    "Probability",
    "Rate",
    "Size",
    "duration",
    "format_duration",
    "format_probability",
    "format_rate",
    "format_size",
    "integer",
    "probability",
    "rate",
    "size",
]

Duration = float | int | str | timedelta
Probability = float | int | str
Rate = float | int | str
Size = int | str


def _unit_error(exc: UnitError, field: str) -> InvalidArgument:
    return InvalidArgument(str(exc), field)


def duration(value: Duration, field: str, *, low: float = 0.0, high: float = 86400.0) -> float:
    """Seconds from ``20ms``, ``1.5s``, ``200us``, ``2m``, a number of seconds or a
    timedelta; within ``low..high``."""
    try:
        seconds = parse_duration(value)
    except UnitError as exc:
        raise _unit_error(exc, field) from None
    if not low <= seconds <= high:
        raise InvalidArgument(f"must be within {low:g}..{high:g} s, got {echo(value)}", field)
    return seconds


def probability(value: Probability, field: str) -> float:
    """A fraction 0..1 from ``5%``, ``0.05`` or a number."""
    try:
        return parse_probability(value)
    except UnitError as exc:
        raise _unit_error(exc, field) from None


def rate(value: Rate, field: str) -> float:
    """Bits per second from ``10mbit``, ``512kbit``, ``1gbit`` or a number of bit/s."""
    try:
        bps = parse_rate(value)
    except UnitError as exc:
        raise _unit_error(exc, field) from None
    if bps > 1e12:
        raise InvalidArgument(f"must be at most 1tbit, got {echo(value)}", field)
    return bps


def size(value: Size, field: str, *, low: int = 0, high: int = 1 << 40) -> int:
    """Bytes from ``10MB`` (10^6), ``1MiB`` (2^20), ``500k`` or a number of bytes."""
    try:
        n = parse_size(value)
    except UnitError as exc:
        raise _unit_error(exc, field) from None
    if not low <= n <= high:
        raise InvalidArgument(f"must be within {low}..{high} bytes, got {echo(value)}", field)
    return n


def integer(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"expected an integer, got {echo(value)}", field)
    if not low <= value <= high:
        raise InvalidArgument(f"must be within {low}..{high}, got {value}", field)
    return value
