"""The forwarding decision of a router (RFC 1812 5.2-5.3) and its per-packet helpers.

``decide`` looks only at the parsed header, the FIB and the egress interface;
``decrement_ttl`` rewrites a packet copy in place with the RFC 1624 incremental checksum
(no full header re-sum on the fast path); ``record_route`` rewrites the header when a
record-route option has room (RFC 791: the outgoing interface's address)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from nodes.router.fib import Fib, Route
from nodes.stack.interfaces import Interface, Interfaces
from nodes.wire.checksum import incremental_update
from nodes.wire.ipv4 import IPV4_HLEN, IPv4Packet, RecordRoute, encode_options


class Action(Enum):
    FORWARD = "forward"
    FRAGMENT = "fragment"  # larger than the egress MTU, DF clear
    FRAG_NEEDED = "frag_needed"  # larger than the egress MTU, DF set -> ICMP 3/4 + MTU
    TTL_EXCEEDED = "ttl_exceeded"  # ICMP 11/0
    NO_ROUTE = "no_route"  # ICMP 3/0


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    route: Route | None = None
    iface: Interface | None = None

    @property
    def mtu(self) -> int:
        return self.iface.mtu if self.iface is not None else 0


def decide(pkt: IPv4Packet, fib: Fib, interfaces: Interfaces) -> Decision:
    """Route first (no route wins, as Linux ip_route_input), then TTL, then MTU."""
    route = fib.lookup(pkt.dst)
    if route is None:
        return Decision(Action.NO_ROUTE)
    iface = interfaces.get(route.ifname)
    if pkt.ttl <= 1:
        return Decision(Action.TTL_EXCEEDED, route, iface)
    if pkt.total_length > iface.mtu:
        return Decision(Action.FRAG_NEEDED if pkt.df else Action.FRAGMENT, route, iface)
    return Decision(Action.FORWARD, route, iface)


def decrement_ttl(buf: bytearray) -> None:
    """TTL - 1 on an IPv4 header at the start of ``buf``, checksum fixed incrementally."""
    ttl, proto = buf[8], buf[9]
    old_csum = (buf[10] << 8) | buf[11]
    csum = incremental_update(old_csum, (ttl << 8) | proto, ((ttl - 1) << 8) | proto)
    buf[8] = ttl - 1
    buf[10] = csum >> 8
    buf[11] = csum & 0xFF


def ttl_checksum(csum: int) -> int:
    """The header checksum after TTL - 1: RFC 1624 eqn. 3 with m' = m - 0x100, where
    ``~m + m'`` is the constant 0xFEFF (what :func:`decrement_ttl` computes, without the
    general helper). One fold suffices: the sum is at most 0x1FEFE."""
    total = (~csum & 0xFFFF) + 0xFEFF
    return ~((total & 0xFFFF) + (total >> 16)) & 0xFFFF


def record_route(pkt: IPv4Packet, address: int) -> bytes | None:
    """New option bytes when ``pkt`` carries a record-route option with room, else None."""
    for i, opt in enumerate(pkt.options):
        if isinstance(opt, RecordRoute):
            if opt.full:
                return None
            options = list(pkt.options)
            options[i] = opt.record(address)
            raw = encode_options(options)
            if len(raw) != pkt.header_length - IPV4_HLEN:
                return None  # would change the header length: leave the packet alone
            return raw
    return None
