"""People's units, parsed in one place: durations, rates, probabilities and sizes.

Topology files use these parsers; so do the CLI and the Python client, so that ``20ms``,
``10mbit`` and ``5%`` mean the same everywhere. Every parser takes what a person writes
(a number, a numeric string or a string with a unit) and returns the value in the base
unit, or raises :class:`UnitError` naming what was expected and the notations allowed.

==============  ===============================================  ==============================
parser          accepts                                          returns
==============  ===============================================  ==============================
parse_duration  ``20ms`` ``1.5s`` ``200us`` ``2m`` ``1h``,        seconds (float)
                numbers and numeric strings (seconds),
                :class:`datetime.timedelta`
parse_rate      tc's bit units ``100bit`` ``512kbit`` ``10mbit``  bits per second (float)
                ``1gbit`` (also ``kibit``...), ``10Mbit/s``
                ``10Mb/s``; numbers (bit/s). ``10mbps`` is
                refused: tc reads ``bps`` as *bytes* per second
parse_probability  ``5%``, ``0.05``, numbers 0..1                 fraction 0..1 (float)
parse_size      ``10MB`` (10**6), ``1MiB`` (2**20), ``500k``,      bytes (int)
                ``1.5GB``; integers (bytes)
==============  ===============================================  ==============================

Unit names are case-insensitive, except that in a rate a capital ``B`` means bytes. The
formatters go the other way for people (``format_duration(0.02) == "20ms"``) and round-trip
exactly: ``parse_duration(format_duration(x)) == x`` for every finite x >= 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from decimal import Decimal, localcontext
from fractions import Fraction
from numbers import Real

__all__ = [
    "UnitError",
    "format_duration",
    "format_probability",
    "format_rate",
    "format_size",
    "parse_duration",
    "parse_probability",
    "parse_rate",
    "parse_size",
]

ECHO_LIMIT = 40  # characters of a value echoed in a message
_MAX_NUMBER = 40  # characters of a number: more is never a real value (and costs time)

_NUMBER_RE = re.compile(
    r"^\s*(?P<sign>[-+]?)(?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?)"
    r"\s*(?P<unit>[^\s0-9.].*?)?\s*$",
    re.DOTALL,
)

DURATION_NOTATIONS = ("seconds as a number", "'20ms'", "'1.5s'", "'200us'", "'2m'")
RATE_NOTATIONS = ("bit/s as a number", "'512kbit'", "'10mbit'", "'1gbit'", "'10Mbit/s'")
PROBABILITY_NOTATIONS = ("a number 0..1", "'0.05'", "'5%'")
SIZE_NOTATIONS = ("bytes as an integer", "'500k'", "'10MB'", "'1MiB'", "'1.5GB'")

_DURATION_UNITS: dict[str, Fraction] = {
    **dict.fromkeys(("ns", "nsec", "nsecs"), Fraction(1, 10**9)),
    **dict.fromkeys(("us", "usec", "usecs", "µs", "μs"), Fraction(1, 10**6)),
    **dict.fromkeys(("ms", "msec", "msecs"), Fraction(1, 1000)),
    **dict.fromkeys(("", "s", "sec", "secs"), Fraction(1)),
    **dict.fromkeys(("m", "min", "mins"), Fraction(60)),
    **dict.fromkeys(("h", "hr", "hour", "hours"), Fraction(3600)),
}
DURATION_UNITS = tuple(u for u in _DURATION_UNITS if u)  # every unit name parse_duration reads
_SI = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_IEC = {"ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
_RATE_RE = re.compile(r"^(?P<prefix>(?:[kmgt]i?)?)(?P<base>bits?(?:/s)?|b/s|bps|b|bytes?(?:/s)?)$")
_SIZE_RE = re.compile(r"^(?P<prefix>(?:[kmgt]i?)?)(?P<base>b|bytes?|)$")
_WORDS = {"": "", "k": "kilo", "m": "mega", "g": "giga", "t": "tera", "ki": "kibi", "mi": "mebi",
          "gi": "gibi", "ti": "tebi"}  # fmt: skip


class UnitError(ValueError):
    """A value a person wrote that is not the quantity expected.

    ``problem`` says what is wrong (``"bad duration '20 parsecs'"``), ``expected`` what was
    expected (``"a duration"``) and ``notations`` how to write one. Values echoed are cut to
    a short prefix, so a message stays short whatever the input.
    """

    def __init__(self, problem: str, *, expected: str, notations: Sequence[str] = ()) -> None:
        self.problem = problem
        self.expected = expected
        self.notations = tuple(notations)
        how = f": {', '.join(self.notations)}" if self.notations else ""
        super().__init__(f"{problem} (expected {expected}{how})")


def echo(value: object) -> str:
    """``repr(value)`` cut to a short prefix (``'aaaa…'``), for messages."""
    if isinstance(value, str) and len(value) > ECHO_LIMIT:
        return repr(value[:ECHO_LIMIT]) + "…"
    text = repr(value)
    return text if len(text) <= ECHO_LIMIT + 2 else text[: ECHO_LIMIT + 2] + "…"


def kind_of(value: object) -> str:
    """A person's name for a value's type: "a string", "an integer", "nothing (null)"..."""
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
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


# -- parsing -----------------------------------------------------------------------------------


def _split(value: object, what: str, notations: Sequence[str]) -> tuple[Fraction, str, str]:
    """(number, unit as written, the value echoed for messages) of a number or a string
    "<number>[ ]<unit>"."""
    expected = f"a {what}"
    if isinstance(value, bool) or not isinstance(value, Real | str):
        raise UnitError(f"expected {expected}, got {kind_of(value)}", expected=expected,
                        notations=notations)  # fmt: skip
    if not isinstance(value, str):
        number = float(value)
        if not math.isfinite(number):
            raise UnitError(f"{what} must be finite, got {echo(value)}", expected=expected)
        if number < 0:
            raise UnitError(f"{what} must not be negative, got {echo(value)}", expected=expected)
        return Fraction(number), "", echo(value)
    m = _NUMBER_RE.match(value)
    if m is None or len(m.group("num")) > _MAX_NUMBER:
        raise UnitError(f"bad {what} {echo(value)}", expected=expected, notations=notations)
    if m.group("sign") == "-":
        raise UnitError(f"{what} must not be negative, got {echo(value)}", expected=expected)
    return Fraction(Decimal(m.group("num"))), m.group("unit") or "", echo(value.strip())


def _finite(number: Fraction, what: str, shown: str) -> float:
    try:
        result = float(number)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result):
        raise UnitError(f"{what} {shown} is too large", expected=f"a {what}")
    return result


def parse_duration(value: object) -> float:
    """Seconds from ``20ms``, ``1.5s``, ``200us``, ``2m``, ``1h``, a number or numeric string
    (seconds) or a :class:`~datetime.timedelta`. Never negative."""
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise UnitError(f"duration must not be negative, got {value}", expected="a duration")
        return value.total_seconds()
    number, unit, shown = _split(value, "duration", DURATION_NOTATIONS)
    scale = _DURATION_UNITS.get(unit.lower())
    if scale is None:
        raise UnitError(
            f"bad duration {shown}: unknown unit {echo(unit)}",
            expected="a duration",
            notations=DURATION_NOTATIONS,
        )
    return _finite(number * scale, "duration", shown)


def parse_rate(value: object) -> float:
    """Bits per second from tc's bit units (``100bit``, ``512kbit``, ``10mbit``, ``1gbit``,
    ``1tbit``, binary ``kibit``...), ``10Mbit/s`` or ``10Mb/s``, or a number (bit/s).

    ``10mbps`` is refused: tc reads ``bps`` as bytes per second while people mostly mean bits;
    the message says which to write instead. A rate is greater than zero."""
    number, unit, shown = _split(value, "rate", RATE_NOTATIONS)
    m = _RATE_RE.match(unit.lower())
    if unit and m is None:
        raise UnitError(
            f"bad rate {shown}: unknown unit {echo(unit)}",
            expected="a rate",
            notations=RATE_NOTATIONS,
        )
    prefix = m.group("prefix") if m else ""
    base = m.group("base") if m else "bit"
    if base in ("bps", "b") or base.startswith("byte") or (base == "b/s" and "B" in unit):
        raise UnitError(_bytes_hint(shown, number, prefix), expected="a rate",
                        notations=RATE_NOTATIONS)  # fmt: skip
    scale = _IEC[prefix] if prefix in _IEC else _SI[prefix]
    if number == 0:
        raise UnitError(f"rate must be greater than zero, got {shown}", expected="a rate")
    return _finite(number * scale, "rate", shown)


def _bytes_hint(shown: str, number: Fraction, prefix: str) -> str:
    word = _WORDS[prefix]
    unit = f"{prefix}bit"
    bits, nbytes = _plain(number), _plain(number * 8)
    return (
        f"ambiguous rate {shown}: tc reads bps (and B) as BYTES per second; write {bits}{unit} "
        f"for {bits} {word}bits per second, or {nbytes}{unit} for {bits} {word}bytes per second"
    )


def parse_probability(value: object) -> float:
    """A fraction 0..1 from ``5%`` (0..100%), ``0.05`` or a number 0..1."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            number, unit, _ = _split(value.strip()[:-1], "probability", PROBABILITY_NOTATIONS)
        except UnitError:
            number, unit = Fraction(-1), ""
        if unit or not 0 <= number <= 100:
            raise UnitError(f"bad percentage {echo(value)}; allowed: 0%..100%",
                            expected="a probability", notations=PROBABILITY_NOTATIONS)  # fmt: skip
        return float(number / 100)
    number, unit, shown = _split(value, "probability", PROBABILITY_NOTATIONS)
    if unit:
        raise UnitError(f"bad probability {echo(value)}", expected="a probability",
                        notations=PROBABILITY_NOTATIONS)  # fmt: skip
    if number > 1:
        shown = str(float(value)) if isinstance(value, int | float) else shown
        raise UnitError(f"{shown} is out of range; allowed: 0.0..1.0", expected="a probability",
                        notations=PROBABILITY_NOTATIONS)  # fmt: skip
    return float(number)


