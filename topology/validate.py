"""Cross-reference checks on the declared lab, before planning: unknown nodes, interfaces
used twice, duplicate names, subnets (size, overlap) and explicit addresses and MACs.

:func:`check_declared` returns the spec with each segment's subnet filled in when it follows
from an explicit ``address: a.b.c.d/len``; :func:`check_planned` checks what can only be
checked on the planned lab (explicit routes' next hops, fault targets).
"""

from __future__ import annotations

import math
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network

from topology.errors import did_you_mean
from topology.model import Lab, TargetKind
from topology.reader import Reader, Where
from topology.spec import EndpointSpec, LabSpec, SegmentSpec


def what(segment: SegmentSpec) -> str:
    return f"LAN {segment.name}" if segment.is_lan else f"link {segment.name}"


def min_prefix_for(members: int) -> int:
    """The longest prefix whose subnet holds ``members`` hosts plus Docker's gateway."""
    return 32 - math.ceil(math.log2(members + 3))


def check_declared(reader: Reader, spec: LabSpec) -> LabSpec:
    _check_names(reader, spec)
    _check_members(reader, spec)
    segments = tuple(_check_subnet(reader, seg) for seg in spec.segments)
    _check_overlaps(reader, segments)
    _check_unique_addresses(reader, segments)
    _check_unique_macs(reader, segments)
    _check_fault_targets(reader, spec)
    return replace(spec, segments=segments)


def _check_names(reader: Reader, spec: LabSpec) -> None:
    seen: dict[str, SegmentSpec] = {}
    for seg in spec.segments:
        if seg.name in seen:
            first = seen[seg.name]
            reader.error(
                seg.where,
                f"duplicate network name {seg.name!r} (also {what(first)} at line "
                f"{first.where.pos.line}); links and LANs share one namespace",
            )
        seen.setdefault(seg.name, seg)


def _check_members(reader: Reader, spec: LabSpec) -> None:
    known = sorted(spec.declared_nodes)
    used: dict[tuple[str, str], tuple[SegmentSpec, Where]] = {}
    for seg in spec.segments:
        on_segment: set[str] = set()
        for member in seg.members:
            if member.node not in spec.declared_nodes:
                reader.error(
                    member.where,
                    f"unknown node {member.node!r} in {what(seg)}",
                    allowed=known,
                    suggestion=did_you_mean(member.node, known),
                )
                continue
            if member.node in on_segment:
                reader.error(
                    member.where,
                    f"node {member.node!r} is on {what(seg)} twice; Docker connects a container "
                    "to a network once",
                )
            on_segment.add(member.node)
            if member.iface is None:
                continue
            key = (member.node, member.iface)
            if key in used:
                other, where = used[key]
                reader.error(
                    member.where,
                    f"interface {member.node}:{member.iface} is already used by {what(other)} "
                    f"(line {where.pos.line})",
                )
            else:
                used[key] = (seg, member.where)


def _check_subnet(reader: Reader, seg: SegmentSpec) -> SegmentSpec:
    subnet, subnet_where = seg.subnet, seg.subnet_where
    for member in seg.members:
        if member.address is None or member.prefixlen is None:
            continue
        assert member.address_where is not None
        declared = IPv4Network((member.address, member.prefixlen), strict=False)
        if subnet is None:
            subnet, subnet_where = declared, member.address_where
        elif declared != subnet:
            reader.error(
                member.address_where,
                f"address {member.address}/{member.prefixlen} is not in {what(seg)}'s subnet "
                f"{subnet}",
            )
            return replace(seg, subnet=None)
    if subnet is None:
        for member in seg.members:
            if member.address is not None and member.address_where is not None:
                reader.error(
                    member.address_where,
                    f"address {member.address} has no prefix length and {what(seg)} has no "
                    f"subnet; write it as {member.address}/24 or give the subnet",
                )
        return seg
    assert subnet_where is not None
    needed = len(seg.members)
    if subnet.prefixlen > min_prefix_for(needed):
        reader.error(
            subnet_where,
            f"subnet {subnet} is too small for {what(seg)}: {needed} members plus Docker's "
            f"gateway need /{min_prefix_for(needed)} or larger",
        )
        return replace(seg, subnet=None)
    ok = all(_check_address(reader, seg, subnet, m) for m in seg.members)
    return (
        replace(seg, subnet=subnet, subnet_where=subnet_where) if ok else replace(seg, subnet=None)
    )


def _check_address(reader: Reader, seg: SegmentSpec, subnet: IPv4Network, m: EndpointSpec) -> bool:
    if m.address is None or m.address_where is None:
        return True
    problem = None
    if m.address not in subnet:
        problem = f"address {m.address} is outside {what(seg)}'s subnet {subnet}"
    elif m.address == subnet.network_address:
        problem = f"address {m.address} is the network address of {subnet}"
    elif m.address == subnet.broadcast_address:
        problem = f"address {m.address} is the broadcast address of {subnet}"
    elif m.address == subnet.network_address + 1:
        problem = (
            f"address {m.address} is the first host of {subnet}, which Docker's bridge "
            "gateway takes"
        )
    if problem:
        first_free = subnet.network_address + 2
        reader.error(m.address_where, problem, suggestion=str(first_free))
    return problem is None


