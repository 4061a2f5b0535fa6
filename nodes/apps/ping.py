"""A sans-I/O ping client on a :class:`~nodes.stack.host.Host` (like iputils ping):
echo requests with ident/seq/size/DF/TTL, replies and ICMP errors collected with
round-trip times in the host's (virtual) time. ``record_route`` is ``ping -R``."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from nodes.stack.host import Host
from nodes.wire.errors import WireError
from nodes.wire.icmp import IcmpMessage, IcmpType, build_echo, parse_quoted
from nodes.wire.ipv4 import IPProto, IPv4Packet, RecordRoute, encode_options

_ECHO_HDR = struct.Struct("!BBHHH")


@dataclass(frozen=True, slots=True)
class PingReply:
    seq: int
    src: int
    rtt: float
    ttl: int
    size: int  # ICMP data bytes
    route: tuple[int, ...] = ()  # recorded route (ping -R)


@dataclass(frozen=True, slots=True)
class PingError:
    seq: int
    reporter: int  # who sent the ICMP error
    type: int
    code: int
    mtu: int  # next-hop MTU of a frag-needed, else 0
    time: float


def ping_payload(size: int, seq: int) -> bytes:
    pattern = bytes(range(256))
    data = struct.pack("!Q", seq) + pattern * (size // 256 + 1)
    return data[:size]


@dataclass(slots=True, eq=False)
class Ping:
    host: Host
    dst: int
    ident: int = 0x1234
    size: int = 56
    df: bool = False
    ttl: int | None = None
    tos: int = 0
    record_route: bool = False
    sent: dict[int, float] = field(default_factory=dict)
    replies: dict[int, PingReply] = field(default_factory=dict)
    errors: list[PingError] = field(default_factory=list)
    send_failures: int = 0
    _next_seq: int = 1
    _remaining: int = 0
    _interval: float = 1.0
    _next_send: float | None = None

    def __post_init__(self) -> None:
        self.host.add_icmp_listener(self)

    def close(self) -> None:
        self.host.remove_icmp_listener(self)
        self.host.detach(self)

    def send(self, *, now: float, seq: int | None = None) -> int:
        """Send one echo request; returns its sequence number."""
        if seq is None:
            seq = self._next_seq
        self._next_seq = seq + 1
        msg = build_echo(IcmpType.ECHO_REQUEST, self.ident, seq, ping_payload(self.size, seq))
        options = b""
        if self.record_route:
            options = encode_options([RecordRoute(4, (0,) * 9, 39)])
        self.sent[seq] = now
        ok = self.host.output(
            self.dst,
            IPProto.ICMP,
            msg,
            now=now,
            ttl=self.ttl,
            df=self.df,
            tos=self.tos,
            options=options,
        )
        if not ok:
            self.send_failures += 1
        return seq

    def start(self, count: int, *, now: float, interval: float = 1.0) -> None:
        """Send ``count`` requests ``interval`` apart, driven by the host's timers."""
        self._remaining, self._interval = count, interval
        self._next_send = now
        self.host.attach(self)
        self.on_timer(now=now)

    def next_deadline(self) -> float | None:
        return self._next_send if self._remaining > 0 else None

    def on_timer(self, *, now: float) -> None:
        if self._remaining > 0 and self._next_send is not None and self._next_send <= now:
            self._remaining -= 1
            self.send(now=now)
            self._next_send = now + self._interval

    def answered(self, seq: int) -> bool:
        return seq in self.replies or any(e.seq == seq for e in self.errors)

    def on_icmp(self, packet: IPv4Packet, msg: IcmpMessage, *, now: float) -> None:
        if msg.type == IcmpType.ECHO_REPLY:
            if msg.ident != self.ident or msg.seq not in self.sent or msg.seq in self.replies:
                return
            route: tuple[int, ...] = ()
            for opt in packet.options:
                if isinstance(opt, RecordRoute):
                    route = tuple(a for a in opt.route if a)
            self.replies[msg.seq] = PingReply(
                msg.seq,
                packet.src,
                now - self.sent[msg.seq],
                packet.ttl,
                len(msg.payload),
                route,
            )
        elif msg.is_error:
            try:
                quoted = parse_quoted(msg)
            except WireError:
                return
            if quoted.proto != IPProto.ICMP or quoted.dst != self.dst or len(quoted.l4) < 8:
                return
            qtype, _, _, ident, seq = _ECHO_HDR.unpack_from(quoted.l4)
            if qtype != IcmpType.ECHO_REQUEST or ident != self.ident:
                return
            mtu = msg.next_hop_mtu if msg.type == IcmpType.DEST_UNREACH else 0
            self.errors.append(PingError(seq, packet.src, msg.type, msg.code, mtu, now))
