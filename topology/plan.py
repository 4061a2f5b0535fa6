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
from collections.abc import Iterator
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network

from topology.model import (
    DEFAULT_MTU,
    IfRef,
    Interface,
    Lab,
    Lan,
    Link,
    Node,
    StackOptions,
)
from topology.reader import Reader
from topology.spec import LabSpec, SegmentSpec
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


def plan(reader: Reader, spec: LabSpec) -> Lab | None:
    """The planned lab without routes (see :mod:`topology.routes`), or None after reporting
    why (a pool too small)."""
    pool = spec.pool or default_pool(spec.name)
    segments = _name_interfaces(spec.segments)
    subnets = _plan_subnets(reader, segments, pool)
    if subnets is None:
        return None
    mtu = spec.mtu or DEFAULT_MTU
    macs = _MacPlanner(spec.name, segments)
    interfaces: dict[str, list[Interface]] = {n.name: [] for n in spec.nodes}
    links, lans = [], []
    for seg, subnet in zip(segments, subnets, strict=True):
        seg_mtu = seg.mtu or mtu
        for member, address in zip(seg.members, _addresses(seg, subnet), strict=True):
            assert member.iface is not None
            mac = member.mac or macs.next(member.node, member.iface)
            interfaces[member.node].append(
                Interface(member.node, member.iface, address, subnet, mac, seg_mtu, seg.name)
            )
        refs = tuple(IfRef(m.node, m.iface or "") for m in seg.members)
        if seg.is_lan:
            lans.append(Lan(seg.name, refs, subnet, seg_mtu))
        else:
            links.append(Link(seg.name, refs, subnet, seg_mtu))
    defaults = StackOptions(**dict(spec.options))
    nodes = tuple(
        Node(
            name=n.name,
            kind=n.kind,
            stack=replace(defaults, **dict(n.options)),
            interfaces=tuple(sorted(interfaces[n.name], key=lambda i: natural_key(i.name))),
            routes=(),
            apps=n.apps,
            route_mode=n.route_mode or spec.route_mode,
            forward=n.forward,
        )
        for n in spec.nodes
    )
    return Lab(
        name=spec.name,
        defaults=defaults,
        mtu=mtu,
        pool=pool,
        route_mode=spec.route_mode,
        nodes=nodes,
        links=tuple(links),
        lans=tuple(lans),
        faults=tuple(f.entry for f in spec.faults),
        source=reader.file,
    )


def _name_interfaces(segments: tuple[SegmentSpec, ...]) -> tuple[SegmentSpec, ...]:
    taken: dict[str, set[str]] = {}
    for seg in segments:
        for m in seg.members:
            if m.iface is not None:
                taken.setdefault(m.node, set()).add(m.iface)
    out = []
    for seg in segments:
        members = []
        for m in seg.members:
            if m.iface is None:
                used = taken.setdefault(m.node, set())
                n = 0
                while f"eth{n}" in used:
                    n += 1
                used.add(f"eth{n}")
                m = replace(m, iface=f"eth{n}")
            members.append(m)
        out.append(replace(seg, members=tuple(members)))
    return tuple(out)


def _plan_subnets(
    reader: Reader, segments: tuple[SegmentSpec, ...], pool: IPv4Network
) -> list[IPv4Network] | None:
    taken = [s.subnet for s in segments if s.subnet is not None]
    out: list[IPv4Network] = []
    ok = True
    for seg in segments:
        if seg.subnet is not None:
            out.append(seg.subnet)
            continue
        prefix = min(24, min_prefix_for(len(seg.members)))
        fits = prefix >= pool.prefixlen
        subnet = next(_free_blocks(pool, prefix, taken), None) if fits else None
        if subnet is None:
            reader.error(
                seg.where,
                f"no free /{prefix} left in the pool {pool} for {what(seg)}; "
                "set a larger pool: or give the subnet",
            )
            ok = False
            continue
        taken.append(subnet)
        out.append(subnet)
    return out if ok else None


def _free_blocks(pool: IPv4Network, prefix: int, taken: list[IPv4Network]) -> Iterator[IPv4Network]:
    for block in pool.subnets(new_prefix=prefix):
        if pool.prefixlen < 24 and block.network_address == pool.network_address:
            continue  # 10.X.0.0/24 reads like "no network": start at 10.X.1.0
        if not any(block.overlaps(t) for t in taken):
            yield block


def _addresses(seg: SegmentSpec, subnet: IPv4Network) -> list[IPv4Address]:
    explicit = {m.address for m in seg.members if m.address is not None}
    candidates = (
        a for a in subnet.hosts() if a != subnet.network_address + 1 and a not in explicit
    )
    return [m.address if m.address is not None else next(candidates) for m in seg.members]


class _MacPlanner:
    """Deterministic MACs that avoid explicit ones and each other."""

    def __init__(self, lab: str, segments: tuple[SegmentSpec, ...]) -> None:
        self.lab = lab
        self.used = {m.mac for s in segments for m in s.members if m.mac is not None}

    def next(self, node: str, iface: str) -> bytes:
        attempt = 0
        while (mac := planned_mac(self.lab, node, iface, attempt)) in self.used:
            attempt += 1
        self.used.add(mac)
        return mac
