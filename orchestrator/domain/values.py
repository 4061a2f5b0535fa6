"""Loose values from people (``"20ms"``, ``"5%"``, ``"10mbit"``, ``"10MB"``, numbers,
``timedelta``) to the lab's units, with errors that name the request field.

The notations are :mod:`topology.units`' (the same as in topology files); this module adds
the field name and the allowed range, and raises :class:`InvalidArgument`.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

from orchestrator.domain.errors import InvalidArgument, echo

Duration = float | int | str | timedelta
Probability = float | int | str
Rate = float | int | str
Size = int | str

_NUMBER = r"([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)"
_DURATION_RE = re.compile(rf"^\s*{_NUMBER}\s*(us|ms|s|m)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
_RATE_RE = re.compile(rf"^\s*{_NUMBER}\s*([kmg]?)bit(?:/s)?\s*$", re.IGNORECASE)
_RATE_SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}
_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmg]?)(i?)b?\s*$", re.IGNORECASE)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def duration(value: Duration, field: str, *, low: float = 0.0, high: float = 86400.0) -> float:
    """Seconds from ``20ms``, ``1.5s``, ``200us``, ``2m``, a number of seconds or a
    timedelta; within ``low..high``."""
    seconds = _number(value)
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str):
        m = _DURATION_RE.match(value)
        if m is not None:
            seconds = float(m.group(1)) * _DURATION_UNITS[(m.group(2) or "s").lower()]
    if seconds is None or not math.isfinite(seconds):
        raise InvalidArgument(
            f"expected a duration like 20ms, 1.5s or a number of seconds, got {echo(value)}",
            field,
        )
    if not low <= seconds <= high:
        raise InvalidArgument(f"must be within {low:g}..{high:g} s, got {echo(value)}", field)
    return seconds


def probability(value: Probability, field: str) -> float:
    """A fraction 0..1 from ``5%``, ``0.05`` or a number."""
    p = _number(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            p = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
        except ValueError:
            p = None
    if p is None or not 0.0 <= p <= 1.0:
        raise InvalidArgument(
            f"expected a probability like 5% or 0.05 (0..1), got {echo(value)}", field
        )
    return p


def rate(value: Rate, field: str) -> float:
    """Bits per second from ``10mbit``, ``512kbit``, ``1gbit`` or a number of bit/s."""
    bps = _number(value)
    if isinstance(value, str):
        m = _RATE_RE.match(value)
        bps = float(m.group(1)) * _RATE_SCALE[m.group(2).lower()] if m else None
    if bps is None or not 0 < bps <= 1e12:
        raise InvalidArgument(
            f"expected a rate like 10mbit, 512kbit or a number of bit/s, got {echo(value)}",
            field,
        )
    return bps


def size(value: Size, field: str, *, low: int = 0, high: int = 1 << 40) -> int:
    """Bytes from ``10MB`` (10^6), ``1MiB`` (2^20), ``500k`` or a number of bytes."""
    n: float | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        n = float(value)
    elif isinstance(value, str):
        m = _SIZE_RE.match(value)
        if m is not None:
            base = 1024 if m.group(3) else 1000
            n = float(m.group(1)) * base ** " kmg".index((m.group(2) or " ").lower())
    if n is None:
        raise InvalidArgument(
            f"expected a size like 10MB, 1MiB, 500k or a number of bytes, got {echo(value)}",
            field,
        )
    if not low <= n <= high:
        raise InvalidArgument(f"must be within {low}..{high} bytes, got {echo(value)}", field)
    return int(n)


def integer(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"expected an integer, got {echo(value)}", field)
    if not low <= value <= high:
        raise InvalidArgument(f"must be within {low}..{high}, got {value}", field)
    return value


# ---- for people ---------------------------------------------------------------------------


def format_duration(seconds: float) -> str:
    """0.02 -> '20ms', 1.5 -> '1.5s', 120 -> '2m'."""
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    if seconds >= 1:
        return f"{seconds:g}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:g}ms"
    return f"{seconds * 1e6:g}us"


def format_rate(bps: float) -> str:
    """1e7 -> '10mbit'."""
    for unit, scale in (("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3)):
        if bps >= scale:
            return f"{bps / scale:g}{unit}"
    return f"{bps:g}bit"


def format_probability(p: float) -> str:
    """0.05 -> '5%'."""
    return f"{p * 100:g}%"
