"""In-process ports for :class:`~nodes.io.runner.Runner`: several real-time node loops in
one process (each on its own thread), joined by in-memory links instead of raw sockets.

A :class:`MemPort` is one interface's end of a link. ``send(frame)`` puts the frame in
the inbox of every port the link delivers it to and makes that port's eventfd readable;
the runner's epoll wakes up and calls ``recv_batch``. So an idle lab sleeps in epoll like
a real one, and the agent, faults, taps and timers run exactly as on raw sockets.

    a, b = mem_link()                       # a point-to-point link
    ports = mem_lan(3)                      # a learning switch with three ports

Driven ports (``evented=False``, the virtual-time backend: :mod:`nodes.io.world`) have no
eventfd: a delivered frame calls the port's ``on_frame`` callback instead (the world marks
the receiving node ready), and the driven runner reads ports that have frames pending.

A port's inbox holds at most ``queue_limit`` frames; more are dropped and counted
(``tx_dropped_full`` at the sender, like a full device queue). Thread safety: one thread
sends on a port (its runner) while another reads the peer; deque append/popleft are
atomic, and the eventfd is read *before* the inbox is drained so no wake-up is lost.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields

DEFAULT_QUEUE_LIMIT = 4096


@dataclass(slots=True)
class MemPortCounters:
    rx_frames: int = 0
    rx_bytes: int = 0
    tx_frames: int = 0
    tx_bytes: int = 0
    tx_dropped_full: int = 0  # the receiver's inbox was full
    tx_dropped_closed: int = 0  # the link or the receiver is closed

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class _Medium:
    """What a port's frames travel over: a link (two ports) or a switch (any number)."""

    def __init__(self) -> None:
        self.ports: list[MemPort] = []
        self.macs: dict[bytes, MemPort] = {}
        self._lock = threading.Lock()

    def targets(self, src: MemPort, frame: bytes) -> list[MemPort]:
        ports = self.ports
        if len(ports) == 2:
            return [ports[1] if ports[0] is src else ports[0]]
        with self._lock:  # several runner threads send into one switch
            self.macs[frame[6:12]] = src
            if not frame[0] & 1:
                known = self.macs.get(frame[0:6])
                if known is not None:
                    return [] if known is src else [known]
        return [p for p in ports if p is not src]


class MemPort:
    """One end of an in-memory link; a :class:`~nodes.io.runner.Port`."""

    def __init__(
        self,
        name: str = "mem",
        *,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        evented: bool = True,
        on_frame: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.queue_limit = queue_limit
        self.counters = MemPortCounters()
        self.evented = evented
        self.on_frame = on_frame  # called after a frame was queued (driven ports)
        self._inbox: deque[bytes] = deque()
        self._fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC) if evented else -1
        self._medium: _Medium | None = None
        self._lock = threading.Lock()  # close() vs. a sender signalling the fd
        self.closed = False

    # ---- Port ------------------------------------------------------------------
    def fileno(self) -> int:
        if not self.evented:
            raise ValueError(f"port {self.name} is driven: it has no file descriptor")
        return self._fd

    def recv_batch(self, limit: int) -> list[bytes]:
        if self.evented:
            with contextlib.suppress(BlockingIOError):
                os.eventfd_read(self._fd)  # first: a frame queued from now on signals again
        inbox = self._inbox
        frames: list[bytes] = []
        while inbox and len(frames) < limit:
            frames.append(inbox.popleft())
        if inbox:  # more than ``limit`` waited: stay readable
            with self._lock:
                self._signal()
        c = self.counters
        c.rx_frames += len(frames)
        c.rx_bytes += sum(map(len, frames))
        return frames

    def send(self, frame: bytes) -> bool:
        c = self.counters
        medium = self._medium
        if medium is None or self.closed:
            c.tx_dropped_closed += 1
            return False
        frame = bytes(frame)
        delivered = False
        for port in medium.targets(self, frame):
            if port.deliver(frame):
                delivered = True
            elif port.closed:
                c.tx_dropped_closed += 1
            else:
                c.tx_dropped_full += 1
        if delivered:
            c.tx_frames += 1
            c.tx_bytes += len(frame)
        return delivered

    # ---- the link side ---------------------------------------------------------
    def deliver(self, frame: bytes) -> bool:
        """Queue a frame for this port's runner; False when full or closed."""
        with self._lock:
            if self.closed or len(self._inbox) >= self.queue_limit:
                return False
            self._inbox.append(frame)
            self._signal()
        on_frame = self.on_frame
        if on_frame is not None:
            on_frame()
        return True

    @property
    def pending(self) -> int:
        return len(self._inbox)

    def close(self) -> None:
        """Release the eventfd (after the runner using this port has stopped)."""
        with self._lock:
            if not self.closed:
                self.closed = True
                self._inbox.clear()
                if self.evented:
                    os.close(self._fd)

    def _signal(self) -> None:
        if not self.closed and self.evented:
            os.eventfd_write(self._fd, 1)

    def _join(self, medium: _Medium) -> None:
        if self._medium is not None:
            raise ValueError(f"port {self.name} is already connected")
        self._medium = medium
        medium.ports.append(self)


def connect(*ports: MemPort) -> None:
    """Join ports: two make a point-to-point link, more a learning switch."""
    if len(ports) < 2:
        raise ValueError("a link needs at least two ports")
    medium = _Medium()
    for port in ports:
        port._join(medium)


def mem_link(
    a: str = "a", b: str = "b", *, queue_limit: int = DEFAULT_QUEUE_LIMIT
) -> tuple[MemPort, MemPort]:
    """Two ports joined point to point."""
    pa, pb = MemPort(a, queue_limit=queue_limit), MemPort(b, queue_limit=queue_limit)
    connect(pa, pb)
    return pa, pb


def mem_lan(n: int, *, queue_limit: int = DEFAULT_QUEUE_LIMIT) -> list[MemPort]:
    """``n`` ports on one learning switch."""
    ports = [MemPort(f"lan{i}", queue_limit=queue_limit) for i in range(n)]
    connect(*ports)
    return ports
