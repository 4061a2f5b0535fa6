"""What a lab's event stream carries (``wirelab events``, ``Lab.events()``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from orchestrator.domain.faults import FaultPart, LabFault


class EventKind(StrEnum):
    SUBSCRIBED = "subscribed"  # the first event of every stream: nothing is missed from then on
    LINK = "link"  # a node's interface went up/down or changed MTU
    TCP = "tcp"  # a TCP connection of a node changed state
    NODE_FAULT = "node_fault"  # a node fault was added, cleared or expired on a node
    FAULT = "fault"  # a lab fault was added, cleared or expired
    NODE_STATE = "node_state"  # a node action (kill, stop, start ...) ran
    RIP_ROUTE = "rip_route"  # a RIP route was added, changed or withdrawn on a node
    DESTROYED = "destroyed"  # the lab is gone; the stream ends


@dataclass(frozen=True, slots=True)
class LinkChange:
    iface: str
    up: bool
    mtu: int
    change: str  # up | down | mtu


@dataclass(frozen=True, slots=True)
class RipRouteChange:
    prefix: str
    change: str  # added | changed | withdrawn
    metric: int  # 16 when withdrawn
    old_metric: int | None = None
    gateway: str = ""
    iface: str = ""
    learned_from: str = ""


@dataclass(frozen=True, slots=True)
class TcpStateChange:
    local_address: str
    local_port: int
    remote_address: str
    remote_port: int
    old_state: str  # "" for a new connection
    new_state: str  # CLOSED once it is gone


@dataclass(frozen=True, slots=True)
class NodeFaultChange:
    change: str  # added | cleared | expired
    fault: FaultPart


@dataclass(frozen=True, slots=True)
class FaultChange:
    change: str  # added | cleared | expired
    fault: LabFault


@dataclass(frozen=True, slots=True)
class NodeStateChange:
    action: str  # kill | stop | start | restart | pause | unpause
    state: str  # the node's state afterwards


@dataclass(frozen=True, slots=True)
class LabEvent:
    kind: EventKind
    unix_time_s: float
    lab: str
    node: str = ""  # "" for lab-wide events
    link: LinkChange | None = None
    tcp: TcpStateChange | None = None
    node_fault: NodeFaultChange | None = None
    fault: FaultChange | None = None
    node_state: NodeStateChange | None = None
    rip_route: RipRouteChange | None = None
    dropped: int = 0  # node events lost so far because a reader was too slow
