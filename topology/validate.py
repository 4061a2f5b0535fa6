"""Cross-reference checks on the declared lab (:class:`~topology.declared.LabFile`), before
planning: unknown nodes, interfaces used twice, duplicate names, subnets (size, overlap),
explicit addresses and MACs, apps sharing a port, ``forward`` on a node that is not linux,
fault targets.

They run also on the valid parts of a file with structural errors (see
:mod:`topology.diagnose`), so one pass reports both kinds. :func:`check_declared` returns the
links and LANs with each subnet filled in when it follows from an explicit
``address: a.b.c.d/len``; :func:`check_planned` checks what can only be checked on the
planned lab (explicit routes' next hops, fault interfaces).
"""

from __future__ import annotations

import math
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network

from topology import ripfile, values
from topology.declared import DeclaredSegment, EndpointFile, LabFile
from topology.errors import Report, Where, did_you_mean
from topology.model import AppSpec, Lab, NodeKind, TargetKind


def what(segment: DeclaredSegment) -> str:
    return f"LAN {segment.name}" if segment.is_lan else f"link {segment.name}"


def min_prefix_for(members: int) -> int:
    """The longest prefix whose subnet holds ``members`` hosts plus Docker's gateway."""
    return 32 - math.ceil(math.log2(members + 3))


def check_declared(report: Report, lab: LabFile) -> tuple[DeclaredSegment, ...]:
    """Report what the structure cannot say; return the links and LANs, each with its
    subnet when an address written with /len implies it."""
    _check_nodes(report, lab)
    segments = lab.segments()
    _check_names(report, segments)
    _check_members(report, lab, segments)
    segments = tuple(_check_subnet(report, seg) for seg in segments)
    _check_overlaps(report, segments)
    _check_unique_addresses(report, segments)
    _check_unique_macs(report, segments)
    _check_link_props(report, lab, segments)
    _check_fault_targets(report, lab)
    ripfile.check_declared(report, lab)
    return segments


def _check_nodes(report: Report, lab: LabFile) -> None:
    for name, node in lab.nodes.items():
        if node.forward is not None and node.kind is not NodeKind.LINUX:
            hint = "a router node always forwards"
            if node.kind is not NodeKind.ROUTER:
                hint = "use kind: router for our router or kind: linux for a Linux-kernel router"
            report.error(
                node.where("forward"),
                f"forward applies to linux nodes only; {name} is a {node.kind.value} node ({hint})",
                at_key=True,
            )
        if node.kind is not NodeKind.LINUX:
            for key in node.WORKLOAD_KEYS:
                if getattr(node, key) is not None:
                    report.error(
                        node.where(key),
                        f"{key} applies to linux nodes only; {name} is a {node.kind.value} "
                        "node, which runs wirelab's own stack in the lab's node image (use "
                        "apps: for our stack's apps, or kind: linux for your own container)",
                        at_key=True,
                    )
        elif node.exec is not None:
            for i, line in enumerate(node.exec):
                try:
                    values.command(line)
                except values.Problem as problem:
                    report.error(node.where(f"exec[{i}]"), problem.message)
        apps: list[AppSpec] = []
        for key, app in node.app_entries():
            port = (app.port, app.kind.transport)
            clash = next((a for a in apps if (a.port, a.kind.transport) == port), None)
            if clash is not None:
                report.error(
                    node.where(key), f"{app} uses {app.kind.transport} port {app.port} like {clash}"
                )
                continue
            apps.append(app)


def _check_names(report: Report, segments: tuple[DeclaredSegment, ...]) -> None:
    seen: dict[str, DeclaredSegment] = {}
    for seg in segments:
        if seg.name in seen:
            first = seen[seg.name]
            report.error(
                seg.where,
                f"duplicate network name {seg.name!r} (also {what(first)} at line "
                f"{first.where.pos.line}); links and LANs share one namespace",
            )
        seen.setdefault(seg.name, seg)


def _check_members(report: Report, lab: LabFile, segments: tuple[DeclaredSegment, ...]) -> None:
    known = sorted(lab.written_nodes)
    used: dict[tuple[str, str], tuple[DeclaredSegment, Where]] = {}
    for seg in segments:
        on_segment: set[str] = set()
        for member in seg.members:
            if member.node not in lab.written_nodes:
                report.error(
                    member.where(),
                    f"unknown node {member.node!r} in {what(seg)}",
                    allowed=known,
                    suggestion=did_you_mean(member.node, known),
                )
                continue
            if member.node in on_segment:
                report.error(
                    member.where(),
                    f"node {member.node!r} is on {what(seg)} twice; Docker connects a container "
                    "to a network once",
                )
            on_segment.add(member.node)
            if member.iface is None:
                continue
            key = (member.node, member.iface)
            if key in used:
                other, where = used[key]
                report.error(
                    member.where(),
                    f"interface {member.node}:{member.iface} is already used by {what(other)} "
                    f"(line {where.pos.line})",
                )
            else:
                used[key] = (seg, member.where())


