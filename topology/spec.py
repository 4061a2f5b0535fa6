"""The lab as declared in the file, before planning: optional fields are still ``None`` and
every item remembers where it was written (:class:`~topology.reader.Where`) so validation
and planning can point at it."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from topology.model import AppSpec, FaultEntry, NodeKind, RouteMode
from topology.reader import Where


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    node: str
    iface: str | None
    address: IPv4Address | None
    prefixlen: int | None  # when the address was written with /len
    mac: bytes | None
    where: Where
    address_where: Where | None = None
    mac_where: Where | None = None


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    name: str
    is_lan: bool
    members: tuple[EndpointSpec, ...]
    subnet: IPv4Network | None
    mtu: int | None
    where: Where  # the link item / LAN entry
    subnet_where: Where | None = None


@dataclass(frozen=True, slots=True)
class RouteSpec:
    dst: IPv4Network
    via: IPv4Address
    dev: str | None
    where: Where


@dataclass(frozen=True, slots=True)
class NodeSpec:
    name: str
    kind: NodeKind
    options: tuple[tuple[str, Any], ...]  # stack option overrides, in file order
    apps: tuple[AppSpec, ...]
    route_mode: RouteMode | None  # None: the lab's mode
    routes: tuple[RouteSpec, ...]
    where: Where
    forward: bool = False  # linux nodes: the kernel forwards (``forward: true``)


@dataclass(frozen=True, slots=True)
class FaultSpec:
    entry: FaultEntry
    where: Where
    target_where: Where


@dataclass(frozen=True, slots=True)
class LabSpec:
    name: str
    options: tuple[tuple[str, Any], ...]  # defaults: stack option overrides
    mtu: int | None
    pool: IPv4Network | None
    route_mode: RouteMode
    nodes: tuple[NodeSpec, ...]
    declared_nodes: frozenset[str]  # every node name written, also those with errors
    segments: tuple[SegmentSpec, ...]
    faults: tuple[FaultSpec, ...]
    where: Where
