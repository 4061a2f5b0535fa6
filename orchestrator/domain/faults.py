"""Lab faults: what a user asks for (:class:`FaultRequest`) and what the lab reports
(:class:`LabFault`), on the one effects model of :mod:`nodes.faults`.

A request has one target (an interface ``node:iface``, a whole link or LAN, a node, or a
partition of node groups), effects, a direction, an optional match, a seed and a duration.
The lab fans it out to *parts*, one node fault each (:class:`FaultPart`), and sums their
counters. On a partition, direction ``egress`` means one way: only traffic from the first
group to the others is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum

from nodes.faults.match import Match, protocol_name
from nodes.faults.model import (
    EMPTY_EFFECTS,
    Direction,
    Distribution,
    Effects,
    FaultCounters,
    FaultSpec,
)
from orchestrator.domain.values import format_duration, format_probability, format_rate
from topology.model import FaultEntry, FaultTarget, NodeAction, TargetKind

__all__ = [
    "FaultCounters",
    "FaultPart",
    "FaultRequest",
    "FaultState",
    "FaultTarget",
    "LabFault",
    "NodeAction",
    "TargetKind",
    "sum_counters",
]


class FaultState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    CLEARED = "cleared"


@dataclass(frozen=True, slots=True)
class FaultRequest:
    target: FaultTarget
    effects: Effects = EMPTY_EFFECTS
    direction: Direction = Direction.BOTH
    match: Match | None = None
    seed: int | None = None
    duration: float | None = field(default=None, metadata={"unit": "s"})  # None: until cleared
    fault_id: str = ""  # "" : the lab names it (F1, F2, ...)

    @classmethod
    def from_entry(cls, entry: FaultEntry) -> FaultRequest:
        """A topology timeline entry (one without an action) as a request."""
        return cls(entry.target, entry.effects, entry.direction, entry.match, entry.seed,
                   entry.duration)  # fmt: skip

    @property
    def one_way(self) -> bool:
        """A partition that drops only what the first group sends."""
        return self.target.kind is TargetKind.PARTITION and self.direction is Direction.EGRESS


@dataclass(frozen=True, slots=True)
class FaultPart:
    """One node fault a lab fault is made of (on a linux node: a kernel MTU change)."""

    node: str
    fault_id: str
    spec: FaultSpec
    seed: int = 0
    age_ms: float = 0.0
    remaining_ms: float | None = None
    counters: FaultCounters = field(default_factory=FaultCounters)
    first_hit_ms: float | None = None  # from its addition to the first frame it acted on


@dataclass(frozen=True, slots=True)
class LabFault:
    fault_id: str
    lab: str
    request: FaultRequest
    state: FaultState
    origin: str  # api | timeline | partition
    seed: int
    age_ms: float = 0.0
    remaining_ms: float | None = None
    counters: FaultCounters = field(default_factory=FaultCounters)
    parts: tuple[FaultPart, ...] = ()
    description: str = ""  # one line for people

    @property
    def active(self) -> bool:
        return self.state is FaultState.ACTIVE

    @property
    def first_hit_ms(self) -> float | None:
        """When the first of its parts first acted on a frame (None: not yet)."""
        hits = [p.first_hit_ms for p in self.parts if p.first_hit_ms is not None]
        return min(hits) if hits else None


_COUNTERS = tuple(f.name for f in fields(FaultCounters))


def sum_counters(counters: list[FaultCounters] | tuple[FaultCounters, ...]) -> FaultCounters:
    return FaultCounters(**{n: sum(getattr(c, n) for c in counters) for n in _COUNTERS})


# ---- for people ---------------------------------------------------------------------------


def describe_target(target: FaultTarget, direction: Direction = Direction.BOTH) -> str:
    if target.kind is TargetKind.ENDPOINT:
        return f"{target.node}:{target.iface}"
    if target.kind is TargetKind.LINK:
        return f"link {target.link}"
    if target.kind is TargetKind.NODE:
        return f"node {target.node}"
    sep = " -> " if direction is Direction.EGRESS else " | "
    return "partition " + sep.join(",".join(g) for g in target.groups)


def describe_effects(request: FaultRequest) -> str:
    """``loss=5% delay=20ms (egress) [tcp dport 80] for 10s``."""
    e = request.effects
    parts: list[str] = []
    for name in ("loss", "duplicate", "corrupt", "reorder"):
        value = getattr(e, name)
        if value:
            parts.append(f"{name}={format_probability(value)}")
    if e.gilbert_elliott is not None:
        ge = e.gilbert_elliott
        parts.append(f"ge(p={ge.p:g},r={ge.to_good:g})")
    if e.delay:
        parts.append(f"delay={format_duration(e.delay)}")
    if e.jitter:
        parts.append(f"jitter={format_duration(e.jitter)}")
        if e.distribution is not Distribution.UNIFORM:
            parts.append(f"distribution={e.distribution.value}")
    if e.rate is not None:
        parts.append(f"rate={format_rate(e.rate.rate_bps)}")
    if e.mtu is not None:
        parts.append(f"mtu={e.mtu}")
    if e.blackhole_mtu is not None:
        parts.append(f"blackhole_mtu={e.blackhole_mtu}")
    if e.down:
        parts.append("down")
    if request.target.kind is TargetKind.PARTITION:
        parts.append("drop all")
    elif request.direction is not Direction.BOTH:
        parts.append(f"({request.direction.value})")
    m = request.match
    if m is not None:
        what = [protocol_name(m.protocol)] if m.protocol is not None else []
        what += [f"src {m.src}"] if m.src is not None else []
        what += [f"dst {m.dst}"] if m.dst is not None else []
        what += [f"sport {m.src_port}"] if m.src_port is not None else []
        what += [f"dport {m.dst_port}"] if m.dst_port is not None else []
        parts.append("[" + " ".join(what) + "]")
    if request.duration is not None:
        parts.append(f"for {format_duration(request.duration)}")
    return " ".join(parts) or "-"


def describe(request: FaultRequest) -> str:
    return f"{describe_target(request.target, request.direction)}: {describe_effects(request)}"