def parse_size(value: object) -> int:
    """Bytes from ``10MB`` (10**6), ``1MiB`` (2**20), ``500k`` (500 000), ``1.5GB``, ``100B``
    or an integer. SI prefixes are powers of 1000, ``Ki``/``Mi``/``Gi``/``Ti`` of 1024."""
    number, unit, shown = _split(value, "size", SIZE_NOTATIONS)
    m = _SIZE_RE.match(unit.lower())
    if m is None:
        hint = "; sizes are in bytes" if "bit" in unit.lower() else ""
        raise UnitError(f"bad size {shown}: unknown unit {echo(unit)}{hint}",
                        expected="a size", notations=SIZE_NOTATIONS)  # fmt: skip
    prefix = m.group("prefix")
    total = number * (_IEC[prefix] if prefix in _IEC else _SI[prefix])
    if total.denominator != 1:
        raise UnitError(f"size {shown} is not a whole number of bytes", expected="a size",
                        notations=SIZE_NOTATIONS)  # fmt: skip
    return int(total)


# -- formatting --------------------------------------------------------------------------------


def _floor_log10(number: Fraction) -> int:
    exp = len(str(number.numerator)) - len(str(number.denominator))
    while Fraction(10) ** exp > number:
        exp -= 1
    while Fraction(10) ** (exp + 1) <= number:
        exp += 1
    return exp