def _check_subnet(report: Report, seg: DeclaredSegment) -> DeclaredSegment:
    subnet, subnet_where = seg.subnet, seg.subnet_where
    for member in seg.members:
        if member.address is None or member.address.prefixlen is None:
            continue
        address, prefixlen = member.address.address, member.address.prefixlen
        declared = IPv4Network((address, prefixlen), strict=False)
        if subnet is None:
            subnet, subnet_where = declared, member.where("address")
        elif declared != subnet:
            report.error(
                member.where("address"),
                f"address {address}/{prefixlen} is not in {what(seg)}'s subnet {subnet}",
            )
            return replace(seg, subnet=None)
    if subnet is None:
        for member in seg.members:
            if member.address is not None:
                address = member.address.address
                report.error(
                    member.where("address"),
                    f"address {address} has no prefix length and {what(seg)} has no "
                    f"subnet; write it as {address}/24 or give the subnet",
                )
        return seg
    assert subnet_where is not None
    needed = len(seg.members)
    if subnet.prefixlen > min_prefix_for(needed):
        report.error(
            subnet_where,
            f"subnet {subnet} is too small for {what(seg)}: {needed} members plus Docker's "
            f"gateway need /{min_prefix_for(needed)} or larger",
        )
        return replace(seg, subnet=None)
    ok = all(_check_address(report, seg, subnet, m) for m in seg.members)
    return (
        replace(seg, subnet=subnet, subnet_where=subnet_where) if ok else replace(seg, subnet=None)
    )


def _check_address(
    report: Report, seg: DeclaredSegment, subnet: IPv4Network, m: EndpointFile
) -> bool:
    if m.address is None:
        return True
    address, problem = m.address.address, None
    if address not in subnet:
        problem = f"address {address} is outside {what(seg)}'s subnet {subnet}"
    elif address == subnet.network_address:
        problem = f"address {address} is the network address of {subnet}"
    elif address == subnet.broadcast_address:
        problem = f"address {address} is the broadcast address of {subnet}"
    elif address == subnet.network_address + 1:
        problem = (
            f"address {address} is the first host of {subnet}, which Docker's bridge gateway takes"
        )
    if problem:
        first_free = subnet.network_address + 2
        report.error(m.where("address"), problem, suggestion=str(first_free))
    return problem is None


def _check_overlaps(report: Report, segments: tuple[DeclaredSegment, ...]) -> None:
    seen: list[DeclaredSegment] = []
    for seg in segments:
        if seg.subnet is None:
            continue
        for other in seen:
            assert other.subnet is not None and seg.subnet_where is not None
            if seg.subnet.overlaps(other.subnet):
                report.error(
                    seg.subnet_where,
                    f"subnet {seg.subnet} overlaps {other.subnet} of {what(other)} "
                    f"(line {other.where.pos.line})",
                )
                break
        seen.append(seg)


def _check_unique_addresses(report: Report, segments: tuple[DeclaredSegment, ...]) -> None:
    seen: dict[IPv4Address, EndpointFile] = {}
    for seg in segments:
        for m in seg.members:
            if m.address is None:
                continue
            address = m.address.address
            if address in seen:
                first = seen[address]
                report.error(
                    m.where("address"),
                    f"duplicate address {address} (also {first.node} at line "
                    f"{first.where().pos.line})",
                )
            seen.setdefault(address, m)


def _check_unique_macs(report: Report, segments: tuple[DeclaredSegment, ...]) -> None:
    seen: dict[bytes, EndpointFile] = {}
    for seg in segments:
        for m in seg.members:
            if m.mac is None:
                continue
            if m.mac in seen:
                first = seen[m.mac]
                report.error(
                    m.where("mac"),
                    f"duplicate MAC (also {first.node} at line {first.where().pos.line})",
                )
            seen.setdefault(m.mac, m)


