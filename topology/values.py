"""Parsers for the scalar notations used in topology files (addresses, prefixes, MACs,
durations, rates, probabilities). Each returns the value or records a diagnostic and
returns None."""

from __future__ import annotations

import re
from ipaddress import AddressValueError, IPv4Address, IPv4Network

from topology.reader import Reader, Val

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
IFACE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")
NAME_RULE = "a letter, then letters, digits, '_' or '-' (at most 32)"
IFACE_RULE = "a letter, then letters, digits, '_', '.' or '-' (at most 15, like Linux)"

_DURATION_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(us|ms|s|m)?\s*$")
_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, None: 1.0}
_RATE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(bit|kbit|mbit|gbit)?\s*$", re.IGNORECASE)
_RATE_UNITS = {"bit": 1, "kbit": 1_000, "mbit": 1_000_000, "gbit": 1_000_000_000, None: 1}


def name(reader: Reader, val: Val, what: str) -> str | None:
    text = reader.string(val)
    if text is None:
        return None
    if not NAME_RE.match(text):
        reader.error(val.where, f"bad {what} {text!r}: expected {NAME_RULE}")
        return None
    return text


def check_name(reader: Reader, val: Val, text: str, what: str, *, iface: bool = False) -> bool:
    pattern, rule = (IFACE_RE, IFACE_RULE) if iface else (NAME_RE, NAME_RULE)
    if pattern.match(text):
        return True
    reader.error(val.where, f"bad {what} {text!r}: expected {rule}")
    return False


def address(reader: Reader, val: Val, text: str) -> tuple[IPv4Address, int | None] | None:
    """'10.0.0.1' or '10.0.0.1/24' -> (address, prefix length or None)."""
    addr_text, slash, plen_text = text.partition("/")
    try:
        addr = IPv4Address(addr_text.strip())
    except AddressValueError:
        reader.error(val.where, f"invalid IPv4 address {text!r}")
        return None
    if not slash:
        return addr, None
    plen = _prefixlen(reader, val, text, plen_text)
    return None if plen is None else (addr, plen)


def network(reader: Reader, val: Val) -> IPv4Network | None:
    """'10.0.0.0/24' (also 'default' = 0.0.0.0/0); host bits must be zero."""
    text = reader.string(val)
    if text is None:
        return None
    if text == "default":
        return IPv4Network("0.0.0.0/0")
    addr_text, slash, plen_text = text.partition("/")
    if not slash:
        reader.error(val.where, f"bad prefix {text!r}: expected address/length like 10.0.0.0/24")
        return None
    try:
        base = IPv4Address(addr_text.strip())
    except AddressValueError:
        reader.error(val.where, f"bad prefix {text!r}: invalid IPv4 address {addr_text!r}")
        return None
    plen = _prefixlen(reader, val, text, plen_text)
    if plen is None:
        return None
    try:
        return IPv4Network((base, plen))
    except ValueError:
        fixed = IPv4Network((base, plen), strict=False)
        reader.error(val.where, f"bad prefix {text!r}: host bits set", suggestion=str(fixed))
        return None


def _prefixlen(reader: Reader, val: Val, text: str, plen_text: str) -> int | None:
    if not plen_text.strip().isdigit() or int(plen_text) > 32:
        reader.error(val.where, f"bad prefix length in {text!r}; allowed: /0../32")
        return None
    return int(plen_text)


def mac(reader: Reader, val: Val) -> bytes | None:
    text = reader.string(val)
    if text is None:
        return None
    parts = text.replace("-", ":").split(":")
    if len(parts) != 6 or not all(re.fullmatch(r"[0-9A-Fa-f]{2}", p) for p in parts):
        reader.error(val.where, f"bad MAC {text!r}: expected six hex pairs like 02:00:00:00:00:01")
        return None
    value = bytes(int(p, 16) for p in parts)
    if value[0] & 1:
        reader.error(val.where, f"bad MAC {text!r}: a multicast address cannot be an interface's")
        return None
    return value


def duration(reader: Reader, val: Val) -> float | None:
    """Seconds as a number, or a string with a unit: '50ms', '1.5s', '200us', '2m'."""
    value = val.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return reader.number(val, 0.0)
    if isinstance(value, str):
        m = _DURATION_RE.match(value)
        if m:
            return float(m.group(1)) * _DURATION_UNITS[m.group(2)]
        reader.error(val.where, f"bad duration {value!r}", allowed=("seconds", "'50ms'", "'2s'"))
        return None
    reader.wrong_type(val, "a duration (seconds, or a string like '50ms')")
    return None


def probability(reader: Reader, val: Val) -> float | None:
    """0..1, or a percentage string like '5%'."""
    value = val.value
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            pct = float(value.strip()[:-1])
        except ValueError:
            pct = -1.0
        if 0.0 <= pct <= 100.0:
            return pct / 100.0
        reader.error(val.where, f"bad percentage {value!r}; allowed: 0%..100%")
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return reader.number(val, 0.0, 1.0)
    reader.wrong_type(val, "a probability (0..1 or a string like '5%')")
    return None


def rate(reader: Reader, val: Val) -> int | None:
    """Bits per second as an integer, or tc notation: '10mbit', '512kbit', '1gbit'."""
    value = val.value
    if isinstance(value, int) and not isinstance(value, bool):
        return reader.integer(val, 1)
    if isinstance(value, str):
        m = _RATE_RE.match(value)
        if m and float(m.group(1)) > 0:
            unit = m.group(2).lower() if m.group(2) else None
            return int(float(m.group(1)) * _RATE_UNITS[unit])
        reader.error(val.where, f"bad rate {value!r}", allowed=("bits/s", "'10mbit'", "'1gbit'"))
        return None
    reader.wrong_type(val, "a rate (bits/s, or a string like '10mbit')")
    return None