def _plain(number: Fraction, digits: int = 17) -> str:
    """``number`` (>= 0) rounded exactly to ``digits`` significant digits, as a short
    decimal: no trailing zeros, an exponent only for very large or very small numbers."""
    if number == 0:
        return "0"
    shift = _floor_log10(number) - digits + 1
    with localcontext(prec=digits + 2):
        dec = Decimal(round(number / Fraction(10) ** shift)).scaleb(shift).normalize()
    text = f"{dec:f}"
    if len(text) > 21:
        mantissa, _, exp = f"{dec:e}".partition("e")
        text = f"{mantissa}e{int(exp)}"
    return text


def _shortest(value: float, scale: Fraction, unit: str, parse: Callable[[str], float]) -> str:
    """The fewest significant digits of ``value / scale`` that parse back to ``value``."""
    exact = Fraction(value) / scale
    for digits in range(1, 18):
        text = _plain(exact, digits) + unit
        try:
            if parse(text) == value:
                return text
        except UnitError:  # rounded up past the largest float
            continue
    return _plain(exact) + unit  # pragma: no cover - 17 digits always round-trip


def _check(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise UnitError(f"expected a {what}, got {kind_of(value)}", expected=f"a {what}")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise UnitError(f"{what} must be finite and >= 0, got {echo(value)}", expected=f"a {what}")
    return number


def format_duration(seconds: float) -> str:
    """``0.02`` -> ``"20ms"``, ``1.5`` -> ``"1.5s"``, ``120`` -> ``"2m"``, ``2e-4`` ->
    ``"200us"``."""
    value = _check(seconds, "duration")
    if value == 0:
        return "0s"
    for unit, whole in (("h", 3600), ("m", 60)):
        if value >= whole and value % whole == 0:
            return _shortest(value, Fraction(whole), unit, parse_duration)
    for unit, scale in (("s", Fraction(1)), ("ms", Fraction(1, 1000))):
        if value >= scale:
            return _shortest(value, scale, unit, parse_duration)
    return _shortest(value, Fraction(1, 10**6), "us", parse_duration)


def format_rate(bits_per_second: float) -> str:
    """``1e7`` -> ``"10mbit"``, ``512000`` -> ``"512kbit"``, ``100`` -> ``"100bit"`` (tc's
    notation; the largest unit that keeps the number >= 1)."""
    value = _check(bits_per_second, "rate")
    if value == 0:
        raise UnitError("rate must be greater than zero, got 0", expected="a rate")
    for unit in ("t", "g", "m", "k"):
        if value >= _SI[unit]:
            return _shortest(value, Fraction(_SI[unit]), f"{unit}bit", parse_rate)
    return _shortest(value, Fraction(1), "bit", parse_rate)


def format_probability(fraction: float) -> str:
    """``0.05`` -> ``"5%"``, ``1`` -> ``"100%"``, ``0.0001`` -> ``"0.01%"``."""
    value = _check(fraction, "probability")
    if value > 1:
        raise UnitError(f"{value} is out of range; allowed: 0.0..1.0", expected="a probability")
    return _shortest(value, Fraction(1, 100), "%", parse_probability)


def format_size(nbytes: int) -> str:
    """``10**7`` -> ``"10MB"``, ``2**20`` -> ``"1MiB"``, ``1500`` -> ``"1.5kB"``, ``100`` ->
    ``"100B"``: a whole number in the largest unit when there is one (SI first), else a
    decimal in the largest SI unit."""
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 0:
        raise UnitError(f"expected a size in bytes, got {echo(nbytes)}", expected="a size")
    units = [("TB", 10**12), ("TiB", 2**40), ("GB", 10**9), ("GiB", 2**30), ("MB", 10**6),
             ("MiB", 2**20), ("kB", 10**3), ("KiB", 2**10)]  # fmt: skip
    for unit, scale in units:
        if nbytes >= scale and nbytes % scale == 0:
            return f"{nbytes // scale}{unit}"
    for unit, scale in units[::2]:
        if nbytes >= scale:
            return _plain(Fraction(nbytes, scale), len(str(nbytes)) + 1) + unit
    return f"{nbytes}B"
