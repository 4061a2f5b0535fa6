"""UDP traffic: a paced sender and a counting receiver.

Each datagram the sender emits starts with a 12-byte header -- sequence number (u32)
and send time (float64, the sender's clock) -- padded with pattern bytes to ``size``.
Replies that come back to the sender's port (from an echo server) are matched by
sequence number, giving round-trip times and loss.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from nodes.apps.base import PolledApp, UdpServerApp
from nodes.apps.data import pattern_bytes

if TYPE_CHECKING:
    from nodes.stack.host import Host
    from nodes.stack.udp import Address, UdpEndpoint

HEADER = struct.Struct("!Id")  # seq, send time
MAX_PAYLOAD = 65507


class UdpSender(PolledApp):
    kind = "udp-send"

    def __init__(
        self,
        host: Host,
        dst: int,
        port: int,
        *,
        count: int = 10,
        size: int = 64,
        interval: float = 0.1,
        src_port: int = 0,
        seed: int = 1,
    ) -> None:
        super().__init__(host)
        if not HEADER.size <= size <= MAX_PAYLOAD:
            raise ValueError(f"size must be {HEADER.size}..{MAX_PAYLOAD}, got {size}")
        if count < 0 or interval < 0:
            raise ValueError(f"count and interval must be >= 0, got {count}, {interval}")
        self.dst, self.port = dst, port
        self.count, self.size, self.interval = count, size, interval
        self._src_port = src_port
        self._fill = pattern_bytes(size - HEADER.size, seed)
        self.endpoint: UdpEndpoint | None = None
        self.sent: dict[int, float] = {}  # seq -> send time
        self.rtts: dict[int, float] = {}  # seq -> round trip of its first reply
        self.duplicates = 0
        self.send_failures = 0
        self._t0 = 0.0
        self._next_send: float | None = None

    @property
    def done_sending(self) -> bool:
        return len(self.sent) >= self.count

    @property
    def lost(self) -> int:
        """Datagrams sent with no reply (yet)."""
        return len(self.sent) - len(self.rtts)

    def start(self, *, now: float) -> None:
        self.endpoint = self.host.udp.bind(self._src_port)
        self._t0 = now
        self._next_send = now if self.count else None
        self._attach(now)
        self.on_timer(now=now)

    def close(self, *, now: float) -> None:
        if self.endpoint is not None:
            self.endpoint.close()
        self._next_send = None
        self._detach()

    def _wants_service(self) -> bool:
        return self.endpoint is not None and bool(self.endpoint.queue)

    def _timer_deadline(self) -> float | None:
        return self._next_send

    def _service(self, now: float) -> None:
        ep = self.endpoint
        if ep is None:
            return
        while self._next_send is not None and self._next_send <= now:
            seq = len(self.sent)
            self.sent[seq] = now
            if not ep.sendto(HEADER.pack(seq, now) + self._fill, (self.dst, self.port), now=now):
                self.send_failures += 1
            if self.done_sending:
                self._next_send = None
            elif self.interval > 0:
                self._next_send = self._t0 + len(self.sent) * self.interval
        while (item := ep.recvfrom()) is not None:
            data, _ = item
            if len(data) < HEADER.size:
                continue
            seq, _ = HEADER.unpack_from(data)
            if seq not in self.sent:
                continue
            if seq in self.rtts:
                self.duplicates += 1
            else:
                self.rtts[seq] = now - self.sent[seq]


class UdpReceiver(UdpServerApp):
    """Counts what arrives on ``port`` (per source too), like ``iperf -u -s`` without
    reports. For datagrams carrying the sender's header, ``late`` counts those whose
    sequence number is not above the highest seen from that source (reordered or
    duplicated)."""

    kind = "udp-recv"

    def __init__(self, host: Host, port: int, *, address: int = 0) -> None:
        super().__init__(host, port, address=address)
        self.first: float | None = None
        self.last: float | None = None
        self.per_source: dict[Address, int] = {}
        self.late = 0
        self._highest: dict[Address, int] = {}

    def _datagram(self, ep: UdpEndpoint, data: bytes, src: Address, now: float) -> None:
        self.per_source[src] = self.per_source.get(src, 0) + 1
        if self.first is None:
            self.first = now
        self.last = now
        if len(data) >= HEADER.size:
            seq = HEADER.unpack_from(data)[0]
            if seq <= self._highest.get(src, -1):
                self.late += 1
            else:
                self._highest[src] = seq