def _check_link_props(report: Report, lab: LabFile, segments: tuple[DeclaredSegment, ...]) -> None:
    """Refuse link properties no node can apply. A linux node cannot shape what it sends
    (this kernel has no netem); on a link its peer, when ours, applies that direction at
    its ingress instead; on a LAN no one can (each receiver would get a rate of its own),
    nor between two linux nodes."""
    for seg in segments:
        if not seg.egress:
            continue
        linux = [m.node for m in seg.members if _kind(lab, m.node) is NodeKind.LINUX]
        ours = [m.node for m in seg.members if m.node not in linux]
        for node in linux:
            keys = seg.item.sources(node)
            if not keys or (not seg.is_lan and ours):
                continue  # nothing to apply, or the other end (ours) applies it at ingress
            names = ", ".join(dict.fromkeys(k.split(".")[0] for k in keys))
            if seg.is_lan:
                hint = f"; give them per member, e.g. {{{ours[0]}: ...}}" if ours else ""
                problem = (
                    f"LAN {seg.name}: {node} is a linux node, which cannot shape what it "
                    f"sends (this kernel has no netem), and on a LAN no other member can do "
                    f"it for it: {names} cannot apply to {node}{hint}"
                )
            else:
                problem = (
                    f"link {seg.name}: both ends are linux nodes, which cannot shape what "
                    f"they send (this kernel has no netem): no end can apply {names}"
                )
            report.error(seg.item.where(keys[0]), problem)
            if not seg.is_lan:
                break  # one error per link


def _kind(lab: LabFile, node: str) -> NodeKind | None:
    declared = lab.nodes.get(node)
    return None if declared is None else declared.kind


# -- after planning --------------------------------------------------------------------------


def check_planned(report: Report, declared: LabFile, lab: Lab) -> None:
    _check_static_routes(report, declared, lab)
    _check_fault_interfaces(report, declared, lab)
    ripfile.check_planned(report, declared, lab)


def _check_static_routes(report: Report, declared: LabFile, lab: Lab) -> None:
    for name, node_file in declared.nodes.items():
        node = lab.node(name)
        for route in node_file.static_routes():
            on_link = [i for i in node.interfaces if route.via in i.network]
            names = [i.name for i in node.interfaces]
            if route.dev is not None and route.dev not in names:
                report.error(
                    route.where(),
                    f"{node.name} has no interface {route.dev!r}",
                    allowed=names,
                    suggestion=did_you_mean(route.dev, names),
                )
            elif not on_link:
                nets = [f"{i.name} {i.network}" for i in node.interfaces]
                report.error(
                    route.where(),
                    f"next hop {route.via} is not on a subnet connected to {node.name}",
                    allowed=nets,
                )
            elif any(i.address == route.via for i in node.interfaces):
                report.error(route.where(), f"next hop {route.via} is {node.name}'s own address")
            elif route.dev is not None and route.dev != on_link[0].name:
                report.error(
                    route.where(),
                    f"next hop {route.via} is on {on_link[0].name}, not {route.dev}",
                )


def _check_fault_interfaces(report: Report, declared: LabFile, lab: Lab) -> None:
    """Endpoint faults name interfaces, which all have names only once planned."""
    for fault in declared.faults:
        target = fault.entry.target
        if target.kind is not TargetKind.ENDPOINT or target.node is None:
            continue
        ifaces = [i.name for i in lab.node(target.node).interfaces]
        if target.iface not in ifaces:
            report.error(
                fault.where(fault.target_key),
                f"{target.node} has no interface {target.iface!r}",
                allowed=ifaces,
                suggestion=did_you_mean(target.iface or "", ifaces),
            )


def _check_fault_targets(report: Report, lab: LabFile) -> None:
    nodes = sorted(lab.written_nodes)
    nets = sorted(lab.written_networks)
    for fault in lab.faults:
        target, where = fault.entry.target, fault.where(fault.target_key)
        names = [target.node] if target.node else [n for g in target.groups for n in g]
        for name in names:
            if name is not None and name not in lab.written_nodes:
                suggestion = did_you_mean(name, nodes)
                report.error(where, f"unknown node {name!r}", allowed=nodes, suggestion=suggestion)
        if target.kind is TargetKind.LINK and target.link not in lab.written_networks:
            report.error(
                where,
                f"unknown link or LAN {target.link!r}",
                allowed=nets,
                suggestion=did_you_mean(target.link or "", nets),
            )
        if target.kind is TargetKind.PARTITION and len(names) != len(set(names)):
            report.error(where, "a node appears in more than one partition group")
