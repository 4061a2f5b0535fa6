"""A sans-I/O traceroute on a :class:`~nodes.stack.host.Host` (like Linux traceroute):
UDP probes to ports 33434+ (the default) or ICMP echo probes (``-I``), TTL rising from 1,
``probes`` per hop, one probe in flight at a time, ``wait`` seconds before giving up on a
probe. Each hop records who answered and the round-trip time in virtual time. It ends
when the destination answers (port unreachable / echo reply) or at ``max_hops``."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from nodes.stack.host import Host
from nodes.wire.errors import WireError
from nodes.wire.icmp import IcmpMessage, IcmpType, build_echo, parse_quoted
from nodes.wire.ipv4 import IPProto, IPv4Packet
from nodes.wire.udp import build_udp

_ECHO_HDR = struct.Struct("!BBHHH")


@dataclass(frozen=True, slots=True)
class Probe:
    ttl: int
    reporter: int | None  # None: no answer within ``wait`` ("*")
    rtt: float | None
    type: int = -1
    code: int = -1


@dataclass(slots=True, eq=False)
class Traceroute:
    host: Host
    dst: int
    method: str = "udp"  # "udp" or "icmp"
    max_hops: int = 30
    probes: int = 1
    wait: float = 1.0
    first_port: int = 33434
    src_port: int = 0  # UDP source port; 0: derived from ident
    ident: int = 0x4242
    size: int = 32  # probe data bytes
    results: list[Probe] = field(default_factory=list)
    done: bool = False
    reached: bool = False
    _index: int = -1
    _sent_at: float = 0.0
    _deadline: float | None = None

    def start(self, *, now: float) -> None:
        if self.method not in ("udp", "icmp"):
            raise ValueError(f"traceroute method must be 'udp' or 'icmp', not {self.method!r}")
        if not self.src_port:
            self.src_port = 32768 + (self.ident & 0x7FFF)
        self.host.add_icmp_listener(self)
        self.host.attach(self)
        self._send_next(now=now)

    def hops(self) -> list[int | None]:
        """One address per TTL: the first probe's responder at that TTL (None = '*')."""
        by_ttl: dict[int, int | None] = {}
        for p in self.results:
            if by_ttl.get(p.ttl) is None:
                by_ttl[p.ttl] = p.reporter
        return [by_ttl[t] for t in sorted(by_ttl)]

    def _ttl_of(self, index: int) -> int:
        return 1 + index // self.probes

    def _send_next(self, *, now: float) -> None:
        nxt = self._index + 1
        ttl = self._ttl_of(nxt)
        new_hop = nxt % self.probes == 0
        if new_hop and (self.reached or ttl > self.max_hops):
            self._finish()
            return
        self._index = nxt
        self._sent_at = now
        self._deadline = now + self.wait
        data = bytes(self.size)
        if self.method == "udp":
            src = self.host.source_address_for(self.dst) or 0
            payload = build_udp(src, self.dst, self.src_port, self.first_port + nxt, data)
            proto = IPProto.UDP
        else:
            payload = build_echo(IcmpType.ECHO_REQUEST, self.ident, nxt + 1, data)
            proto = IPProto.ICMP
        if not self.host.send_ip(self.dst, proto, payload, now=now, ttl=ttl):
            self._record(None, None, -1, -1)
            self._send_next(now=now)

    def _finish(self) -> None:
        self.done = True
        self._deadline = None
        self.host.remove_icmp_listener(self)
        self.host.detach(self)

    def _record(self, reporter: int | None, rtt: float | None, type_: int, code: int) -> None:
        self.results.append(Probe(self._ttl_of(self._index), reporter, rtt, type_, code))

    def next_deadline(self) -> float | None:
        return self._deadline

    def on_timer(self, *, now: float) -> None:
        if self._deadline is not None and self._deadline <= now:
            self._record(None, None, -1, -1)
            self._send_next(now=now)

    def _probe_index(self, msg: IcmpMessage) -> int | None:
        """Which probe an ICMP message answers, or None when it is not ours."""
        if msg.type == IcmpType.ECHO_REPLY:
            if self.method == "icmp" and msg.ident == self.ident:
                return msg.seq - 1
            return None
        if not msg.is_error:
            return None
        try:
            quoted = parse_quoted(msg)
        except WireError:
            return None
        if quoted.dst != self.dst:
            return None
        if self.method == "udp" and quoted.proto == IPProto.UDP and quoted.ports is not None:
            if quoted.ports[0] == self.src_port:
                return quoted.ports[1] - self.first_port
            return None
        if self.method == "icmp" and quoted.proto == IPProto.ICMP and len(quoted.l4) >= 8:
            qtype, _, _, ident, seq = _ECHO_HDR.unpack_from(quoted.l4)
            if qtype == IcmpType.ECHO_REQUEST and ident == self.ident:
                return int(seq) - 1
        return None

    def on_icmp(self, packet: IPv4Packet, msg: IcmpMessage, *, now: float) -> None:
        if self.done or self._probe_index(msg) != self._index:
            return
        self._record(packet.src, now - self._sent_at, msg.type, msg.code)
        if msg.type != IcmpType.TIME_EXCEEDED:
            self.reached = True  # the destination (or an unreachable error) ends the trace
        self._send_next(now=now)
