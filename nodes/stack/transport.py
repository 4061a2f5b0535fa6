"""The contract between the IP layer (:class:`~nodes.stack.host.Host`) and transports."""

from __future__ import annotations

from typing import Protocol

from nodes.wire.icmp import IcmpMessage, QuotedPacket
from nodes.wire.ipv4 import IPv4Packet


class TransportHandler(Protocol):
    """A transport protocol (UDP, TCP) registered with ``Host.register_protocol``."""

    def on_packet(self, packet: IPv4Packet, *, now: float) -> None:
        """``packet.payload`` is the whole (reassembled) transport segment."""

    def on_icmp_error(self, msg: IcmpMessage, quoted: QuotedPacket, *, now: float) -> None:
        """An ICMP error whose quoted packet carries this protocol."""

    def next_deadline(self) -> float | None: ...

    def on_timer(self, *, now: float) -> None: ...


class TimerClient(Protocol):
    """Anything with a deadline the host should drive (apps like ping/traceroute)."""

    def next_deadline(self) -> float | None: ...

    def on_timer(self, *, now: float) -> None: ...


class IcmpListener(Protocol):
    """A raw-ICMP-socket-like observer: sees every ICMP message delivered locally."""

    def on_icmp(self, packet: IPv4Packet, msg: IcmpMessage, *, now: float) -> None: ...
