"""A router node: a :class:`~nodes.stack.host.Host` with forwarding on (RFC 1812)."""

from __future__ import annotations

import random
import struct
from dataclasses import replace

from nodes.router.forward import Action, decide, decrement_ttl, record_route, ttl_checksum
from nodes.stack.config import StackConfig
from nodes.stack.host import Host, quote_of
from nodes.stack.interfaces import Interface
from nodes.stack.ipv4 import fragment
from nodes.wire.icmp import IcmpType, TimeExceededCode, UnreachCode
from nodes.wire.ipv4 import (
    IPV4_HLEN,
    IPv4Header,
    IPv4Packet,
    build_ipv4,
    encode_options,
    packet_from_header,
)
from nodes.wire.ipv4 import options_for_fragments as copied_options

_TTL_PROTO_CSUM = struct.Struct("!BBH")  # header bytes 8..11, rewritten when forwarding


class Router(Host):
    def __init__(
        self, name: str, *, config: StackConfig | None = None, rng: random.Random | None = None
    ) -> None:
        super().__init__(name, config=replace(config or StackConfig(), forwarding=True), rng=rng)

    def _forward_plain(
        self, iface: Interface, data: memoryview, h: IPv4Header, *, now: float
    ) -> None:
        """The fast path (a 20-byte header, already verified): what :func:`decide` calls
        FORWARD, with the next hop's link header cached by ARP, goes out as one join of
        that header, the IP header with TTL - 1 and its checksum updated (RFC 1624), and
        the payload; no IPv4Packet, no copy but the output frame. Anything else
        (no route, TTL, MTU, unresolved neighbour, forwarding off) takes :meth:`_forward`."""
        total, ttl, proto, csum, dst = h[2], h[5], h[6], h[7], h[9]
        route = self.fib.lookup(dst)
        if route is not None and ttl > 1 and self.config.forwarding:
            out = self.interfaces.by_name[route.ifname]
            if total <= out.mtu:
                gateway = route.gateway
                hh = self.arp.link_header(out, dst if gateway is None else gateway, now=now)
                if hh is not None:
                    self._cv["ip_forw_datagrams"] += 1
                    tail = _TTL_PROTO_CSUM.pack(ttl - 1, proto, ttl_checksum(csum))
                    self._out.append((out.name, b"".join((hh, data[:8], tail, data[12:total]))))
                    return
        self._forward(iface, packet_from_header(h, data), now=now)

    def _forward(self, iface: Interface, pkt: IPv4Packet, *, now: float) -> None:
        c = self.counter_set
        if not self.config.forwarding:
            c.inc("ip_in_addr_errors")
            return
        d = decide(pkt, self.fib, self.interfaces)
        action = d.action
        if action is Action.NO_ROUTE:
            c.inc("ip_in_no_route")
            self.send_icmp_error(quote_of(pkt), IcmpType.DEST_UNREACH, UnreachCode.NET, now=now)
            return
        if action is Action.TTL_EXCEEDED:
            c.inc("ip_forw_ttl_exceeded")
            c.inc("ip_in_hdr_errors")
            ttl = TimeExceededCode.TTL
            self.send_icmp_error(quote_of(pkt), IcmpType.TIME_EXCEEDED, ttl, now=now)
            return
        out = d.iface
        route = d.route
        assert out is not None and route is not None
        if action is Action.FRAG_NEEDED or action is Action.FRAGMENT:
            self._mtu_exceeded(out, pkt.total_length, now)
        if action is Action.FRAG_NEEDED:
            c.inc("ip_frag_fails")
            code = UnreachCode.FRAG_NEEDED
            self.send_icmp_error(quote_of(pkt), IcmpType.DEST_UNREACH, code, now=now, mtu=out.mtu)
            return
        c.inc("ip_forw_datagrams")
        next_hop = route.next_hop(pkt.dst)
        options = record_route(pkt, out.address) if pkt.options else None
        if action is Action.FORWARD and options is None:
            buf = bytearray(pkt.header)
            buf += pkt.payload
            decrement_ttl(buf)
            self.arp.output(out, next_hop, bytes(buf), now=now)
            return
        first = options if options is not None else bytes(pkt.header[IPV4_HLEN:])
        if action is Action.FORWARD:
            raw = build_ipv4(
                src=pkt.src, dst=pkt.dst, proto=pkt.proto, payload=pkt.payload,
                ttl=pkt.ttl - 1, ident=pkt.ident, tos=pkt.tos, df=pkt.df, mf=pkt.mf,
                frag_offset=pkt.frag_offset, options=first,
            )  # fmt: skip
            self.arp.output(out, next_hop, raw, now=now)
            return
        frags = fragment(
            src=pkt.src, dst=pkt.dst, proto=pkt.proto, payload=pkt.payload, mtu=out.mtu,
            ident=pkt.ident, ttl=pkt.ttl - 1, tos=pkt.tos, first_options=first,
            other_options=encode_options(copied_options(pkt.options)),
            base_offset=pkt.frag_offset, last_mf=pkt.mf,
        )  # fmt: skip
        c.inc("ip_frag_oks")
        c.inc("ip_frag_creates", len(frags))
        for raw in frags:
            self.arp.output(out, next_hop, raw, now=now)
