"""UDP (RFC 768): bind/demux, checksum verification, port unreachable, and a sans-I/O
socket-like API: ``host.udp.bind(port)`` -> :class:`UdpEndpoint` with ``sendto`` /
``recvfrom`` queues (and the ICMP errors that came back, like IP_RECVERR).

An endpoint's receive queue and error queue share its receive buffer (``rcvbuf`` bytes,
``udp_rmem_default`` = Linux net.core.rmem_default), each datagram charged its payload
plus ``RCV_OVERHEAD`` and each error ``ERR_COST``, what holding them costs (like an
skb's truesize). A datagram that does not fit is dropped (``udp_rcvbuf_errors``), as
Linux does, except that an empty queue always takes one; an error that does not fit is
dropped (``udp_errqueue_drops``), as Linux's sock_queue_err_skb refuses it."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nodes.wire.errors import BadChecksum, WireError
from nodes.wire.icmp import IcmpMessage, IcmpType, QuotedPacket, UnreachCode
from nodes.wire.ipv4 import IPProto, IPv4Packet
from nodes.wire.udp import build_udp, parse_udp

if TYPE_CHECKING:
    from nodes.stack.host import Host

Address = tuple[int, int]  # (ip, port)

# bytes charged per queued datagram on top of its payload: its bytes object, the
# (data, (ip, port)) tuples, the ints and the deque slot (~220 in CPython 3.11)
RCV_OVERHEAD = 256
ERR_COST = 256  # per queued UdpError (the object, its tuple, the deque slot: ~200)


@dataclass(frozen=True, slots=True)
class UdpError:
    """An ICMP error about a datagram this endpoint sent."""

    type: int
    code: int
    dst: Address
    mtu: int
    time: float


class UdpEndpoint:
    def __init__(self, engine: UdpEngine, address: int, port: int, rcvbuf: int) -> None:
        self._engine = engine
        self.address = address  # 0: any local address
        self.port = port
        self.rcvbuf = rcvbuf  # bytes the two queues below may be charged together
        self.rmem = 0  # what they are charged now
        self.queue: deque[tuple[bytes, Address]] = deque()
        self.errors: deque[UdpError] = deque()
        self.closed = False

    def sendto(
        self,
        data: bytes | memoryview,
        dst: Address,
        *,
        now: float,
        ttl: int | None = None,
        df: bool = False,
        tos: int = 0,
        ifname: str | None = None,
    ) -> bool:
        """Send one datagram; False when there is no route (nothing sent). ``ifname``
        sends it on that link without routing (a multicast group or a neighbour there:
        IP_MULTICAST_IF), from that interface's address, TTL 1 unless ``ttl`` says."""
        return self._engine.send(self, data, dst, now=now, ttl=ttl, df=df, tos=tos, ifname=ifname)

    def recvfrom(self) -> tuple[bytes, Address] | None:
        if not self.queue:
            return None
        item = self.queue.popleft()
        self.rmem -= len(item[0]) + RCV_OVERHEAD
        return item

    def recv_error(self) -> UdpError | None:
        """The oldest ICMP error about a datagram this endpoint sent (MSG_ERRQUEUE)."""
        if not self.errors:
            return None
        self.rmem -= ERR_COST
        return self.errors.popleft()

    def close(self) -> None:
        self._engine.unbind(self)
        self.closed = True


