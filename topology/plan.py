"""The address plan: interface names, subnets, addresses, MACs and MTUs for what the file
leaves out.

Rules (documented for users in topology/README.md):

* Interface names: a member written without one gets the lowest free ``ethN`` of its node,
  in declaration order (links, then LANs); explicit names are reserved first.
* Subnets: each link or LAN without one gets the next free block of the lab's pool, in
  declaration order, skipping the pool's first /24 and every explicit subnet. Blocks are
  /24 (a LAN with more than 252 members gets a larger one). The default pool is
  ``10.X.0.0/16`` with X = 64 + (first byte of sha256(lab name)) % 128, so labs with
  different names rarely overlap (Docker refuses overlapping bridge networks).
* Addresses: the first host of every subnet belongs to Docker's bridge gateway and is never
  used; members without an explicit address get the lowest free one from the second host on,
  in member order.
* MACs: locally administered unicast ``02:xx:xx:xx:xx:xx``, the rest from
  sha256("lab/node/iface"); deterministic, never colliding within a lab.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network

from topology import ripfile
from topology.declared import DeclaredSegment, LabFile
from topology.errors import Report
from topology.model import (
    DEFAULT_MTU,
    IfRef,
    Interface,
    Lab,
    Lan,
    Link,
    Node,
    NodeKind,
    Routing,
    StackOptions,
)
from topology.validate import min_prefix_for, what


def default_pool(lab_name: str) -> IPv4Network:
    second = 64 + hashlib.sha256(lab_name.encode()).digest()[0] % 128
    return IPv4Network(f"10.{second}.0.0/16")


def planned_mac(lab: str, node: str, iface: str, attempt: int = 0) -> bytes:
    salt = f"#{attempt}" if attempt else ""
    return b"\x02" + hashlib.sha256(f"{lab}/{node}/{iface}{salt}".encode()).digest()[:5]


def natural_key(name: str) -> tuple[str | int, ...]:
    """eth2 < eth10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


def plan(report: Report, declared: LabFile, segments: tuple[DeclaredSegment, ...]) -> Lab | None:
    """The planned lab without routes (see :mod:`topology.routes`), or None after reporting
    why (a pool too small). ``segments`` are the declared links and LANs as validated."""
    pool = declared.pool or default_pool(declared.name)
    ifnames = _name_interfaces(segments)
    subnets = _plan_subnets(report, segments, pool)
    if subnets is None:
        return None
    options = declared.defaults.stack_overrides() if declared.defaults else {}
    mtu = (declared.defaults.mtu if declared.defaults else None) or DEFAULT_MTU
    macs = _MacPlanner(declared.name, segments)
    interfaces: dict[str, list[Interface]] = {name: [] for name in declared.nodes}
    links, lans = [], []
    for seg, names, subnet in zip(segments, ifnames, subnets, strict=True):
        seg_mtu = seg.mtu or mtu
        members = zip(seg.members, names, _addresses(seg, subnet), strict=True)
        for member, iface, address in members:
            mac = member.mac or macs.next(member.node, iface)
            interfaces[member.node].append(
                Interface(member.node, iface, address, subnet, mac, seg_mtu, seg.name)
            )
        refs = tuple(IfRef(m.node, iface) for m, iface in zip(seg.members, names, strict=True))
        if seg.is_lan:
            lans.append(Lan(seg.name, refs, subnet, seg_mtu, seg.egress))
        else:
            links.append(Link(seg.name, refs, subnet, seg_mtu, seg.egress))
    defaults = StackOptions(**options)
    nodes = []
    for name, n in declared.nodes.items():
        routing = ripfile.node_routing(declared.routing, n.kind, n.forward, n.routing)
        rip = ripfile.options(declared.rip, n.rip) if routing is Routing.RIP else None
        nodes.append(
            Node(
                name=name,
                kind=n.kind,
                stack=replace(defaults, **n.stack_overrides()),
                interfaces=tuple(sorted(interfaces[name], key=lambda i: natural_key(i.name))),
                routes=(),
                apps=tuple(app for _, app in n.app_entries()),
                route_mode=n.route_mode() or declared.routes,
                forward=bool(n.forward),
                routing=routing,
                rip=rip,
                workload=n.workload(),
                code=(n.code or declared.code) if n.kind is not NodeKind.LINUX else None,
                placement=n.placement or "",
            )
        )
    return Lab(
        name=declared.name,
        defaults=defaults,
        mtu=mtu,
        pool=pool,
        route_mode=declared.routes,
        nodes=tuple(nodes),
        links=tuple(links),
        lans=tuple(lans),
        faults=tuple(f.entry for f in declared.faults),
        source=report.file,
        routing=declared.routing,
    )


