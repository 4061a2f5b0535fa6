"""Parsers for the scalar notations of topology files: names, addresses, prefixes, MACs,
integers, booleans, choices, and (through :mod:`topology.units`, the one unit parser)
durations, rates and probabilities.

Each takes the value as YAML gave it and returns it parsed, or raises :class:`Problem`
with the message a person reads; :mod:`topology.fields` turns that into a pydantic error,
which :mod:`topology.diagnose` places at the value's line and column.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import AddressValueError, IPv4Address, IPv4Network
from typing import Any, TypeVar

from topology import units
from topology.errors import did_you_mean
from topology.model import Bind
from topology.units import UnitError, echo, kind_of

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
IFACE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")
NAME_RULE = "a letter, then letters, digits, '_' or '-' (at most 32)"
IFACE_RULE = "a letter, then letters, digits, '_', '.' or '-' (at most 15, like Linux)"

E = TypeVar("E", bound=StrEnum)


class Problem(ValueError):
    """A value that is not what the file should say there. ``at`` points below the value
    (a key of a mapping the check looked into); ``at_key`` points at the key, not the value."""

    def __init__(
        self,
        message: str,
        *,
        allowed: Sequence[str] = (),
        suggestion: str | None = None,
        at: tuple[str | int, ...] = (),
        at_key: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.allowed = tuple(allowed)
        self.suggestion = suggestion
        self.at = at
        self.at_key = at_key


def expected(what: str, value: object) -> Problem:
    return Problem(f"expected {what}, got {kind_of(value)}")


@dataclass(frozen=True, slots=True)
class HostAddress:
    """An interface address as written: ``10.0.0.1`` or ``10.0.0.1/24``."""

    address: IPv4Address
    prefixlen: int | None


def string(value: object) -> str:
    if isinstance(value, str):
        return value
    raise expected("a string", value)


def boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise expected("a boolean (true or false)", value)


def integer(value: object, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise expected("an integer", value)
    _in_range(value, lo, hi)
    return value


def _in_range(value: float, lo: float, hi: float | None) -> None:
    if value < lo or (hi is not None and value > hi):
        bounds = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise Problem(f"{value} is out of range; allowed: {bounds}")


def choice(value: object, what: str, allowed: Sequence[str]) -> str:
    if not isinstance(value, str):
        raise Problem(expected(f"a {what}", value).message, allowed=allowed)
    text = value
    if text not in allowed:
        raise Problem(
            f"unknown {what} {echo(text)}", allowed=allowed, suggestion=did_you_mean(text, allowed)
        )
    return text


def enum_choice(value: object, what: str, kind: type[E], allowed: Sequence[str] = ()) -> E:
    return kind(choice(value, what, allowed or [k.value for k in kind]))


def name(value: object, what: str) -> str:
    text = string(value)
    if not NAME_RE.match(text):
        raise Problem(f"bad {what} {echo(text)}: expected {NAME_RULE}")
    return text


def iface_name(value: object) -> str:
    text = string(value)
    if not IFACE_RE.match(text):
        raise Problem(f"bad interface name {echo(text)}: expected {IFACE_RULE}")
    return text


def address(value: object) -> HostAddress:
    """'10.0.0.1' or '10.0.0.1/24'."""
    text = string(value)
    addr_text, slash, plen_text = text.partition("/")
    try:
        addr = IPv4Address(addr_text.strip())
    except AddressValueError:
        raise Problem(f"invalid IPv4 address {echo(text)}") from None
    return HostAddress(addr, _prefixlen(text, plen_text) if slash else None)


def host(value: object, what: str) -> IPv4Address:
    """A plain address (no /len), e.g. a route's next hop."""
    parsed = address(value)
    if parsed.prefixlen is not None:
        raise Problem(f"{what} {echo(value)} is an address, not a prefix")
    return parsed.address


def network(value: object, *, default: bool = False) -> IPv4Network:
    """'10.0.0.0/24' (and 'default' = 0.0.0.0/0 when ``default``); host bits must be zero."""
    text = string(value)
    if default and text == "default":
        return IPv4Network("0.0.0.0/0")
    addr_text, slash, plen_text = text.partition("/")
    if not slash:
        raise Problem(f"bad prefix {echo(text)}: expected address/length like 10.0.0.0/24")
    try:
        base = IPv4Address(addr_text.strip())
    except AddressValueError:
        raise Problem(f"bad prefix {echo(text)}: invalid IPv4 address {echo(addr_text)}") from None
    plen = _prefixlen(text, plen_text)
    try:
        return IPv4Network((base, plen))
    except ValueError:
        fixed = IPv4Network((base, plen), strict=False)
        raise Problem(f"bad prefix {echo(text)}: host bits set", suggestion=str(fixed)) from None