class UdpEngine:
    """The UDP transport of one host (registered for protocol 17)."""

    def __init__(self, host: Host) -> None:
        self._host = host
        self._c = host.counter_set
        self._ports: dict[int, UdpEndpoint] = {}
        self._next_ephemeral = host.rng.randrange(*host.config.ip_local_port_range)

    def bind(self, port: int = 0, address: int = 0) -> UdpEndpoint:
        """Bind ``port`` (0: an ephemeral port). Raises ValueError when it is taken."""
        if port == 0:
            port = self._ephemeral()
        if not 0 < port < 65536:
            raise ValueError(f"UDP port {port} is not 1..65535")
        if port in self._ports:
            raise ValueError(f"UDP port {port} is already bound")
        if len(self._ports) >= self._host.config.udp_max_sockets:
            raise ValueError(
                f"{len(self._ports)} UDP sockets are bound: udp_max_sockets reached (EMFILE)"
            )
        ep = UdpEndpoint(self, address, port, self._host.config.udp_rmem_default)
        self._ports[port] = ep
        return ep

    def _ephemeral(self) -> int:
        low, high = self._host.config.ip_local_port_range
        for _ in range(high - low + 1):
            port = self._next_ephemeral
            self._next_ephemeral = low if port >= high else port + 1
            if port not in self._ports:
                return port
        raise ValueError("no free ephemeral UDP port")

    def unbind(self, ep: UdpEndpoint) -> None:
        if self._ports.get(ep.port) is ep:
            del self._ports[ep.port]

    def send(
        self,
        ep: UdpEndpoint,
        data: bytes | memoryview,
        dst: Address,
        *,
        now: float,
        ttl: int | None,
        df: bool,
        tos: int,
        ifname: str | None = None,
    ) -> bool:
        host = self._host
        if ifname is not None:
            segment = build_udp(host.interfaces.get(ifname).address, dst[0], ep.port, dst[1], data)
            ok = host.send_link(
                ifname, dst[0], IPProto.UDP, segment, now=now, ttl=1 if ttl is None else ttl,
                tos=tos,
            )  # fmt: skip
            self._c.inc("udp_out_datagrams" if ok else "udp_out_no_route")
            return ok
        src = ep.address or host.source_address_for(dst[0])
        if src is None:
            self._c.inc("udp_out_no_route")
            return False
        segment = build_udp(src, dst[0], ep.port, dst[1], data)
        ok = host.send_ip(dst[0], IPProto.UDP, segment, now=now, src=src, ttl=ttl, df=df, tos=tos)
        self._c.inc("udp_out_datagrams" if ok else "udp_out_no_route")
        return ok

    # ---- TransportHandler --------------------------------------------------------
    def on_packet(self, packet: IPv4Packet, *, now: float) -> None:
        c = self._c
        try:
            dgram = parse_udp(packet.payload, packet.src, packet.dst)
        except BadChecksum:
            c.inc("udp_in_csum_errors")
            c.inc("udp_in_errors")
            return
        except WireError:
            c.inc("udp_in_errors")
            return
        ep = self._ports.get(dgram.dst_port)
        if ep is None or (ep.address and ep.address != packet.dst):
            c.inc("udp_no_ports")
            quote = bytes(packet.header) + bytes(packet.payload[:8])
            self._host.send_icmp_error(quote, IcmpType.DEST_UNREACH, UnreachCode.PORT, now=now)
            return
        cost = len(dgram.payload) + RCV_OVERHEAD
        if ep.rmem + cost > ep.rcvbuf and ep.queue:  # Linux: an empty queue takes one
            c.inc("udp_rcvbuf_errors")
            c.inc("udp_in_errors")
            return
        c.inc("udp_in_datagrams")
        ep.rmem += cost
        ep.queue.append((bytes(dgram.payload), (packet.src, dgram.src_port)))

    def on_icmp_error(self, msg: IcmpMessage, quoted: QuotedPacket, *, now: float) -> None:
        if quoted.ports is None:
            return
        ep = self._ports.get(quoted.ports[0])
        if ep is None:
            return
        if ep.rmem + ERR_COST > ep.rcvbuf:
            self._c.inc("udp_errqueue_drops")
            return
        mtu = msg.next_hop_mtu if msg.type == IcmpType.DEST_UNREACH else 0
        dst = (quoted.dst, quoted.ports[1])
        ep.rmem += ERR_COST
        ep.errors.append(UdpError(msg.type, msg.code, dst, mtu, now))

    def next_deadline(self) -> float | None:
        return None

    def on_timer(self, *, now: float) -> None:
        return None
