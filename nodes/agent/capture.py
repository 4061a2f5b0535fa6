"""Packet capture for the Capture RPC: a runner tap that turns the frames of one
interface (or all) and direction into pcap records, handed to the gRPC thread through a
bounded queue. The tap sees frames at the wire: egress after the egress faults (what
really left), ingress as read (before the ingress faults), like tcpdump on the device.
A reader too slow for the traffic loses records; they are counted, never buffered
without bound."""

from __future__ import annotations

import contextlib
import queue
import time
from dataclasses import dataclass, field

from nodes.agent import pcap
from nodes.faults import Direction

QUEUE_LIMIT = 20_000
CHUNK_BYTES = 256 * 1024


@dataclass(eq=False)
class CaptureSession:
    iface: str | None  # None: every interface
    direction: Direction  # BOTH: both
    max_packets: int | None
    snaplen: int = pcap.DEFAULT_SNAPLEN
    wall_offset: float = 0.0  # added to the loop clock for pcap timestamps
    records: queue.Queue[bytes | None] = field(default_factory=lambda: queue.Queue(QUEUE_LIMIT))
    captured: int = 0
    dropped: int = 0
    finished: bool = False

    @classmethod
    def for_clock(
        cls, loop_now: float, iface: str | None, direction: Direction, max_packets: int | None,
        snaplen: int = pcap.DEFAULT_SNAPLEN, *, wall_now: float | None = None,
    ) -> CaptureSession:  # fmt: skip
        """Timestamps: the loop clock shifted to ``wall_now`` (the wall clock by default)."""
        wall = time.time() if wall_now is None else wall_now
        return cls(iface, direction, max_packets, snaplen, wall - loop_now)

    def header(self) -> bytes:
        return pcap.global_header(self.snaplen)

    def tap(self, ifname: str, direction: Direction, frame: bytes, now: float) -> None:
        """The runner tap (loop thread)."""
        if self.finished or (self.iface is not None and ifname != self.iface):
            return
        if self.direction is not Direction.BOTH and direction is not self.direction:
            return
        try:
            self.records.put_nowait(pcap.record(now + self.wall_offset, frame, self.snaplen))
        except queue.Full:
            self.dropped += 1
            return
        self.captured += 1
        if self.max_packets is not None and self.captured >= self.max_packets:
            self.finish()

    def finish(self) -> None:
        """No more records; the reader sees the end of the stream."""
        if not self.finished:
            self.finished = True
            with contextlib.suppress(queue.Full):  # the reader also stops on ``finished``
                self.records.put_nowait(None)

    def take(self, wait: float) -> tuple[list[bytes], bool]:
        """Reader thread: records waiting (up to about CHUNK_BYTES), waiting at most
        ``wait`` seconds for the first; and whether the capture has ended."""
        out: list[bytes] = []
        size = 0
        try:
            item = self.records.get(timeout=wait)
            while True:
                if item is None:
                    return out, True
                out.append(item)
                size += len(item)
                if size >= CHUNK_BYTES:
                    break
                item = self.records.get_nowait()
        except queue.Empty:
            pass
        return out, self.finished and self.records.empty()
