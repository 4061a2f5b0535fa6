"""Domain objects as the JSON that ``--json`` prints: what jq users expect.

- keys are the fields' snake_case names, with their units (``rtt_ms``, ``age_s``,
  ``size_bytes``, ``goodput_bps``; the fault model's seconds become ``delay_s``,
  ``jitter_s``, ``duration_s``);
- integers are numbers, never strings; enums are their lower-case words (``egress``,
  ``active``);
- absent values (``None``) are left out; the effects of a fault list only what is set;
- addresses and prefixes are strings (``10.0.1.2``, ``10.0.0.0/24``).
"""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Any

from nodes.faults.link import LinkProps
from nodes.faults.match import Match, Prefix, protocol_name
from nodes.faults.model import Codel, Effects, FaultSpec, GilbertElliott, RateLimit
from topology.model import FaultTarget

# the fault model counts in seconds without saying so in its field names
_RENAMED: dict[type, dict[str, str]] = {
    Effects: {"delay": "delay_s", "jitter": "jitter_s"},
    FaultSpec: {"duration": "duration_s"},
    LinkProps: {"rate": "rate_bps", "delay": "delay_s", "jitter": "jitter_s"},
    Codel: {"target": "target_s", "interval": "interval_s"},
}
# records whose default values mean "not set": only what differs is shown
_SPARSE = (Effects, GilbertElliott, RateLimit, FaultTarget, LinkProps)


def to_json(value: Any) -> Any:
    """``value`` (a domain object, or lists/dicts of them) as JSON-ready data."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, IPv4Address | IPv4Network | IPv4Interface | Prefix):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Match):
        return _match(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _record(value)
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    raise TypeError(f"no JSON form for {type(value).__name__}")


def dumps(value: Any) -> str:
    return json.dumps(to_json(value), indent=2)


def _record(obj: Any) -> dict[str, Any]:
    renamed = _RENAMED.get(type(obj), {})
    sparse = isinstance(obj, _SPARSE)
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value is None:
            continue
        if sparse and f.default is not dataclasses.MISSING and value == f.default:
            continue
        key = renamed.get(f.name, f.name)
        unit = f.metadata.get("unit")
        if unit and not key.endswith(f"_{unit}"):
            key = f"{key}_{unit}"
        out[key] = to_json(value)
    for name in ("one_way",):  # derived facts worth a key
        if getattr(obj, name, False) is True and hasattr(type(obj), name):
            out[name] = True
    return out


def _match(m: Match) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if m.protocol is not None:
        out["protocol"] = protocol_name(m.protocol)
    for name in ("src", "dst"):
        prefix = getattr(m, name)
        if prefix is not None:
            out[name] = str(prefix)
    if m.src_port is not None:
        out["sport"] = m.src_port
    if m.dst_port is not None:
        out["dport"] = m.dst_port
    return out