def _name_interfaces(segments: tuple[DeclaredSegment, ...]) -> list[list[str]]:
    """Every member's interface name: its own, or the lowest free ethN of its node."""
    taken: dict[str, set[str]] = {}
    for seg in segments:
        for m in seg.members:
            if m.iface is not None:
                taken.setdefault(m.node, set()).add(m.iface)
    out = []
    for seg in segments:
        names = []
        for m in seg.members:
            name = m.iface
            if name is None:
                used = taken.setdefault(m.node, set())
                n = 0
                while f"eth{n}" in used:
                    n += 1
                name = f"eth{n}"
                used.add(name)
            names.append(name)
        out.append(names)
    return out


def _plan_subnets(
    report: Report, segments: tuple[DeclaredSegment, ...], pool: IPv4Network
) -> list[IPv4Network] | None:
    taken = [(int(s.network_address), int(s.broadcast_address)) for s in _explicit(segments)]
    cursors: dict[int, int] = {}  # prefix -> index of the first block not known to be taken
    out: list[IPv4Network] = []
    ok = True
    for seg in segments:
        if seg.subnet is not None:
            out.append(seg.subnet)
            continue
        prefix = min(24, min_prefix_for(len(seg.members)))
        subnet = None
        if prefix >= pool.prefixlen:
            subnet, cursors[prefix] = _free_block(pool, prefix, taken, cursors.get(prefix, 0))
        if subnet is None:
            report.error(
                seg.where,
                f"no free /{prefix} left in the pool {pool} for {what(seg)}; "
                "set a larger pool: or give the subnet",
            )
            ok = False
            continue
        taken.append((int(subnet.network_address), int(subnet.broadcast_address)))
        out.append(subnet)
    return out if ok else None


def _explicit(segments: tuple[DeclaredSegment, ...]) -> list[IPv4Network]:
    return [s.subnet for s in segments if s.subnet is not None]


def _free_block(
    pool: IPv4Network, prefix: int, taken: list[tuple[int, int]], start: int
) -> tuple[IPv4Network | None, int]:
    """The lowest block of ``pool`` of size /``prefix`` overlapping nothing taken, from
    block ``start`` on (blocks before it are known taken: taken only grows), and where the
    next search may start."""
    size = 1 << (32 - prefix)
    base, count = int(pool.network_address), pool.num_addresses // size
    for index in range(start, count):
        if index == 0 and pool.prefixlen < 24:
            continue  # 10.X.0.0/24 reads like "no network": start at 10.X.1.0
        lo, hi = base + index * size, base + (index + 1) * size - 1
        if not any(lo <= t_hi and t_lo <= hi for t_lo, t_hi in taken):
            return IPv4Network((lo, prefix)), index + 1
    return None, count


def _addresses(seg: DeclaredSegment, subnet: IPv4Network) -> list[IPv4Address]:
    explicit = {m.address.address for m in seg.members if m.address is not None}
    candidates = (
        a for a in subnet.hosts() if a != subnet.network_address + 1 and a not in explicit
    )
    return [m.address.address if m.address is not None else next(candidates) for m in seg.members]


class _MacPlanner:
    """Deterministic MACs that avoid explicit ones and each other."""

    def __init__(self, lab: str, segments: tuple[DeclaredSegment, ...]) -> None:
        self.lab = lab
        self.used = {m.mac for s in segments for m in s.members if m.mac is not None}

    def next(self, node: str, iface: str) -> bytes:
        attempt = 0
        while (mac := planned_mac(self.lab, node, iface, attempt)) in self.used:
            attempt += 1
        self.used.add(mac)
        return mac