def _check_overlaps(reader: Reader, segments: tuple[SegmentSpec, ...]) -> None:
    seen: list[SegmentSpec] = []
    for seg in segments:
        if seg.subnet is None:
            continue
        for other in seen:
            assert other.subnet is not None and seg.subnet_where is not None
            if seg.subnet.overlaps(other.subnet):
                reader.error(
                    seg.subnet_where,
                    f"subnet {seg.subnet} overlaps {other.subnet} of {what(other)} "
                    f"(line {other.where.pos.line})",
                )
                break
        seen.append(seg)


def _check_unique_addresses(reader: Reader, segments: tuple[SegmentSpec, ...]) -> None:
    seen: dict[IPv4Address, EndpointSpec] = {}
    for seg in segments:
        for m in seg.members:
            if m.address is None or m.address_where is None:
                continue
            if m.address in seen:
                first = seen[m.address]
                reader.error(
                    m.address_where,
                    f"duplicate address {m.address} (also {first.node} at line "
                    f"{first.where.pos.line})",
                )
            seen.setdefault(m.address, m)


def _check_unique_macs(reader: Reader, segments: tuple[SegmentSpec, ...]) -> None:
    seen: dict[bytes, EndpointSpec] = {}
    for seg in segments:
        for m in seg.members:
            if m.mac is None or m.mac_where is None:
                continue
            if m.mac in seen:
                first = seen[m.mac]
                reader.error(
                    m.mac_where,
                    f"duplicate MAC (also {first.node} at line {first.where.pos.line})",
                )
            seen.setdefault(m.mac, m)


# -- after planning --------------------------------------------------------------------------


def check_planned(reader: Reader, spec: LabSpec, lab: Lab) -> None:
    _check_static_routes(reader, spec, lab)
    _check_fault_interfaces(reader, spec, lab)


def _check_static_routes(reader: Reader, spec: LabSpec, lab: Lab) -> None:
    for node_spec in spec.nodes:
        node = lab.node(node_spec.name)
        for route in node_spec.routes:
            on_link = [i for i in node.interfaces if route.via in i.network]
            names = [i.name for i in node.interfaces]
            if route.dev is not None and route.dev not in names:
                reader.error(
                    route.where,
                    f"{node.name} has no interface {route.dev!r}",
                    allowed=names,
                    suggestion=did_you_mean(route.dev, names),
                )
            elif not on_link:
                nets = [f"{i.name} {i.network}" for i in node.interfaces]
                reader.error(
                    route.where,
                    f"next hop {route.via} is not on a subnet connected to {node.name}",
                    allowed=nets,
                )
            elif any(i.address == route.via for i in node.interfaces):
                reader.error(route.where, f"next hop {route.via} is {node.name}'s own address")
            elif route.dev is not None and route.dev != on_link[0].name:
                reader.error(
                    route.where,
                    f"next hop {route.via} is on {on_link[0].name}, not {route.dev}",
                )


def _check_fault_interfaces(reader: Reader, spec: LabSpec, lab: Lab) -> None:
    """Endpoint faults name interfaces, which all have names only once planned."""
    for fault in spec.faults:
        target = fault.entry.target
        if target.kind is not TargetKind.ENDPOINT or target.node is None:
            continue
        ifaces = [i.name for i in lab.node(target.node).interfaces]
        if target.iface not in ifaces:
            reader.error(
                fault.target_where,
                f"{target.node} has no interface {target.iface!r}",
                allowed=ifaces,
                suggestion=did_you_mean(target.iface or "", ifaces),
            )


def _check_fault_targets(reader: Reader, spec: LabSpec) -> None:
    nodes = sorted(spec.declared_nodes)
    nets = [s.name for s in spec.segments]
    for fault in spec.faults:
        target, where = fault.entry.target, fault.target_where
        names = [target.node] if target.node else [n for g in target.groups for n in g]
        for name in names:
            if name is not None and name not in nodes:
                suggestion = did_you_mean(name, nodes)
                reader.error(where, f"unknown node {name!r}", allowed=nodes, suggestion=suggestion)
        if target.kind is TargetKind.LINK and target.link not in nets:
            reader.error(
                where,
                f"unknown link or LAN {target.link!r}",
                allowed=nets,
                suggestion=did_you_mean(target.link or "", nets),
            )
        if target.kind is TargetKind.PARTITION and len(names) != len(set(names)):
            reader.error(where, "a node appears in more than one partition group")
