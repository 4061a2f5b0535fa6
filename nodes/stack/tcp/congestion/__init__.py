"""Congestion control behind a small registry (aioquic style): pick by name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from nodes.stack.tcp.congestion.base import INFINITE_SSTHRESH, CongestionControl
from nodes.stack.tcp.congestion.cubic import Cubic
from nodes.stack.tcp.congestion.reno import Reno

ALGORITHMS: Mapping[str, type[CongestionControl]] = MappingProxyType(
    {"reno": Reno, "newreno": Reno, "cubic": Cubic}
)


def create(
    name: str, mss: int, *, initial_window: int = 10, hystart: bool = True
) -> CongestionControl:
    try:
        cls = ALGORITHMS[name]
    except KeyError:
        known = ", ".join(sorted(ALGORITHMS))
        raise ValueError(f"unknown congestion control {name!r}: choose one of {known}") from None
    cc = cls(mss, initial_window=initial_window)
    if isinstance(cc, Cubic):
        cc.hystart = hystart
    return cc


__all__ = ["ALGORITHMS", "INFINITE_SSTHRESH", "CongestionControl", "Cubic", "Reno", "create"]