def _prefixlen(text: str, plen_text: str) -> int:
    if not plen_text.strip().isdigit() or len(plen_text) > 3 or int(plen_text) > 32:
        raise Problem(f"bad prefix length in {echo(text)}; allowed: /0../32")
    return int(plen_text)


def mac(value: object) -> bytes:
    text = string(value)
    parts = text.replace("-", ":").split(":")
    if len(parts) != 6 or not all(re.fullmatch(r"[0-9A-Fa-f]{2}", p) for p in parts):
        raise Problem(f"bad MAC {echo(text)}: expected six hex pairs like 02:00:00:00:00:01")
    parsed = bytes(int(p, 16) for p in parts)
    if parsed[0] & 1:
        raise Problem(f"bad MAC {echo(text)}: a multicast address cannot be an interface's")
    return parsed


# -- people's units (topology.units is the one parser) ----------------------------------------


def _unit(parse: Any, value: object) -> Any:
    try:
        return parse(value)
    except UnitError as exc:
        raise Problem(exc.problem, allowed=exc.notations) from None


def duration(value: object, lo: float = 0.0, *, positive: bool = False) -> float:
    """Seconds as a number, or a string with a unit: '50ms', '1.5s', '200us', '2m'."""
    seconds: float = _unit(units.parse_duration, value)
    if positive and seconds <= 0:
        raise Problem(f"must be longer than zero, got {echo(value)}")
    _in_range(seconds, lo, None)
    return seconds


def probability(value: object) -> float:
    """0..1, or a percentage string like '5%'."""
    fraction: float = _unit(units.parse_probability, value)
    return fraction


def rate(value: object) -> float:
    """Bits per second as a number, or tc notation: '10mbit', '512kbit', '1gbit'."""
    bits: float = _unit(units.parse_rate, value)
    return bits


# -- a linux node's workload (image, cmd, env, binds) ------------------------------------------

IMAGE_RE = re.compile(
    r"^[a-z0-9][a-z0-9._/-]*(:[0-9]+/[a-z0-9._/-]+)?"  # name, or registry:port/name
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$"  # tag, digest
)
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def image(value: object) -> str:
    """A Docker image reference: ``myweb``, ``myweb:1.2``, ``registry.lan/team/web:dev``."""
    text = string(value).strip()
    if not text or not IMAGE_RE.match(text) or len(text) > 255:
        raise Problem(
            f"{echo(text)} is not a Docker image reference (lower-case name[:tag], like "
            "myweb:1.0 or registry.lan/team/web:dev)"
        )
    return text


def command(value: object) -> tuple[str, ...]:
    """``cmd:`` as a string (split like a shell: ``python3 -m http.server 8080``) or a list."""
    if isinstance(value, str):
        try:
            argv = tuple(shlex.split(value))
        except ValueError as exc:
            raise Problem(f"cannot split {echo(value)} into words ({exc})") from None
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        argv = tuple(value)
    else:
        raise expected("a command: a string or a list of strings", value)
    if not argv or not argv[0]:
        raise Problem("the command is empty")
    return argv


def environment(value: object) -> tuple[tuple[str, str], ...]:
    """``env:`` a mapping NAME: value (numbers and booleans written as YAML gives them)."""
    if not isinstance(value, dict):
        raise expected("a mapping of NAME: value", value)
    out = []
    for key, item in value.items():
        if not isinstance(key, str) or not ENV_RE.match(key):
            raise Problem(
                f"{echo(key)} is not an environment variable name (letters, digits and '_', "
                "not starting with a digit)",
                at=(key,) if isinstance(key, str) else (),
                at_key=True,
            )
        if isinstance(item, bool):
            text = "true" if item else "false"
        elif isinstance(item, int | float | str):
            text = str(item)
        else:
            raise Problem(f"expected a string or a number, got {kind_of(item)}", at=(key,))
        out.append((key, text))
    return tuple(out)


def bind(value: object) -> Bind:
    """``SOURCE:TARGET`` or ``SOURCE:TARGET:ro`` (``rw``, the default): absolute paths."""
    text = string(value)
    parts = text.split(":")
    mode = ""
    if len(parts) == 3:
        mode = parts.pop()
    if len(parts) != 2 or mode not in ("", "ro", "rw"):
        raise Problem(
            f"{echo(text)} is not a bind: SOURCE:TARGET or SOURCE:TARGET:ro (host path, then "
            "the path in the container)",
            allowed=("SOURCE:TARGET", "SOURCE:TARGET:ro", "SOURCE:TARGET:rw"),
        )
    source, target = parts
    for path, what in ((source, "the host path"), (target, "the container path")):
        if not path.startswith("/") or "\0" in path:
            raise Problem(f"{what} of {echo(text)} must be absolute (start with /)")
    return Bind(source, target, read_only=mode == "ro")
